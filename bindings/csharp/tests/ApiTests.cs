// The rest of the C API through the binding, each checked by its effect: the
// version check, result messages, the policy, invitation forms and options,
// accept options, managed capturer and encoder, the built-in injectors,
// statistics, logging, the audit log, and what becomes of exceptions thrown
// in callbacks.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using Ra;

/// A solid colour, a frame only when it changed (or was invalidated), one
/// display, and the pointer when the test moves it.
class PaintCapturer : Capturer
{
    public const uint W = 320, H = 240;
    readonly object gate = new object();
    byte[] pixels;
    bool dirty = true, cursorPending;
    public int Frames, Released;
    public readonly byte[] Shape = new byte[8 * 6 * 4];

    public PaintCapturer(byte b, byte g, byte r)
    {
        Paint(b, g, r);
        for (int i = 0; i < 8 * 6; i++)
            if (i % 3 != 0) { Shape[i * 4] = (byte)(i * 5); Shape[i * 4 + 1] = (byte)(255 - i); Shape[i * 4 + 2] = (byte)i; Shape[i * 4 + 3] = 255; }
    }

    public void Paint(byte b, byte g, byte r)
    {
        var next = new byte[W * H * 4]; // a new array: the one lent to the library stays as it was
        for (int i = 0; i < next.Length; i += 4) { next[i] = b; next[i + 1] = g; next[i + 2] = r; next[i + 3] = 255; }
        lock (gate) { pixels = next; dirty = true; Monitor.PulseAll(gate); }
    }

    public void MoveCursor()
    {
        lock (gate) { cursorPending = true; Monitor.PulseAll(gate); }
    }

    public override Frame NextFrame(TimeSpan timeout)
    {
        lock (gate)
        {
            if (!dirty && !cursorPending) Monitor.Wait(gate, timeout);
            if (!dirty) return null; // the pointer alone: Cursor reports it now
            dirty = false;
            Frames++;
            return new Frame { Width = W, Height = H, Pixels = pixels };
        }
    }

    public override void Invalidate()
    {
        lock (gate) { dirty = true; Monitor.PulseAll(gate); }
    }

    public override DisplayInfo[] Displays() =>
        new[] { new DisplayInfo { Id = 0, Name = "C# display", Bounds = new Rect(0, 0, W, H), Primary = true } };

    public override CursorUpdate Cursor()
    {
        lock (gate)
        {
            if (!cursorPending) return null;
            cursorPending = false;
        }
        return new CursorUpdate { X = 123, Y = 45, Visible = true, Shape = new CursorShape { Width = 8, Height = 6, HotX = 3, HotY = 2, Pixels = Shape } };
    }

    protected override void OnReleased() { Interlocked.Increment(ref Released); }
}

/// Counts its calls, keeps the first frame, and encodes every frame as an
/// I_PCM keyframe (PcmH264.cs); throws on its first call when asked to.
class CountingEncoder : Encoder
{
    public int Calls, Forced, Released;
    public uint Bitrate;
    public Frame First;
    public bool ThrowFirst;

    public override EncodedFrame Encode(Frame frame, bool forceKeyframe)
    {
        int call;
        lock (this)
        {
            call = ++Calls;
            if (forceKeyframe) Forced++;
            if (First == null) First = frame;
            Monitor.PulseAll(this);
        }
        if (ThrowFirst && call == 1) throw new InvalidOperationException("encoder boom");
        return new EncodedFrame { Data = PcmH264.EncodeIdr(frame.Pixels, (int)frame.Width, (int)frame.Height, call), Keyframe = true };
    }

    public override void SetBitrate(uint bitsPerSecond) { Bitrate = bitsPerSecond; }
    protected override void OnReleased() { Interlocked.Increment(ref Released); }
}

class ThrowingCapturer : Capturer
{
    public override DisplayInfo[] Displays() { throw new InvalidOperationException("capturer boom"); }
    public override Frame NextFrame(TimeSpan timeout) => null;
}

