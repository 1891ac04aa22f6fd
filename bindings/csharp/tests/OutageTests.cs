// An outage as the C# binding reports it: the path between host and helper
// goes dark (a relay in the test stops passing datagrams), both sides get
// ConnectionInterrupted, and once it passes them again ConnectionRestored
// with how long it was silent; the session goes on.
using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using Ra;

/// <summary>Relays datagrams between one client and 127.0.0.1:target while not Dark.</summary>
sealed class DarkRelay : IDisposable
{
    readonly UdpClient front = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
    readonly UdpClient back = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
    readonly Thread up, down;
    volatile bool stop;
    volatile IPEndPoint client;
    public volatile bool Dark;

    public DarkRelay(int target)
    {
        back.Connect(new IPEndPoint(IPAddress.Loopback, target));
        front.Client.ReceiveTimeout = 100;
        back.Client.ReceiveTimeout = 100;
        up = new Thread(() => Run(true));
        down = new Thread(() => Run(false));
        up.Start();
        down.Start();
    }

    public string Address => "127.0.0.1:" + ((IPEndPoint)front.Client.LocalEndPoint).Port;

    void Run(bool upwards)
    {
        while (!stop)
        {
            try
            {
                if (upwards)
                {
                    var from = new IPEndPoint(IPAddress.Any, 0);
                    var data = front.Receive(ref from);
                    client = from;
                    if (!Dark) back.Send(data, data.Length);
                }
                else
                {
                    var from = new IPEndPoint(IPAddress.Any, 0);
                    var data = back.Receive(ref from);
                    var to = client;
                    if (!Dark && to != null) front.Send(data, data.Length, to);
                }
            }
            catch (SocketException) { }
        }
    }

    public void Dispose()
    {
        stop = true;
        up.Join();
        down.Join();
        front.Close();
        back.Close();
    }
}

static partial class SessionTests
{
    public static void TestAnOutageIsToldBothSidesAndTheSessionGoesOn()
    {
        int port;
        using (var probe = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)))
            port = ((IPEndPoint)probe.Client.LocalEndPoint).Port;
        using (var relay = new DarkRelay(port))
        {
            var options = new InviteOptions { Listen = "127.0.0.1:" + port };
            options.Addresses.Add(relay.Address);
            using (var host = Host.Invite(options, new HostBackends { Width = 160, Height = 120 }))
            {
                string token;
                using (var invitation = host.Invitation) token = invitation.Token;
                var hostEvents = host.Events(Wait).GetEnumerator();
                Helper helper = null;
                var password = host.Password;
                var accepting = new Thread(() => helper = Helper.Accept(Invitation.FromToken(token), password, "C# helper"));
                accepting.Start();
                host.Approve(WaitHost(hostEvents, HostEventKind.ConnectionRequest).Connection);
                Assert.True(accepting.Join(Wait) && helper != null, "accepted");
                using (helper)
                {
                    var helperEvents = helper.Events(Wait).GetEnumerator();
                    WaitHelper(helperEvents, HelperEventKind.Frame);
                    relay.Dark = true;
                    WaitHost(hostEvents, HostEventKind.ConnectionInterrupted);
                    WaitHelper(helperEvents, HelperEventKind.ConnectionInterrupted);
                    relay.Dark = false;
                    Assert.True(WaitHost(hostEvents, HostEventKind.ConnectionRestored).SilentFor >= TimeSpan.FromSeconds(3), "host: silent for");
                    Assert.True(WaitHelper(helperEvents, HelperEventKind.ConnectionRestored).SilentFor >= TimeSpan.FromSeconds(3), "helper: silent for");
                    WaitHelper(helperEvents, HelperEventKind.Frame);
                    helper.Chat("still here");
                    Assert.True(WaitHost(hostEvents, HostEventKind.Chat).Text == "still here", "chat after the outage");
                }
            }
        }
    }
}
