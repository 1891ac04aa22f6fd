// The C# bindings end to end under Mono (or .NET 8): the session through an
// invitation and Quick Assist through the ra-broker that run.sh started
// (RA_TEST_BROKER, RA_TEST_BROKER_FINGERPRINT). The runner is Runner.cs; the
// rest of the API is in ApiTests.cs, the real X screen in ScreenTests.cs.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Threading;
using Ra;

static class Assert
{
    public static void True(bool condition, string what)
    {
        if (!condition) throw new Exception("assertion failed: " + what);
    }

    public static RaException Throws(Action action)
    {
        try { action(); }
        catch (RaException e) { return e; }
        throw new Exception("expected an RaException");
    }
}

class Recorder : Injector
{
    public readonly List<InputEvent> Events = new List<InputEvent>();
    public int Releases;

    public override void Inject(InputEvent e)
    {
        lock (this) { Events.Add(e); Monitor.PulseAll(this); }
    }

    public override void ReleaseAll()
    {
        lock (this) { Releases++; Monitor.PulseAll(this); }
    }

    public void WaitFor(Func<bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        lock (this)
        {
            while (!done())
            {
                var left = deadline - DateTime.UtcNow;
                Assert.True(left > TimeSpan.Zero, "injector wait timed out");
                Monitor.Wait(this, left);
            }
        }
    }
}

static partial class SessionTests
{

    static HostEvent WaitHost(IEnumerator<HostEvent> events, HostEventKind kind)
    {
        while (events.MoveNext()) if (events.Current.Kind == kind) return events.Current;
        throw new Exception("host events ended before " + kind);
    }

    static HelperEvent WaitHelper(IEnumerator<HelperEvent> events, HelperEventKind kind)
    {
        while (events.MoveNext()) if (events.Current.Kind == kind) return events.Current;
        throw new Exception("helper events ended before " + kind);
    }

    public static void TestErrorsCarryCodeAndMessage()
    {
        var e = Assert.Throws(() => Invitation.FromToken("not a token"));
        Assert.True(e.Code == Result.InvalidInvitation, "code");
        Assert.True(e.Name == "RA_RESULT_INVALID_INVITATION", "name");
        Assert.True(e.Message.Contains("ra1-"), "message: " + e.Message);
        e = Assert.Throws(() => new Policy("no_such_key = 1").Dispose());
        Assert.True(e.Code == Result.InvalidPolicy, "policy code");
    }

