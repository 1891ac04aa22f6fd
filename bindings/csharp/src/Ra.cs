// The ra C API for .NET (Mono and .NET 8): SafeHandles, exceptions carrying
// the result code, events by polling (NextEvent / Events) or as .NET events
// (EventReceived, raised on the library's callback thread). This file: the
// result codes, the exceptions, the version check, logging and the policy
// for exceptions thrown in callbacks. The rest: RaEvents.cs (events, frames,
// input, stats), RaInvitation.cs (policy, invitations, broker), RaBackends.cs
// (capturer, encoder, injector, screen, desk), RaHost.cs, RaHelper.cs.
using System;
using System.Threading;
using Ra.Interop;

namespace Ra
{
    /// <summary>The library's result codes (stable numbers; see ra.h).</summary>
    public enum Result : uint
    {
        /// <summary>Success.</summary>
        Ok = 0,
        /// <summary>Nothing happened before the timeout; not a failure.</summary>
        Timeout = 1,
        /// <summary>No more events will come.</summary>
        Closed = 2,
        /// <summary>A required pointer was NULL.</summary>
        NullPointer = 100,
        /// <summary>Not a live handle of the expected type.</summary>
        InvalidHandle = 101,
        /// <summary>A string is not valid UTF-8.</summary>
        InvalidUtf8 = 102,
        /// <summary>An argument is out of range or malformed.</summary>
        InvalidArgument = 103,
        /// <summary>The caller's buffer is too small.</summary>
        BufferTooSmall = 104,
        /// <summary>The object cannot do this now.</summary>
        InvalidState = 105,
        /// <summary>The call would block a thread that must not block.</summary>
        WrongThread = 106,
        /// <summary>Not supported by this build or in this process.</summary>
        Unsupported = 107,
        /// <summary>An invitation file or token is malformed.</summary>
        InvalidInvitation = 200,
        /// <summary>The invitation has expired.</summary>
        InvitationExpired = 201,
        /// <summary>A typed password is malformed.</summary>
        InvalidPassword = 202,
        /// <summary>A policy is malformed or out of range.</summary>
        InvalidPolicy = 203,
        /// <summary>Reading or writing a file failed.</summary>
        Io = 204,
        /// <summary>The invitation email could not be built.</summary>
        Email = 205,
        /// <summary>A typed short code is malformed.</summary>
        InvalidCode = 206,
        /// <summary>A consent receipt is malformed, altered, or not what was asked (another host,
        /// session or organisation).</summary>
        InvalidReceipt = 207,
        /// <summary>An audit log's hash chain is broken or cut short.</summary>
        AuditLogBroken = 208,
        /// <summary>A resume ticket cannot be used: truncated, not a ticket, or sealed with another
        /// key (another host's, or altered).</summary>
        TicketInvalid = 209,
        /// <summary>A resume ticket expired.</summary>
        TicketExpired = 210,
        /// <summary>A resume ticket was used already.</summary>
        TicketUsed = 211,
        /// <summary>The host's policy forbids it.</summary>
        Policy = 300,
        /// <summary>The listening address could not be bound.</summary>
        Bind = 301,
        /// <summary>No network address to put in the invitation.</summary>
        NoAddress = 302,
        /// <summary>TLS could not be set up.</summary>
        Tls = 303,
        /// <summary>The broker could not be reached or answered nonsense.</summary>
        Broker = 304,
        /// <summary>The broker refused to register a code.</summary>
        BrokerRefused = 305,
        /// <summary>Opening the invitation failed for another reason.</summary>
        InviteFailed = 399,
        /// <summary>The password is wrong.</summary>
        WrongPassword = 400,
        /// <summary>The host denied the connection, did not answer in time, or is busy.</summary>
        Denied = 401,
        /// <summary>The host no longer takes connections for this invitation.</summary>
        InvitationClosed = 402,
        /// <summary>The host does not know this invitation.</summary>
        UnknownSession = 403,
        /// <summary>The host's certificate does not match the invitation.</summary>
        CertificateMismatch = 404,
        /// <summary>No address of the invitation answered.</summary>
        Unreachable = 405,
        /// <summary>The connection was lost.</summary>
        ConnectionLost = 406,
        /// <summary>The peer broke the protocol or speaks another version.</summary>
        Protocol = 407,
        /// <summary>The broker does not know the code.</summary>
        CodeUnavailable = 408,
        /// <summary>Too many attempts from this address.</summary>
        RateLimited = 409,
        /// <summary>The code's secret part is wrong.</summary>
        WrongCode = 410,
        /// <summary>Nobody used the code before it expired.</summary>
        CodeExpired = 411,
        /// <summary>Too many wrong attempts: the code is closed.</summary>
        TooManyFailures = 412,
        /// <summary>Accepting failed for another reason.</summary>
        AcceptFailed = 499,
        /// <summary>There is no such session.</summary>
        NoSession = 500,
        /// <summary>The command does not fit the session's state.</summary>
        NotNow = 501,
        /// <summary>The helper does not hold a control grant.</summary>
        NotControlling = 502,
        /// <summary>The session's engine has stopped.</summary>
        SessionClosed = 503,
        /// <summary>The command failed for another reason.</summary>
        CommandFailed = 599,
        /// <summary>A backend failed.</summary>
        Backend = 600,
        /// <summary>A panic inside the library was caught at the boundary.</summary>
        Panic = 900,
        /// <summary>An internal error (a bug).</summary>
        Internal = 901,
        /// <summary>The library's runtime could not be started.</summary>
        Runtime = 902,
    }

