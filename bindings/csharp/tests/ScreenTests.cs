// A C# host sharing the real screen of the Xvfb run.sh started (DISPLAY),
// with the built-in screen capturer and system injector, and a C# helper,
// judged by the witness (RA_TEST_WITNESS, ra-ffi/tests/c/witness.c): the
// helper's picture matches the screen (luma PSNR >= 35 dB), its click reaches
// the X client there as one press and one release where it was sent.
using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading;
using Ra;

/// The witness program: its lines as they come, with deadlines.
sealed class Witness : IDisposable
{
    readonly Process process;
    readonly BlockingCollection<string> lines = new BlockingCollection<string>();
    readonly Thread reader;

    public Witness(string path)
    {
        process = Process.Start(new ProcessStartInfo
        {
            FileName = path, UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true,
        });
        reader = new Thread(() =>
        {
            string line;
            while ((line = process.StandardOutput.ReadLine()) != null) lines.Add(line);
            lines.CompleteAdding();
        });
        reader.Start();
    }

    /// The next line, or null when none came within `timeout` (or the witness ended).
    public string Next(TimeSpan timeout)
    {
        string line;
        try { return lines.TryTake(out line, timeout) ? line : null; }
        catch (InvalidOperationException) { return null; } // completed
    }

    public void Send(string request)
    {
        process.StandardInput.WriteLine(request);
        process.StandardInput.Flush();
    }

    public void Dispose()
    {
        try { Send("quit"); process.StandardInput.Close(); } catch (IOException) { }
        if (!process.WaitForExit(10000)) process.Kill();
        reader.Join(5000);
        process.Dispose();
    }
}

static partial class SessionTests
{
    public static void TestRealScreenAndInput()
    {
        var witnessPath = Environment.GetEnvironmentVariable("RA_TEST_WITNESS");
        Assert.True(witnessPath != null && Environment.GetEnvironmentVariable("DISPLAY") != null,
                    "RA_TEST_WITNESS and DISPLAY are set (run through ra-ffi/tests/run.sh)");

        // A display nobody serves: a clear error, no host.
        var nowhere = Assert.Throws(() => Host.Invite(new InviteOptions { Listen = "127.0.0.1:0" },
            new HostBackends { Screen = new Screen { Display = ":4095", InjectInput = true } }));
        Assert.True(nowhere.Code == Result.Backend && nowhere.Message.Contains("cannot capture the screen of :4095"), "nowhere: " + nowhere.Message);

        using (var witness = new Witness(witnessPath))
        {
            var ready = witness.Next(Wait);
            Assert.True(ready != null && ready.StartsWith("ready "), "the witness is ready: " + ready);
            var size = ready.Split(' ');
            uint width = uint.Parse(size[1]), height = uint.Parse(size[2]);

            using (var host = Host.Invite(new InviteOptions { HostName = "C# screen", Listen = "127.0.0.1:0" },
                                          new HostBackends { Screen = new Screen { InjectInput = true } }))
            using (var helper = Join(host))
            {
                var helperEvents = helper.Events(Wait).GetEnumerator();
                var frame = WaitHelper(helperEvents, HelperEventKind.Frame).Frame;
                Assert.True(frame.Width == width && frame.Height == height && frame.Stride == width * 4, "the screen's size: " + frame.Width + "x" + frame.Height);
                var file = Path.GetTempFileName();
                try
                {
                    File.WriteAllBytes(file, frame.Pixels); // tightly packed BGRA
                    var psnr = Psnr(witness, file, width, height, null);
                    Console.WriteLine("     decoded picture vs the screen: luma PSNR " + psnr.ToString("0.0", CultureInfo.InvariantCulture) + " dB");
                    Assert.True(psnr >= 35.0, "PSNR " + psnr);

                    // A click by the helper reaches the X client where it was sent.
                    GrantControl(host, helper);
                    helper.SendInput(InputEvent.PointerMove(123, 87), InputEvent.Press(MouseButton.Left, true), InputEvent.Press(MouseButton.Left, false));
                    var clicks = new Clicks();
                    var deadline = DateTime.UtcNow + Wait;
                    while (clicks.Presses < 1 || clicks.Releases < 1)
                    {
                        var left = deadline - DateTime.UtcNow;
                        Assert.True(left > TimeSpan.Zero, "no click within the deadline");
                        var line = witness.Next(left);
                        if (line != null) clicks.Add(line);
                    }
                    // Whatever else the witness got arrives before its next answer.
                    Psnr(witness, file, width, height, clicks);
                    Console.WriteLine("     witness: " + clicks.Press + ", " + clicks.Release);
                    Assert.True(clicks.Presses == 1 && clicks.Releases == 1, clicks.Presses + " presses, " + clicks.Releases + " releases");
                    Assert.True(clicks.Near("press 1 ", clicks.Press) && clicks.Near("release 1 ", clicks.Release), "at (123, 87), button 1");
                }
                finally { File.Delete(file); }

                var hs = host.Stats();
                var ps = helper.Stats();
                Console.WriteLine("     host: " + hs);
                Console.WriteLine("     helper: " + ps);
                Assert.True(hs.BytesSent > 0 && hs.FramesSent >= 1, "host sent");
                Assert.True(hs.Rtt > TimeSpan.Zero && hs.Rtt < TimeSpan.FromMilliseconds(500), "rtt " + hs.Rtt);
                Assert.True(ps.FramesDecoded >= 1 && ps.BytesReceived > 0, "helper received");
                Assert.True(ps.InputEventsSent == 3 && hs.InputEventsInjected >= 2, "input counted");
            }
        }
    }

    /// Asks the witness for the PSNR of `file`; button lines before the answer go to `clicks`.
    static double Psnr(Witness witness, string file, uint width, uint height, Clicks clicks)
    {
        witness.Send("psnr " + file + " " + width + " " + height);
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            Assert.True(left > TimeSpan.Zero, "no psnr answer");
            var line = witness.Next(left);
            if (line == null) continue;
            if (line.StartsWith("psnr ")) return double.Parse(line.Substring(5), CultureInfo.InvariantCulture);
            Assert.True(!line.StartsWith("error"), "witness: " + line);
            if (clicks != null) clicks.Add(line);
        }
    }

    sealed class Clicks
    {
        public int Presses, Releases;
        public string Press, Release;

        public void Add(string line)
        {
            if (line.StartsWith("press ")) { Presses++; Press = line; }
            else if (line.StartsWith("release ")) { Releases++; Release = line; }
        }

        public bool Near(string prefix, string line)
        {
            if (line == null || !line.StartsWith(prefix)) return false;
            var parts = line.Split(' ');
            return Math.Abs(int.Parse(parts[2]) - 123) <= 1 && Math.Abs(int.Parse(parts[3]) - 87) <= 1;
        }
    }
}