class ThrowingInjector : Injector
{
    public override void Inject(InputEvent inputEvent) { throw new InvalidOperationException("injector boom"); }
}

static partial class SessionTests
{
    static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    /// Waits (Monitor.Wait on `gate`, which the producer pulses) until `done`.
    static void Until(object gate, Func<bool> done, string what)
    {
        var deadline = DateTime.UtcNow + Wait;
        lock (gate)
        {
            while (!done())
            {
                var left = deadline - DateTime.UtcNow;
                Assert.True(left > TimeSpan.Zero, "timed out waiting for " + what);
                Monitor.Wait(gate, left);
            }
        }
    }

    /// A helper let in by `host` (accepting on another thread, approving here).
    static Helper Join(Host host, string name = "C# helper")
    {
        string token;
        using (var invitation = host.Invitation) token = invitation.Token;
        var password = host.Password;
        Helper helper = null;
        Exception failure = null;
        var accepting = new Thread(() =>
        {
            try { using (var inv = Invitation.FromToken(token)) helper = Helper.Accept(inv, password, name); }
            catch (Exception e) { failure = e; }
        });
        accepting.Start();
        var request = WaitHost(host.Events(Wait).GetEnumerator(), HostEventKind.ConnectionRequest);
        host.Approve(request.Connection);
        Assert.True(accepting.Join(Wait), "accept returned");
        if (failure != null) throw failure;
        return helper;
    }

    static void GrantControl(Host host, Helper helper)
    {
        helper.RequestControl();
        host.GrantControl(WaitHost(host.Events(Wait).GetEnumerator(), HostEventKind.ControlRequested).Connection);
        WaitHelper(helper.Events(Wait).GetEnumerator(), HelperEventKind.ControlGranted);
    }

    static string Root()
    {
        var dir = Environment.CurrentDirectory; // run.sh runs from the working tree
        Assert.True(File.Exists(Path.Combine(dir, "include/ra.h")), "run from the working tree (include/ra.h): " + dir);
        return dir;
    }

    static bool Close(byte a, byte b) => Math.Abs(a - b) <= 12;

    public static void TestVersionCheck()
    {
        var root = Root();
        var header = Regex.Match(File.ReadAllText(Path.Combine(root, "include/ra.h")), "#define RA_VERSION \"([^\"]+)\"").Groups[1].Value;
        var package = Regex.Match(File.ReadAllText(Path.Combine(root, "bindings/csharp/Ra.csproj")), "<Version>([^<]+)</Version>").Groups[1].Value;
        Assert.True(Library.BindingVersion == header, "binding " + Library.BindingVersion + ", ra.h " + header);
        Assert.True(Library.BindingVersion == package, "binding " + Library.BindingVersion + ", Ra.csproj " + package);
        Assert.True(Library.IsCompatible(Library.BindingVersion, Library.Version), "the library loaded: " + Library.Version);
        Assert.True(Library.IsCompatible("0.1.0", "0.1.9") && !Library.IsCompatible("0.1.0", "0.2.0"), "0.x: the minor counts");
        Assert.True(Library.IsCompatible("1.2.0", "1.9.3") && !Library.IsCompatible("1.2.0", "2.0.0"), "1.x: the major counts");
        Assert.True(!Library.IsCompatible("0.1.0", "99.0.0") && !Library.IsCompatible("0.1.0", "garbage"), "refused");
    }

    public static void TestResultMessages()
    {
        Assert.True(Library.ResultMessage(Result.WrongPassword) == "wrong password", Library.ResultMessage(Result.WrongPassword));
        Assert.True(Library.ResultMessage((Result)12345) == "unknown result code", "unknown");
    }