    public static void TestResultNumbersMatchTheLibrary()
    {
        foreach (Result code in Enum.GetValues(typeof(Result)))
        {
            var expected = "RA_RESULT_" + string.Concat(code.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + c : c.ToString())).ToUpperInvariant();
            Assert.True(Library.ResultName((uint)code) == expected, code + " is " + Library.ResultName((uint)code));
        }
    }

    public static void TestPanicBecomesAnException()
    {
        Assert.True(Library.InjectPanic(1) == 0, "armed");
        var e = Assert.Throws(() => new Policy().Dispose());
        Assert.True(e.Code == Result.Panic, "panic code");
    }

    public static void TestTheDeskIsTheLibrarys()
    {
        var bad = Assert.Throws(() => Host.Invite(listen: "127.0.0.1:0", desk: new Desk { PanicKey = "ctrl+alt" }));
        Assert.True(bad.Code == Result.InvalidArgument, "combination: " + bad.Code);
        // Nobody serves this display: the session cannot start, and says why.
        var nowhere = new Desk { Display = ":4095", PanicKey = "ctrl+alt+pause", LocalUserWinsMs = 1500, Clipboard = true };
        var e = Assert.Throws(() => Host.Invite(listen: "127.0.0.1:0", desk: nowhere));
        Assert.True(e.Code == Result.Backend && e.Message.Contains("panic key"), "display: " + e.Message);
        var screen = Assert.Throws(() => Host.Invite(listen: "127.0.0.1:0", screen: new Screen { Display = ":4095", InjectInput = true }));
        Assert.True(screen.Code == Result.Backend && screen.Message.Contains("cannot capture the screen"), "screen: " + screen.Message);
    }

    public static void TestSessionEndToEnd()
    {
        var recorder = new Recorder();
        using (var host = Host.Invite("C# host", "127.0.0.1:0", null, 320, 240, 30, recorder))
        {
            string token;
            using (var invitation = host.Invitation) token = invitation.Token;
            var hostEvents = host.Events(Wait).GetEnumerator();

            var wrong = Assert.Throws(() => Helper.Accept(Invitation.FromToken(token), "AAAA-AAAA-AAAA0"));
            Assert.True(wrong.Code == Result.WrongPassword, "wrong password: " + wrong.Code);
            Assert.True(WaitHost(hostEvents, HostEventKind.AuthFailed).Attempts == 1, "attempts");

            Helper helper = null;
            var password = host.Password;
            var accepting = new Thread(() => helper = Helper.Accept(Invitation.FromToken(token), password, "C# helper"));
            accepting.Start();
            var request = WaitHost(hostEvents, HostEventKind.ConnectionRequest);
            Assert.True(request.HelperName == "C# helper", "helper name");
            host.Approve(request.Connection);
            Assert.True(accepting.Join(Wait) && helper != null, "accepted");
            using (helper)
            {
                // Frames as .NET events, then back to polling.
                int frames = 0;
                var gotFrames = new ManualResetEventSlim();
                EventHandler<HelperEventArgs> onEvent = (sender, args) =>
                {
                    var f = args.Event.Frame;
                    if (f != null && f.Width == 320 && f.Height == 240 && f.Pixels.Length >= f.Stride * 239 + 320 * 4 && Interlocked.Increment(ref frames) >= 2)
                        gotFrames.Set();
                };
                helper.EventReceived += onEvent;
                Assert.True(gotFrames.Wait(Wait), "frames through the .NET event");
                helper.EventReceived -= onEvent;
                var helperEvents = helper.Events(Wait).GetEnumerator();

                // The synthetic host has two displays, ids 0 and 1: watch the second.
                helper.SelectDisplay(1);
                HelperEvent selected;
                do selected = WaitHelper(helperEvents, HelperEventKind.Displays);
                while (selected.SelectedDisplay != 1);
                Assert.True(selected.Displays.Length == 2 && selected.Displays[1].Id == 1, "two displays");
                Assert.True(selected.Displays[1].Bounds.Width == 320 && selected.Displays[1].Name.Length > 0, "display info");
                var switched = WaitHost(hostEvents, HostEventKind.DisplaySelected);
                Assert.True(switched.Display == 1 && switched.Connection == request.Connection, "the host heard of the switch");
                // A redaction mask on the second display (which starts at x = 320): the helper is
                // told where it lies in its picture; then unmasked.
                host.SetRedactions(new Rect(330, 20, 40, 30));
                var changed = WaitHost(hostEvents, HostEventKind.RedactionsChanged);
                Assert.True(changed.Redactions.Length == 1 && changed.Redactions[0].X == 330 && changed.Text == "", "the host heard of its mask");
                var mask = WaitHelper(helperEvents, HelperEventKind.Redactions);
                Assert.True(mask.Redactions.Length == 1 && mask.Redactions[0].X == 10 && mask.Redactions[0].Width == 40, "mask told");
                Assert.True(Assert.Throws(() => host.SetRedactions(new Rect(0, 0, 0, 1))).Code == Result.InvalidArgument, "empty rect");
                Assert.True(Assert.Throws(() => host.SetRedactedWindows("")).Code == Result.InvalidArgument, "empty class");
                host.SetRedactedWindows();
                host.SetRedactions();
                Assert.True(WaitHelper(helperEvents, HelperEventKind.Redactions).Redactions.Length == 0, "unmasked");
                // And back: input below is in the first display's coordinates.
                helper.SelectDisplay(0);
                do selected = WaitHelper(helperEvents, HelperEventKind.Displays);
                while (selected.SelectedDisplay != 0);
                helper.RequestKeyframe();

                helper.RequestControl();
                var asked = WaitHost(hostEvents, HostEventKind.ControlRequested);
                host.GrantControl(asked.Connection);
                WaitHelper(helperEvents, HelperEventKind.ControlGranted);
                Assert.True(helper.ControlState == 2, "granted");
                helper.SendInput(InputEvent.PointerMove(3, 4), InputEvent.KeyEvent(InputEvent.KeyCode("a"), true), InputEvent.Typed("héllo"));
                recorder.WaitFor(() => recorder.Events.Count >= 3);
                Assert.True(recorder.Events[0].Kind == InputKind.PointerMove && recorder.Events[0].X == 3, "move");
                Assert.True(recorder.Events[1].Key == 4 && recorder.Events[1].Pressed, "key");
                Assert.True(recorder.Events[2].Text == "héllo", "text " + recorder.Events[2].Text);

                // The local user is busy: what the helper holds is released.
                host.LocalInputSeen(60000);
                recorder.WaitFor(() => recorder.Releases >= 1);
                host.RevokePanicKey();
                Assert.True(WaitHelper(helperEvents, HelperEventKind.ControlRevoked).ReasonName == "panic_key", "revoked");
                recorder.WaitFor(() => recorder.Releases >= 2);
                var notControlling = Assert.Throws(() => helper.SendInput(InputEvent.PointerMove(1, 1)));
                Assert.True(notControlling.Code == Result.NotControlling, "not controlling");

                // A resume ticket: refused by the default policy; once allowed, offered to the helper.
                var ticketKey = new byte[32];
                ticketKey[0] = 5;
                var ticketPath = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ra-cs-ticket-" + System.Diagnostics.Process.GetCurrentProcess().Id);
                Assert.True(Assert.Throws(() => host.IssueResumeTicket(ticketKey, TimeSpan.FromMinutes(10), ticketPath)).Code == Result.Policy, "tickets off");
                var tickets = new Policy("allow_resume_tickets = true");
                Assert.True(tickets.Settings.AllowResumeTickets && tickets.Settings.MaxResumeTicketLifetime == TimeSpan.FromMinutes(15), "ticket settings");
                host.SetPolicy(tickets);
                host.IssueResumeTicket(ticketKey, TimeSpan.FromMinutes(10), ticketPath);
                Assert.True(WaitHelper(helperEvents, HelperEventKind.ResumeOffered).ExpiresIn == TimeSpan.FromMinutes(10), "offered");
                Assert.True(request.Resumes == null, "an ordinary request");

                helper.Chat("merci");
                Assert.True(WaitHost(hostEvents, HostEventKind.Chat).Text == "merci", "chat");
                // The default policy keeps the clipboard closed.
                Assert.True(Assert.Throws(() => host.SetClipboardSharing(true)).Code == Result.Policy, "clipboard policy");
                Assert.True(Assert.Throws(() => helper.SendClipboard("nope")).Code == Result.NotNow, "clipboard off");
                host.End();
                // Both sides get the same consent receipt, just before the end.
                var receipt = WaitHelper(helperEvents, HelperEventKind.Receipt);
                Assert.True(receipt.Text.StartsWith("{\"receipt\":\"ra-consent-receipt-1\"") && !receipt.Countersigned, "helper receipt");
                Assert.True(WaitHelper(helperEvents, HelperEventKind.Ended).ReasonName == "host_ended", "ended");
                var hostReceipt = WaitHost(hostEvents, HostEventKind.Receipt);
                Assert.True(hostReceipt.Text == receipt.Text && !hostReceipt.Countersigned, "host receipt");
                Assert.True(WaitHost(hostEvents, HostEventKind.Ended).ReasonName == "host_ended", "host ended");
            }
        }
        // After a restart the ticket re-opens the session (nobody comes back here: the helper was
        // told goodbye), once.
        var ticketFile = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ra-cs-ticket-" + System.Diagnostics.Process.GetCurrentProcess().Id);
        var resuming = new InviteOptions { Policy = new Policy("allow_resume_tickets = true") };
        var key = new byte[32];
        key[0] = 5;
        using (var reopened = Host.ResumeFromTicket(ticketFile, key, resuming))
            Assert.True(Assert.Throws(() => { using (reopened.Invitation) { } }).Code == Result.InvalidState, "no invitation");
        Assert.True(Assert.Throws(() => Host.ResumeFromTicket(ticketFile, key, resuming)).Code == Result.TicketUsed, "used once");
        System.IO.File.Delete(ticketFile + ".used");
    }

    /// <summary>Runs ra-org (RA_TEST_ORG) with `arguments`; its output.</summary>
    static string RunOrg(string arguments)
    {
        var org = Environment.GetEnvironmentVariable("RA_TEST_ORG");
        Assert.True(!string.IsNullOrEmpty(org), "RA_TEST_ORG (the ra-org program) is set: run through run.sh");
        var start = new System.Diagnostics.ProcessStartInfo(org, arguments) { RedirectStandardOutput = true, UseShellExecute = false };
        using (var process = System.Diagnostics.Process.Start(start))
        {
            var output = process.StandardOutput.ReadToEnd();
            Assert.True(process.WaitForExit(30000) && process.ExitCode == 0, "ra-org " + arguments);
            return output;
        }
    }

    static string NewOrganisation(string name, string path)
    {
        var output = RunOrg("new --json --name \"" + name + "\" --out \"" + path + "\"");
        var field = "\"public_key\":\"";
        var start = output.IndexOf(field, StringComparison.Ordinal) + field.Length;
        return output.Substring(start, output.IndexOf('"', start) - start);
    }

    /// <summary>A verified helper (identity from ra-org) with a pointer-only grant: both sides
    /// keep the same countersigned receipt; Receipts.Verify checks it against the invitation and
    /// the organisation, Receipts.VerifyAuditLog the host's log with it; altered, refused.</summary>
    public static void TestAVerifiedHelpersReceiptIsCountersignedAndChecked()
    {
        var dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ra_cs_receipt_" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(dir);
        try
        {
            var orgKey = NewOrganisation("C# IT", System.IO.Path.Combine(dir, "org.key"));
            var otherKey = NewOrganisation("Elsewhere", System.IO.Path.Combine(dir, "other.key"));
            RunOrg("issue --org \"" + System.IO.Path.Combine(dir, "org.key") + "\" --helper \"Jane Doe\" --out \"" + System.IO.Path.Combine(dir, "jane.raid") + "\"");
            var identity = System.IO.File.ReadAllText(System.IO.Path.Combine(dir, "jane.raid"));
            var log = System.IO.Path.Combine(dir, "audit.log");
            string receipt;
            Invitation invitation;
            using (var policy = new Policy("trusted_orgs = [\"" + orgKey + "\"]\n"))
            using (var host = Host.Invite(new InviteOptions { HostName = "C# receipt host", Listen = "127.0.0.1:0", Policy = policy, AuditLog = log },
                                          new HostBackends { Width = 64, Height = 48, FrameRate = 10 }))
            {
                invitation = host.Invitation;
                var hostEvents = host.Events(Wait).GetEnumerator();
                Helper helper = null;
                var token = invitation.Token;
                var password = host.Password;
                var accepting = new Thread(() => helper = Helper.Accept(Invitation.FromToken(token), password,
                                                                         new AcceptOptions { Name = "jane", Identity = identity }));
                accepting.Start();
                var request = WaitHost(hostEvents, HostEventKind.ConnectionRequest);
                Assert.True(request.Verified && request.Organisation == "C# IT" && request.VerifiedHelper == "Jane Doe", "verified");
                Assert.True(request.OrganisationKey == orgKey && request.Warning == null, "organisation key, no warning");
                host.Approve(request.Connection);
                Assert.True(accepting.Join(Wait) && helper != null, "accepted");
                using (helper)
                {
                    var helperEvents = helper.Events(Wait).GetEnumerator();
                    helper.RequestControl(Scope.Pointer | Scope.Keyboard);
                    var asked = WaitHost(hostEvents, HostEventKind.ControlRequested);
                    host.GrantControl(asked.Connection, Scope.Pointer, TimeSpan.FromMinutes(10));
                    Assert.True(WaitHelper(helperEvents, HelperEventKind.ControlGranted).Scopes == Scope.Pointer, "pointer only");
                    host.End();
                    var mine = WaitHelper(helperEvents, HelperEventKind.Receipt);
                    Assert.True(mine.Countersigned, "the helper countersigned");
                    receipt = mine.Text;
                    var theirs = WaitHost(hostEvents, HostEventKind.Receipt);
                    Assert.True(theirs.Countersigned && theirs.Text == receipt, "the same receipt on both sides");
                    WaitHost(hostEvents, HostEventKind.Ended);
                }
            }
            // The host is gone: its audit log is complete.
            using (invitation)
            {
                var report = Receipts.Verify(receipt, invitation, orgKey);
                Assert.True(report.Contains("\"helper\":\"Jane Doe\"") && report.Contains("\"countersigned\":true"), "report: " + report);
                Assert.True(report.Contains("\"scopes\":\"pointer\""), "the grant's scopes");
            }
            var chars = receipt.ToCharArray();
            chars[chars.Length / 2] = chars[chars.Length / 2] == 'A' ? 'B' : 'A';
            Assert.True(Assert.Throws(() => Receipts.Verify(new string(chars))).Code == Result.InvalidReceipt, "altered");
            var other = Assert.Throws(() => Receipts.Verify(receipt, null, otherKey));
            Assert.True(other.Code == Result.InvalidReceipt && other.Message.Contains("not verified as one of"), "another organisation: " + other.Message);

            Assert.True(Receipts.VerifyAuditLog(log, receipt).Contains("\"lines\":"), "the audit log is intact");
            var text = System.IO.File.ReadAllText(log);
            var ended = text.LastIndexOf('\n', text.IndexOf("\"event\":\"ended\"", StringComparison.Ordinal));
            var cut = System.IO.Path.Combine(dir, "cut.log");
            System.IO.File.WriteAllText(cut, text.Substring(0, ended + 1));
            Receipts.VerifyAuditLog(cut);
            var broken = Assert.Throws(() => Receipts.VerifyAuditLog(cut, receipt));
            Assert.True(broken.Code == Result.AuditLogBroken && broken.Message.Contains("removed from its end"), "cut short: " + broken.Message);
            Assert.True(Assert.Throws(() => Receipts.VerifyAuditLog(System.IO.Path.Combine(dir, "missing.log"))).Code == Result.Io, "missing");
        }
        finally
        {
            System.IO.Directory.Delete(dir, true);
        }
    }

    public static void TestQuickAssistThroughTheBroker()
    {
        var address = Environment.GetEnvironmentVariable("RA_TEST_BROKER");
        var fingerprint = Environment.GetEnvironmentVariable("RA_TEST_BROKER_FINGERPRINT");
        Assert.True(address != null && fingerprint != null, "RA_TEST_BROKER is set (run through ra-ffi/tests/run.sh)");
        using (var broker = new BrokerOptions(address, fingerprint, "127.0.0.1:0"))
        using (var offer = Helper.Assist(broker, "C# assistant"))
        {
            var diagnosis = broker.Diagnose();
            Assert.True(diagnosis.Ok && diagnosis.Verdict.StartsWith("ready: "), "verdict " + diagnosis.Verdict);
            Assert.True(diagnosis.Checks.Exists(c => c.Name == "broker" && c.Ok), "the broker answered");
            var info = offer.CodeInfo;
            Assert.True(info.Code.Length == 15 && info.Path == ConnectionPath.Unknown, "code " + info.Code);
            Assert.True(info.ExpiresAt > DateTimeOffset.UtcNow, "expiry");
            Assert.True(offer.Wait(TimeSpan.Zero) == null, "nobody typed it yet");
            using (var host = Host.Join(broker, info.Code, "C# joining host", null, 320, 240, 15))
            {
                Assert.True(host.CodeInfo.Code == info.Code && host.CodeInfo.Path == ConnectionPath.Direct, "host's code");
                var hostEvents = host.Events(Wait).GetEnumerator();
                var request = WaitHost(hostEvents, HostEventKind.ConnectionRequest);
                Assert.True(request.HelperName == "C# assistant", "helper name");
                host.Approve(request.Connection);
                using (var helper = offer.Wait(Wait))
                {
                    Assert.True(helper != null && helper.Path == ConnectionPath.Direct, "session");
                    var helperEvents = helper.Events(Wait).GetEnumerator();
                    Assert.True(WaitHelper(helperEvents, HelperEventKind.Frame).Frame.Width == 320, "frame");
                    host.End();
                    Assert.True(WaitHelper(helperEvents, HelperEventKind.Ended).ReasonName == "host_ended", "ended");
                }
                Assert.True(Assert.Throws(() => offer.Wait(TimeSpan.Zero)).Code == Result.InvalidState, "used");
            }
        }
    }

    public static void TestAnInvitationNobodyCanReachGoesThroughItsRendezvous()
    {
        var address = Environment.GetEnvironmentVariable("RA_TEST_BROKER");
        var fingerprint = Environment.GetEnvironmentVariable("RA_TEST_BROKER_FINGERPRINT");
        Assert.True(address != null && fingerprint != null, "RA_TEST_BROKER is set (run through ra-ffi/tests/run.sh)");
        using (var broker = new BrokerOptions(address, fingerprint, "127.0.0.1:0"))
        {
            // The invitation's one address answers nothing (as behind a NAT).
            var options = new InviteOptions { HostName = "C# NAT host", Listen = "127.0.0.1:0", Rendezvous = broker };
            options.Addresses.Add("127.0.0.1:9");
            using (var host = Host.Invite(options, new HostBackends { Width = 320, Height = 240, FrameRate = 15 }))
            {
                var token = host.Invitation.Token;
                var password = host.Password;
                var hostEvents = host.Events(Wait).GetEnumerator();
                Helper helper = null;
                var reaching = new Thread(() => helper = Helper.Accept(Invitation.FromToken(token), password,
                    new AcceptOptions { Name = "C# far helper", ConnectTimeout = TimeSpan.FromMilliseconds(500) }));
                reaching.Start();
                var request = WaitHost(hostEvents, HostEventKind.ConnectionRequest);
                Assert.True(request.HelperName == "C# far helper", "helper name");
                host.Approve(request.Connection);
                reaching.Join();
                using (helper)
                {
                    Assert.True(helper != null, "connected through the rendezvous");
                    var helperEvents = helper.Events(Wait).GetEnumerator();
                    Assert.True(WaitHelper(helperEvents, HelperEventKind.Frame).Frame.Width == 320, "frame");
                }
            }
        }
    }
}