    /// <summary>A failed call: the code, its name and the library's message (the detail of the failure).</summary>
    public class RaException : Exception
    {
        /// <summary>The result code.</summary>
        public Result Code { get; }
        /// <summary>The code's constant name ("RA_RESULT_WRONG_PASSWORD").</summary>
        public string Name { get; }

        /// <summary>An exception for `code` with the library's `message`.</summary>
        public RaException(uint code, string message) : base(message)
        {
            Code = (Result)code;
            Name = Utf8.Read(N.ra_result_name(code));
        }

        /// <summary>For exceptions raised by the binding itself, without asking the library.</summary>
        protected RaException(Result code, string name, string message) : base(message)
        {
            Code = code;
            Name = name;
        }

        internal static void Check(uint result)
        {
            if (result != 0) throw new RaException(result, Utf8.Read(N.ra_last_error_message()));
        }

        internal static string TakeString(IntPtr text)
        {
            try { return Utf8.Read(text) ?? ""; } finally { N.ra_string_free(text); }
        }
    }

    /// <summary>The libra_ffi loaded is not one this binding can use (another major version,
    /// or while the major version is 0 another minor one). Thrown by the first use of the
    /// library, and by every later one.</summary>
    public sealed class IncompatibleLibraryException : RaException
    {
        /// <summary>The version this binding was made for (Library.BindingVersion).</summary>
        public string BindingVersion { get; }
        /// <summary>The version of the library loaded (its ra_version()).</summary>
        public string LibraryVersion { get; }

        internal IncompatibleLibraryException(string binding, string library)
            : base(Result.Unsupported, "RA_RESULT_UNSUPPORTED",
                   "incompatible libra_ffi: the C# binding Ra " + binding + " needs libra_ffi " +
                   Library.CompatibleRange(binding) + ", but the library loaded is version " + library)
        {
            BindingVersion = binding;
            LibraryVersion = library;
        }
    }

    /// <summary>The library's log levels (RA_LOG_*).</summary>
    public enum LogLevel : uint
    {
        /// <summary>Nothing is logged.</summary>
        Off = 0,
        /// <summary>Errors only.</summary>
        Error = 1,
        /// <summary>Warnings and errors.</summary>
        Warn = 2,
        /// <summary>Informational messages and above.</summary>
        Info = 3,
        /// <summary>Debugging messages and above.</summary>
        Debug = 4,
        /// <summary>Everything.</summary>
        Trace = 5,
    }

    /// <summary>Receives one log line: its level, where it came from (a module of the
    /// library, or an origin given to Library.Log, "ra.csharp" for this binding) and the text.</summary>
    public delegate void LogHandler(LogLevel level, string target, string message);

    /// <summary>An exception a user's callback threw (an injector, capturer, encoder, event
    /// or log handler), caught before it could reach native code.</summary>
    public sealed class UnhandledCallbackExceptionEventArgs : EventArgs
    {
        /// <summary>The exception.</summary>
        public Exception Exception { get; internal set; }
        /// <summary>Which callback threw ("Injector.Inject", "Host.EventReceived", …).</summary>
        public string Callback { get; internal set; }
    }

    /// <summary>The library as a whole: versions, result names, logging, and what becomes
    /// of exceptions thrown in callbacks.</summary>
    public static class Library
    {
        /// <summary>The version of libra_ffi this binding was made for (RA_VERSION of ra.h;
        /// also the package's version).</summary>
        public const string BindingVersion = "0.1.0";

        /// <summary>The version of the library loaded (ra_version()); read without the version check.</summary>
        public static string Version => Utf8.Read(N.ra_version());

        /// <summary>Whether a library of version `library` can serve a binding made for
        /// `binding`: the same major version, and while it is 0 the same minor one.</summary>
        public static bool IsCompatible(string binding, string library)
        {
            int[] b = Parse(binding), l = Parse(library);
            if (b == null || l == null) return false;
            return b[0] == l[0] && (b[0] != 0 || b[1] == l[1]);
        }