    public static void TestPolicyRoundTripsThroughToml()
    {
        using (var policy = new Policy())
        {
            var s = policy.Settings;
            Assert.True(s.AllowAssistance && s.AllowControl && !s.AllowClipboard, "defaults");
            Assert.True(s.MaxInvitationLifetime == TimeSpan.FromHours(6) && s.ApprovalTimeout == TimeSpan.FromSeconds(60), "default times");
            policy.Settings = new PolicySettings
            {
                AllowAssistance = true, AllowControl = false, AllowClipboard = true,
                MaxInvitationLifetime = TimeSpan.FromMinutes(90), ApprovalTimeout = TimeSpan.FromSeconds(45),
            };
            var toml = policy.ToToml();
            Assert.True(toml.Contains("allow_control = false"), "toml: " + toml);
            var file = Path.GetTempFileName();
            try
            {
                File.WriteAllText(file, toml);
                using (var loaded = Policy.Load(file))
                using (var parsed = new Policy(toml))
                {
                    foreach (var back in new[] { loaded.Settings, parsed.Settings })
                    {
                        Assert.True(back.AllowAssistance && !back.AllowControl && back.AllowClipboard, "flags back");
                        Assert.True(back.MaxInvitationLifetime == TimeSpan.FromMinutes(90) && back.ApprovalTimeout == TimeSpan.FromSeconds(45), "times back");
                    }
                }
            }
            finally { File.Delete(file); }
            Assert.True(Assert.Throws(() => Policy.Load("/nonexistent/policy.toml")).Code == Result.Io, "missing file");
            var zero = policy.Settings;
            zero.MaxInvitationLifetime = TimeSpan.Zero;
            Assert.True(Assert.Throws(() => policy.Settings = zero).Code == Result.InvalidPolicy, "zero lifetime");
            Assert.True(policy.Settings.MaxInvitationLifetime == TimeSpan.FromMinutes(90), "unchanged");
        }
    }

