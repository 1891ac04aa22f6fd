// A tiny test runner: every public static void method named Test* of
// SessionTests runs; the summary line is the plain "N passed, M failed".
// Other modes, each a separate process (see step.sh):
//   RaTests.exe incompatible   run against RA_TEST_INCOMPATIBLE_LIBRARY's
//                              directory: the library must be refused
//   RaTests.exe log-injector   a host with the log injector (the parent test
//                              reads what it prints; stdin ends it)
using System;
using System.Linq;
using System.Reflection;
using Ra;

static class Runner
{
    static int Main(string[] args)
    {
        if (args.Length == 1 && args[0] == "incompatible") return Incompatible();
        if (args.Length == 1 && args[0] == "log-injector") return SessionTests.LogInjectorChild();
        int passed = 0, failed = 0;
        var only = Environment.GetEnvironmentVariable("RA_CSHARP_TESTS"); // a name filter, for debugging
        foreach (var test in typeof(SessionTests).GetMethods(BindingFlags.Public | BindingFlags.Static)
                     .Where(m => m.Name.StartsWith("Test") && (only == null || m.Name.Contains(only))))
        {
            var started = DateTime.UtcNow;
            try
            {
                test.Invoke(null, null);
                passed++;
                Console.WriteLine("ok   " + test.Name + " (" + (DateTime.UtcNow - started).TotalSeconds.ToString("0.0") + " s)");
            }
            catch (TargetInvocationException e)
            {
                failed++;
                Console.WriteLine("FAIL " + test.Name + ": " + e.InnerException);
            }
        }
        Console.WriteLine(passed + " passed, " + failed + " failed");
        return failed == 0 && passed > 0 ? 0 : 1;
    }

    /// The library loaded says 99.0.0: the first use of the binding, and every
    /// later one, is refused with IncompatibleLibraryException naming both
    /// versions (not a TypeInitializationException, not a missing symbol).
    static int Incompatible()
    {
        int passed = 0;
        Action[] uses =
        {
            () => new Policy().Dispose(),
            () => Host.Invite("refused", "127.0.0.1:0").Dispose(),
            () => Invitation.FromToken("ra1-x").Dispose(),
        };
        foreach (var use in uses)
        {
            try
            {
                use();
                Console.WriteLine("FAIL the incompatible library was used");
            }
            catch (IncompatibleLibraryException e)
            {
                Console.WriteLine(e.GetType().FullName + ": " + e.Message);
                if (e.LibraryVersion == "99.0.0" && e.BindingVersion == Library.BindingVersion &&
                    e.Message.Contains("99.0.0") && e.Message.Contains(Library.BindingVersion) && e.Code == Result.Unsupported)
                    passed++;
                else
                    Console.WriteLine("FAIL the exception does not name both versions");
            }
            catch (Exception e)
            {
                Console.WriteLine("FAIL " + e);
            }
        }
        Console.WriteLine("library version " + Library.Version);
        Console.WriteLine(passed + " passed, " + (uses.Length - passed) + " failed");
        return passed == uses.Length ? 0 : 1;
    }
}