        static int[] Parse(string version)
        {
            if (version == null) return null;
            var core = version.Split('-', '+')[0].Split('.');
            if (core.Length != 3) return null;
            var numbers = new int[3];
            for (int i = 0; i < 3; i++)
                if (!int.TryParse(core[i], out numbers[i]) || numbers[i] < 0) return null;
            return numbers;
        }

        internal static string CompatibleRange(string binding)
        {
            var b = Parse(binding);
            return b == null ? binding : b[0] == 0 ? "0." + b[1] + ".x" : b[0] + ".x";
        }

        /// <summary>The constant's name of a result code ("RA_RESULT_OK").</summary>
        public static string ResultName(uint code)
        {
            Loader.Ensure();
            return Utf8.Read(N.ra_result_name(code));
        }

        /// <summary>A short English message for a result code ("wrong password").</summary>
        public static string ResultMessage(Result code)
        {
            Loader.Ensure();
            return Utf8.Read(N.ra_result_message((uint)code));
        }

        /// <summary>Arms a one-time panic inside the library (ra_debug_inject_panic; for tests
        /// of error handling): 1 the next call, 2 the next backend callback, 0 disarms.</summary>
        public static uint InjectPanic(uint point)
        {
            Loader.Ensure();
            return N.ra_debug_inject_panic(point);
        }

        static readonly object LogGate = new object();
        // The current callback and the one before it (a call of it may still be running):
        // referenced here so the GC keeps them while the library may call them.
        static readonly LogFn[] KeptLogCallbacks = new LogFn[2];

        /// <summary>Sends the library's log lines up to `maxLevel` to `handler`, on whichever
        /// thread logged (it must be thread-safe and quick, and must not call blocking
        /// functions of the library); null or LogLevel.Off stops logging. Process-wide.</summary>
        public static void SetLogCallback(LogHandler handler, LogLevel maxLevel)
        {
            Loader.Ensure();
            lock (LogGate)
            {
                LogFn callback = null;
                if (handler != null && maxLevel != LogLevel.Off)
                {
                    callback = (userData, level, target, message) =>
                    {
                        try { handler((LogLevel)level, Utf8.Read(target), Utf8.Read(message)); }
                        catch (Exception e) { ReportCallbackException("Library.SetLogCallback handler", e); }
                    };
                }
                RaException.Check(N.ra_set_log_callback(callback, IntPtr.Zero, callback == null ? 0 : (uint)maxLevel));
                KeptLogCallbacks[1] = KeptLogCallbacks[0];
                KeptLogCallbacks[0] = callback;
            }
        }

        /// <summary>Writes a line into the library's log (what the log callback receives) at
        /// `level`, as coming from `origin` (null: "app").</summary>
        public static void Log(LogLevel level, string origin, string message)
        {
            Loader.Ensure();
            RaException.Check(N.ra_log_message((uint)level, Utf8.Z(origin), Utf8.Z(message)));
        }

        /// <summary>Raised when a user's callback the library called (an Injector, Capturer or
        /// Encoder method, an EventReceived handler, a log handler) threw. The exception never
        /// reaches native code: it is caught, written to the library's log at Error level as
        /// coming from "ra.csharp", the callback reports a failure to the library where it
        /// returns a result (the host then gets a BackendError event), and this event is
        /// raised on the thread of the callback. Without any handler, the exception is also
        /// written to standard error.</summary>
        public static event EventHandler<UnhandledCallbackExceptionEventArgs> UnhandledCallbackException;

        /// <summary>The exception policy above, in one place.</summary>
        internal static void ReportCallbackException(string callback, Exception exception)
        {
            var text = callback + " threw " + exception;
            try { N.ra_log_message((uint)LogLevel.Error, Utf8.Z("ra.csharp"), Utf8.Z(text)); }
            catch (Exception) { } // the log itself failed: the event below still says it
            var handlers = UnhandledCallbackException;
            if (handlers == null)
            {
                try { Console.Error.WriteLine("ra: " + text); } catch (Exception) { }
                return;
            }
            var args = new UnhandledCallbackExceptionEventArgs { Exception = exception, Callback = callback };
            foreach (EventHandler<UnhandledCallbackExceptionEventArgs> handler in handlers.GetInvocationList())
            {
                try { handler(null, args); }
                catch (Exception e)
                {
                    try { N.ra_log_message((uint)LogLevel.Error, Utf8.Z("ra.csharp"), Utf8.Z("an UnhandledCallbackException handler threw " + e)); }
                    catch (Exception) { }
                }
            }
        }

        internal static uint Millis(TimeSpan t) =>
            t == Timeout.InfiniteTimeSpan ? uint.MaxValue : (uint)Math.Max(0, Math.Min(t.TotalMilliseconds, uint.MaxValue - 1));

        internal static ulong PositiveMillis(TimeSpan t) => (ulong)Math.Max(0, Math.Ceiling(t.TotalMilliseconds));
    }
}