    public static void TestInvitationFormsAndOptions()
    {
        var options = new InviteOptions { HostName = "C# forms", Listen = "127.0.0.1:0", Lifetime = TimeSpan.FromMinutes(10) };
        // Nobody answers there: the helper gives up after its connect timeout.
        options.Addresses.Add("127.0.0.1:9");
        options.Addresses.Add("192.0.2.7:4433");
        using (var host = Host.Invite(options))
        using (var invitation = host.Invitation)
        {
            Assert.True(host.Port != 0, "port");
            var info = invitation.Info;
            Assert.True(info.HostName == "C# forms" && info.AddressCount == 2 && info.SessionId.Length > 0, "info");
            Assert.True(Math.Abs((info.ExpiresAt - info.CreatedAt).TotalSeconds - 600) <= 1, "lifetime " + (info.ExpiresAt - info.CreatedAt));
            var file = invitation.ToFileString();
            Assert.True(file.Contains("192.0.2.7:4433") && !file.Contains(":" + host.Port + "\""), "the addresses given: " + file);
            using (var parsed = Invitation.Parse(file))
                Assert.True(parsed.Info.SessionId == info.SessionId && parsed.Token == invitation.Token, "parsed back");
            Assert.True(Assert.Throws(() => Invitation.Parse(new byte[] { 1, 2, 3 })).Code == Result.InvalidInvitation, "garbage");
            var email = invitation.ToEmail("host@example.com", new[] { "helper@example.com" }, "Help me, C#");
            Assert.True(email.Contains("helper@example.com") && email.Contains("Help me, C#") && email.Contains(invitation.Token.Substring(0, 20)), "email");
            Assert.True(!email.Contains(host.Password), "no password in the email");
            Assert.True(Assert.Throws(() => invitation.ToEmail("not an address", new string[0])).Code == Result.Email, "bad from");
            var mailto = invitation.Mailto(new[] { "helper@example.com" });
            Assert.True(mailto.StartsWith("mailto:helper@example.com") && mailto.Contains("ra1-"), "mailto: " + mailto);

            var watch = Stopwatch.StartNew();
            var unreachable = Assert.Throws(() => Helper.Accept(invitation, host.Password,
                new AcceptOptions { Name = "C# helper", ConnectTimeout = TimeSpan.FromMilliseconds(300) }));
            Assert.True(unreachable.Code == Result.Unreachable, "unreachable: " + unreachable.Code + " " + unreachable.Message);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), "the connect timeout was used: " + watch.Elapsed);
        }
    }

    public static void TestApprovalTimeoutAndClosedInvitation()
    {
        using (var host = Host.Invite(new InviteOptions { HostName = "C# closing", Listen = "127.0.0.1:0" }))
        using (var invitation = host.Invitation)
        {
            // Nobody approves: the helper stops waiting after its approval timeout.
            var watch = Stopwatch.StartNew();
            var e = Assert.Throws(() => Helper.Accept(invitation, host.Password,
                new AcceptOptions { Name = "C# impatient", ApprovalTimeout = TimeSpan.FromMilliseconds(500) }));
            Assert.True(e.Code == Result.Denied && watch.Elapsed < TimeSpan.FromSeconds(10), "approval timeout: " + e.Code + " after " + watch.Elapsed);
            var hostEvents = host.Events(Wait).GetEnumerator();
            WaitHost(hostEvents, HostEventKind.ConnectionRequest);

            host.CloseInvitation();
            var closed = WaitHost(hostEvents, HostEventKind.InvitationClosed);
            Assert.True(closed.ReasonName == "closed_by_host" && closed.Reason == 3, "closed: " + closed.ReasonName);
            var late = Assert.Throws(() => Helper.Accept(invitation, host.Password,
                new AcceptOptions { ConnectTimeout = TimeSpan.FromSeconds(2) }));
            Assert.True(late.Code == Result.InvitationClosed, "after closing: " + late.Code + " " + late.Message);
        }
    }

    public static void TestManagedCapturerStatsPolicyAndAuditLog()
    {
        var capturer = new PaintCapturer(200, 120, 40);
        var audit = Path.GetTempFileName();
        try
        {
            var options = new InviteOptions { HostName = "C# painter", Listen = "127.0.0.1:0", AuditLog = audit };
            using (var host = Host.Invite(options, new HostBackends { Capturer = capturer }))
            {
                using (var helper = Join(host))
                {
                    Assert.True(helper.HostName == "C# painter", "host name " + helper.HostName);
                    var events = helper.Events(Wait).GetEnumerator();
                    var displays = WaitHelper(events, HelperEventKind.Displays);
                    Assert.True(displays.Displays.Length == 1 && displays.Displays[0].Name == "C# display" && displays.Displays[0].Primary, "displays");
                    var frame = WaitHelper(events, HelperEventKind.Frame).Frame;
                    Assert.True(frame.Width == PaintCapturer.W && frame.Height == PaintCapturer.H && frame.Stride == PaintCapturer.W * 4, "size");
                    int middle = (int)(PaintCapturer.H / 2 * PaintCapturer.W + PaintCapturer.W / 2) * 4;
                    Assert.True(Close(frame.Pixels[middle], 200) && Close(frame.Pixels[middle + 1], 120) && Close(frame.Pixels[middle + 2], 40),
                                "the capturer's colour: " + frame.Pixels[middle] + "," + frame.Pixels[middle + 1] + "," + frame.Pixels[middle + 2]);

                    // A new picture reaches the helper.
                    capturer.Paint(30, 60, 220);
                    HelperEvent e;
                    do e = WaitHelper(events, HelperEventKind.Frame);
                    while (!(Close(e.Frame.Pixels[middle], 30) && Close(e.Frame.Pixels[middle + 2], 220)));

                    // The pointer, apart from the video.
                    capturer.MoveCursor();
                    var cursor = WaitHelper(events, HelperEventKind.Cursor).Cursor;
                    Assert.True(cursor.X == 123 && cursor.Y == 45 && cursor.Visible, "cursor position");
                    Assert.True(cursor.Shape != null && cursor.Shape.HotX == 3 && cursor.Shape.Pixels.SequenceEqual(capturer.Shape), "cursor shape");

                    var hs = host.Stats();
                    var ps = helper.Stats();
                    Console.WriteLine("     host: " + hs);
                    Console.WriteLine("     helper: " + ps);
                    Assert.True(hs.FramesSent >= 2 && hs.BytesSent > 0 && hs.EncodeTimeMean > TimeSpan.Zero && hs.TargetBitrate > 0, "host stats");
                    Assert.True(ps.FramesDecoded >= 2 && ps.BytesReceived > 0 && ps.DecodeTimeMean > TimeSpan.Zero, "helper stats");

                    // The policy changes at once: the clipboard opens.
                    Assert.True(Assert.Throws(() => host.SetClipboardSharing(true)).Code == Result.Policy, "closed by default");
                    using (var open = new Policy("allow_clipboard = true")) host.SetPolicy(open);
                    host.SetClipboardSharing(true);
                    Assert.True(WaitHelper(events, HelperEventKind.ClipboardSharing).Enabled, "sharing on");
                    host.SendClipboard("from C#");
                    Assert.True(WaitHelper(events, HelperEventKind.Clipboard).Text == "from C#", "clipboard text");
                }
                Assert.True(capturer.Released == 0, "still the host's");
            }
            Assert.True(capturer.Released == 1 && capturer.Frames >= 2, "released once, after " + capturer.Frames + " frames");
            var lines = File.ReadAllLines(audit).Where(l => l.Length > 0).ToArray();
            Assert.True(lines.Length >= 2 && lines.All(l => l.StartsWith("{") && l.EndsWith("}")), "audit JSON lines: " + string.Join("\n", lines));
            Assert.True(lines.Any(l => l.Contains("C# helper")), "the audit log names the helper: " + string.Join("\n", lines));
        }
        finally { File.Delete(audit); }
    }

    public static void TestManagedEncoder()
    {
        var capturer = new PaintCapturer(10, 200, 90);
        var encoder = new CountingEncoder { ThrowFirst = true };
        var reported = new List<UnhandledCallbackExceptionEventArgs>();
        EventHandler<UnhandledCallbackExceptionEventArgs> onReport = (s, a) => { lock (reported) reported.Add(a); };
        var engineLines = new List<string>();
        Library.UnhandledCallbackException += onReport;
        Library.SetLogCallback((level, target, message) =>
        {
            if (target != "ra.csharp") lock (engineLines) { engineLines.Add(level + " " + target + " " + message); Monitor.PulseAll(engineLines); }
        }, LogLevel.Warn);
        try
        {
            using (var host = Host.Invite(new InviteOptions { Listen = "127.0.0.1:0" }, new HostBackends { Capturer = capturer, Encoder = encoder }))
            using (var helper = Join(host))
            {
                // Its first call throws: reported, and the host hears of its encoder's failure.
                var failed = WaitHost(host.Events(Wait).GetEnumerator(), HostEventKind.BackendError);
                Assert.True(failed.Backend == BackendKind.Encoder && failed.BackendResult == Result.Backend, "backend error: " + failed.Description);
                lock (reported) Assert.True(reported.Any(r => r.Callback == "Encoder.Encode" && r.Exception.Message == "encoder boom"), "reported");
                // The engine's own log line about it reaches the log callback.
                Until(engineLines, () => engineLines.Any(l => l.StartsWith("Warn ra_core") && l.Contains("encoding failed")), "the engine's warning");
                var f = encoder.First;
                Assert.True(f.Width == PaintCapturer.W && f.Height == PaintCapturer.H && f.Pixels[0] == 10 && f.Pixels[1] == 200 && f.Pixels[2] == 90, "the capturer's pixels");
                // What it encodes next is what the helper sees.
                capturer.Paint(220, 40, 130);
                var events = helper.Events(Wait).GetEnumerator();
                int middle = (int)(PaintCapturer.H / 2 * PaintCapturer.W + PaintCapturer.W / 2) * 4;
                HelperEvent e;
                do e = WaitHelper(events, HelperEventKind.Frame);
                while (!(Close(e.Frame.Pixels[middle], 220) && Close(e.Frame.Pixels[middle + 1], 40) && Close(e.Frame.Pixels[middle + 2], 130)));
                Assert.True(encoder.Calls >= 2 && encoder.Forced >= 1, "called again, a keyframe asked for");
                Assert.True(host.Stats().FramesSent >= 1, "sent");
            }
            Assert.True(encoder.Released == 1 && capturer.Released == 1, "released once each");
        }
        finally
        {
            Library.SetLogCallback(null, LogLevel.Off);
            Library.UnhandledCallbackException -= onReport;
        }
    }

    public static void TestLogCallbackAndLogMessage()
    {
        var lines = new List<string>();
        try
        {
            Library.SetLogCallback((level, target, message) => { lock (lines) lines.Add(level + " " + target + " " + message); }, LogLevel.Debug);
            Library.Log(LogLevel.Warn, "ra.test", "hello from C#");
            Library.Log(LogLevel.Trace, "ra.test", "too detailed");
            lock (lines)
            {
                Assert.True(lines.Contains("Warn ra.test hello from C#"), "our line: " + string.Join("\n", lines));
                Assert.True(!lines.Any(l => l.Contains("too detailed")), "above the level");
            }
            Library.SetLogCallback(null, LogLevel.Off);
            Library.Log(LogLevel.Error, "ra.test", "after");
            lock (lines) Assert.True(!lines.Any(l => l.Contains("after")), "off");
            Assert.True(Assert.Throws(() => Library.Log(LogLevel.Off, "ra.test", "x")).Code == Result.InvalidArgument, "level off");
        }
        finally { Library.SetLogCallback(null, LogLevel.Off); }
    }

    public static void TestCallbackExceptionsAreReportedNotSwallowed()
    {
        var reports = new List<UnhandledCallbackExceptionEventArgs>();
        var logged = new List<string>();
        EventHandler<UnhandledCallbackExceptionEventArgs> onReport = (s, a) => { lock (reports) { reports.Add(a); Monitor.PulseAll(reports); } };
        Func<string, string, bool> wasReported = (callback, message) =>
            reports.Any(r => r.Callback == callback && r.Exception.Message == message);
        Library.UnhandledCallbackException += onReport;
        Library.SetLogCallback((level, target, message) => { if (target == "ra.csharp") lock (logged) logged.Add(level + " " + message); }, LogLevel.Warn);
        try
        {
            // A capturer that throws: reported, logged, and a failure the host reports.
            using (var host = Host.Invite(new InviteOptions { Listen = "127.0.0.1:0" }, new HostBackends { Capturer = new ThrowingCapturer() }))
            {
                var e = WaitHost(host.Events(Wait).GetEnumerator(), HostEventKind.BackendError);
                Assert.True(e.Backend == BackendKind.Capturer && e.BackendResult == Result.Backend, "capturer failure: " + e.Description);
            }
            lock (reports) Assert.True(wasReported("Capturer.Displays", "capturer boom"), "capturer reported");
            lock (logged) Assert.True(logged.Any(l => l.StartsWith("Error Capturer.Displays threw System.InvalidOperationException: capturer boom")), "logged: " + string.Join("\n", logged));

            // An injector that throws, and an event handler that throws.
            using (var host = Host.Invite(new InviteOptions { Listen = "127.0.0.1:0" }, new HostBackends { Width = 160, Height = 120, FrameRate = 15, Injector = new ThrowingInjector() }))
            using (var helper = Join(host))
            {
                GrantControl(host, helper);
                helper.SendInput(InputEvent.PointerMove(1, 2));
                var e = WaitHost(host.Events(Wait).GetEnumerator(), HostEventKind.BackendError);
                Assert.True(e.Backend == BackendKind.Injector, "injector failure: " + e.Description);
                lock (reports) Assert.True(wasReported("Injector.Inject", "injector boom"), "injector reported");

                EventHandler<HelperEventArgs> throwing = (s, a) => { throw new InvalidOperationException("handler boom"); };
                helper.EventReceived += throwing;
                Until(reports, () => wasReported("Helper.EventReceived", "handler boom"), "the handler's exception");
                helper.EventReceived -= throwing;
            }

            // A log handler that throws.
            Library.SetLogCallback((level, target, message) => { throw new InvalidOperationException("log boom"); }, LogLevel.Warn);
            Library.Log(LogLevel.Error, "ra.test", "to a handler that throws");
            lock (reports) Assert.True(wasReported("Library.SetLogCallback handler", "log boom"), "log handler reported");
        }
        finally
        {
            Library.SetLogCallback(null, LogLevel.Off);
            Library.UnhandledCallbackException -= onReport;
        }
    }

    public static void TestBuiltInInjectors()
    {
        // The null injector takes the input (counted as injected) and drops it.
        using (var host = Host.Invite(new InviteOptions { Listen = "127.0.0.1:0" },
                                      new HostBackends { Width = 160, Height = 120, FrameRate = 15, BuiltInInjector = BuiltInInjector.Null }))
        using (var helper = Join(host))
        {
            GrantControl(host, helper);
            helper.SendInput(InputEvent.Press(MouseButton.Left, true), InputEvent.Press(MouseButton.Left, false));
            // The stats never block: read them between bounded waits for the helper's events.
            var deadline = DateTime.UtcNow + Wait;
            while (host.Stats().InputEventsInjected < 2)
            {
                Assert.True(DateTime.UtcNow < deadline, "injected: " + host.Stats().InputEventsInjected);
                helper.NextEvent(TimeSpan.FromMilliseconds(50));
            }
            Assert.True(helper.Stats().InputEventsSent == 2, "sent");
        }

        // The log injector prints to the process's standard output: run it in a child.
        var self = Process.GetCurrentProcess().MainModule.FileName;
        var exe = typeof(SessionTests).Assembly.Location;
        var start = new ProcessStartInfo
        {
            FileName = self, Arguments = Path.GetFileName(self).StartsWith("mono") ? "\"" + exe + "\" log-injector" : "log-injector",
            UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true,
        };
        using (var child = Process.Start(start))
        {
            var seen = new List<string>();
            var reader = new Thread(() => { string line; while ((line = child.StandardOutput.ReadLine()) != null) lock (seen) { seen.Add(line); Monitor.PulseAll(seen); } });
            reader.Start();
            try
            {
                Until(seen, () => seen.Contains("{\"type\":\"move\",\"x\":100,\"y\":50}") &&
                                  seen.Contains("{\"type\":\"button\",\"button\":\"right\",\"pressed\":true}"), "the log injector's lines");
            }
            finally
            {
                child.StandardInput.WriteLine("quit");
                child.StandardInput.Close();
                if (!child.WaitForExit(30000)) child.Kill();
                reader.Join(5000);
            }
            lock (seen) Assert.True(child.ExitCode == 0, "child: " + string.Join("\n", seen));
        }
    }

    /// The child of TestBuiltInInjectors: a host with the log injector, its
    /// helper's input printed; ends when its standard input does.
    public static int LogInjectorChild()
    {
        using (var host = Host.Invite(new InviteOptions { Listen = "127.0.0.1:0" },
                                      new HostBackends { Width = 160, Height = 120, FrameRate = 15, BuiltInInjector = BuiltInInjector.Log }))
        using (var helper = Join(host))
        {
            GrantControl(host, helper);
            helper.SendInput(InputEvent.PointerMove(100, 50), InputEvent.Press(MouseButton.Right, true), InputEvent.Press(MouseButton.Right, false));
            Console.In.ReadLine();
        }
        return 0;
    }
}
