// Both roles in one C# program: the host approves through a .NET event, the
// helper polls three frames and prints the session's statistics. Build and run with Mono:
//   mcs -out:example.exe ../src/*.cs Program.cs && LD_LIBRARY_PATH=../../../target/debug mono example.exe
using System;
using Ra;

static class Program
{
    static int Main()
    {
        // An exception thrown in a callback (here: the host's event handler) is
        // caught before it reaches native code and reported here.
        Library.UnhandledCallbackException += (sender, args) =>
            Console.Error.WriteLine(args.Callback + " threw: " + args.Exception.Message);
        try
        {
            using (var host = Host.Invite("C# example", "127.0.0.1:0"))
            {
                host.EventReceived += (sender, args) =>
                {
                    Console.WriteLine("host: " + args.Event.Description);
                    if (args.Event.Kind == HostEventKind.ConnectionRequest) host.Approve(args.Event.Connection);
                };
                using (var invitation = host.Invitation)
                using (var helper = Helper.Accept(invitation, host.Password))
                {
                    int frames = 0;
                    foreach (var e in helper.Events(TimeSpan.FromSeconds(10)))
                    {
                        if (e.Frame == null) continue;
                        Console.WriteLine("helper: frame " + e.Frame.Width + "x" + e.Frame.Height);
                        if (++frames == 3) break;
                    }
                    Console.WriteLine("helper: " + helper.Stats());
                }
            }
            return 0;
        }
        catch (RaException e)
        {
            Console.Error.WriteLine(e.Name + ": " + e.Message);
            return 1;
        }
    }
}
