// The ra C API for .NET (Mono and .NET 8): SafeHandles, exceptions carrying
// the result code, events by polling (NextEvent / Events) or as .NET events
// (EventReceived, raised on the library's callback thread).
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using Ra.Interop;

namespace Ra
{
    /// <summary>The library's result codes (stable numbers; see ra.h).</summary>
    public enum Result : uint
    {
        Ok = 0, Timeout = 1, Closed = 2,
        NullPointer = 100, InvalidHandle = 101, InvalidUtf8 = 102, InvalidArgument = 103,
        BufferTooSmall = 104, InvalidState = 105, WrongThread = 106, Unsupported = 107,
        InvalidInvitation = 200, InvitationExpired = 201, InvalidPassword = 202, InvalidPolicy = 203,
        Io = 204, Email = 205, InvalidCode = 206,
        Policy = 300, Bind = 301, NoAddress = 302, Tls = 303, Broker = 304, BrokerRefused = 305,
        InviteFailed = 399,
        WrongPassword = 400, Denied = 401, InvitationClosed = 402, UnknownSession = 403,
        CertificateMismatch = 404, Unreachable = 405, ConnectionLost = 406, Protocol = 407,
        CodeUnavailable = 408, RateLimited = 409, WrongCode = 410, CodeExpired = 411,
        TooManyFailures = 412,
        AcceptFailed = 499,
        NoSession = 500, NotNow = 501, NotControlling = 502, SessionClosed = 503, CommandFailed = 599,
        Backend = 600, Panic = 900, Internal = 901, Runtime = 902,
    }

    /// <summary>A failed call: the code, its name and the library's message.</summary>
    public class RaException : Exception
    {
        public Result Code { get; }
        public string Name { get; }

        public RaException(uint code, string message) : base(message)
        {
            Code = (Result)code;
            Name = Utf8.Read(N.ra_result_name(code));
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

    public enum HostEventKind : uint
    {
        Other = 0, ConnectionRequest = 1, AuthFailed = 2, Connected = 3, ControlRequested = 4,
        ControlGranted = 5, ControlDenied = 6, ControlRevoked = 7, Paused = 8, Resumed = 9, Chat = 10,
        Pointer = 11, Ended = 12, InvitationClosed = 13, BackendError = 14, ClipboardSharing = 15,
        Clipboard = 16, PanicKey = 17, ClipboardSent = 18,
    }

    public enum HelperEventKind : uint
    {
        Other = 0, Authenticated = 1, Connected = 2, ControlGranted = 3, ControlDenied = 4,
        ControlRevoked = 5, Paused = 6, Resumed = 7, Chat = 8, Displays = 9, Ended = 10, Frame = 11,
        Cursor = 12, ClipboardSharing = 13, Clipboard = 14,
    }

    /// <summary>How a session travels: directly, or through the broker's relay.</summary>
    public enum ConnectionPath : uint { Unknown = 0, Direct = 1, Relayed = 2 }

    /// <summary>A short code ("ABC-DEF-GHJ-KMN"), when it expires and how the session travels.</summary>
    public sealed class CodeInfo
    {
        public string Code; public DateTimeOffset ExpiresAt; public ConnectionPath Path;

        internal static CodeInfo From(RaCodeInfo info) => new CodeInfo
        {
            Code = Utf8.Read(info.Code), ExpiresAt = DateTimeOffset.FromUnixTimeSeconds(info.ExpiresAtUnix),
            Path = (ConnectionPath)info.Path,
        };
    }

    public enum InputKind : uint { PointerMove = 1, PointerMoveRelative = 2, Button = 3, Wheel = 4, Key = 5, Text = 6 }
    public enum MouseButton : uint { Left = 1, Right = 2, Middle = 3, Back = 4, Forward = 5 }

    /// <summary>One input event, for Helper.SendInput and Injector.Inject.</summary>
    public sealed class InputEvent
    {
        public InputKind Kind; public int X, Y; public MouseButton Button; public uint Key; public bool Pressed; public string Text;
        public static InputEvent PointerMove(int x, int y) => new InputEvent { Kind = InputKind.PointerMove, X = x, Y = y };
        public static InputEvent Press(MouseButton b, bool pressed) => new InputEvent { Kind = InputKind.Button, Button = b, Pressed = pressed };
        public static InputEvent KeyEvent(uint key, bool pressed) => new InputEvent { Kind = InputKind.Key, Key = key, Pressed = pressed };
        public static InputEvent Wheel(int dx, int dy) => new InputEvent { Kind = InputKind.Wheel, X = dx, Y = dy };
        public static InputEvent Typed(string text) => new InputEvent { Kind = InputKind.Text, Text = text };

        /// <summary>The USB HID usage of a key by name ("a", "enter", "ctrl").</summary>
        public static uint KeyCode(string name)
        {
            RaException.Check(N.ra_key_from_name(Utf8.Z(name), out uint key));
            return key;
        }
    }

    /// <summary>Receives the helper's input on the host, on the library's injection thread.</summary>
    public abstract class Injector
    {
        public abstract void Inject(InputEvent inputEvent);
        public virtual void ReleaseAll() { }
    }

    public sealed class HostEvent
    {
        public HostEventKind Kind; public ulong Connection; public string HelperName, Peer, Text, ReasonName, Description;
        public uint Reason, Attempts, MaxAttempts, Grant, Backend; public Result BackendResult;
        /// <summary>Clipboard sharing is on (ClipboardSharing events).</summary>
        public bool Enabled;
        /// <summary>The length of the text sent (ClipboardSent events).</summary>
        public uint Bytes;

        internal static HostEvent From(IntPtr handle)
        {
            var d = RaHostEventData.Sized();
            RaException.Check(N.ra_host_event_get_data(handle, ref d));
            return new HostEvent
            {
                Kind = (HostEventKind)d.Kind, Connection = d.Connection, HelperName = Utf8.Read(d.HelperName),
                Peer = Utf8.Read(d.Peer), Text = Utf8.Read(d.Text), Reason = d.Reason,
                ReasonName = Utf8.Read(d.ReasonName), Attempts = d.Attempts, MaxAttempts = d.MaxAttempts,
                Grant = d.Grant, Backend = d.Backend, BackendResult = (Result)d.BackendResult,
                Description = Utf8.Read(d.Description), Enabled = d.Enabled != 0, Bytes = d.Bytes,
            };
        }
    }

    /// <summary>A pointer image: premultiplied BGRA, rows packed, the hotspot at (HotX, HotY).</summary>
    public sealed class CursorShape { public uint Width, Height, HotX, HotY; public byte[] Pixels; }

    /// <summary>The host's pointer: its hotspot, whether it is shown, and its new shape (null: unchanged).</summary>
    public sealed class CursorUpdate { public int X, Y; public bool Visible; public CursorShape Shape; }

    /// <summary>A picture of the host's screen: BGRA pixels (copied), Stride bytes per row.</summary>
    public sealed class Frame
    {
        public uint Width, Height; public int Stride; public byte[] Pixels; public ulong Seq;
        public RaRect[] Damage;
    }

    /// <summary>One of the host's displays (Displays events).</summary>
    public sealed class DisplayInfo
    {
        public uint Id; public string Name; public RaRect Bounds; public bool Primary;
    }

    public sealed class HelperEvent
    {
        public HelperEventKind Kind; public string HostName, Text, ReasonName, Description; public uint Reason, Grant;
        public Frame Frame;
        /// <summary>The host's displays and the one captured (Displays events).</summary>
        public DisplayInfo[] Displays; public uint SelectedDisplay;
        /// <summary>Clipboard sharing is on (ClipboardSharing events).</summary>
        public bool Enabled;
        /// <summary>The pointer (Cursor events), its shape copied.</summary>
        public CursorUpdate Cursor;

        internal static HelperEvent From(IntPtr handle)
        {
            var d = RaHelperEventData.Sized();
            RaException.Check(N.ra_helper_event_get_data(handle, ref d));
            var e = new HelperEvent
            {
                Kind = (HelperEventKind)d.Kind, HostName = Utf8.Read(d.HostName), Text = Utf8.Read(d.Text),
                Reason = d.Reason, ReasonName = Utf8.Read(d.ReasonName), Grant = d.Grant,
                Description = Utf8.Read(d.Description), Enabled = d.Enabled != 0,
            };
            if (e.Kind == HelperEventKind.Displays)
            {
                e.SelectedDisplay = d.SelectedDisplay;
                e.Displays = new DisplayInfo[(int)d.DisplaysLen.ToUInt64()];
                int size = Marshal.SizeOf(typeof(RaDisplayInfo));
                for (int i = 0; i < e.Displays.Length; i++)
                {
                    var info = (RaDisplayInfo)Marshal.PtrToStructure(new IntPtr(d.Displays.ToInt64() + i * size), typeof(RaDisplayInfo));
                    e.Displays[i] = new DisplayInfo { Id = info.Id, Name = Utf8.Read(info.Name), Bounds = info.Bounds, Primary = info.Primary != 0 };
                }
            }
            if (e.Kind == HelperEventKind.Cursor)
            {
                var c = d.Cursor;
                e.Cursor = new CursorUpdate { X = c.X, Y = c.Y, Visible = c.Visible != 0 };
                if (c.Shape.Pixels != IntPtr.Zero)
                {
                    var pixels = new byte[(long)c.Shape.Len.ToUInt64()];
                    Marshal.Copy(c.Shape.Pixels, pixels, 0, pixels.Length);
                    e.Cursor.Shape = new CursorShape { Width = c.Shape.Width, Height = c.Shape.Height, HotX = c.Shape.HotX, HotY = c.Shape.HotY, Pixels = pixels };
                }
            }
            if (e.Kind == HelperEventKind.Frame)
            {
                var f = d.Frame;
                var pixels = new byte[(long)f.Len.ToUInt64()];
                Marshal.Copy(f.Data, pixels, 0, pixels.Length);
                var damage = new RaRect[(int)f.DamageLen.ToUInt64()];
                int size = Marshal.SizeOf(typeof(RaRect));
                for (int i = 0; i < damage.Length; i++)
                    damage[i] = (RaRect)Marshal.PtrToStructure(new IntPtr(f.Damage.ToInt64() + i * size), typeof(RaRect));
                e.Frame = new Frame { Width = f.Width, Height = f.Height, Stride = (int)f.Stride.ToUInt64(), Pixels = pixels, Seq = d.Seq, Damage = damage };
            }
            return e;
        }
    }

    public sealed class HostEventArgs : EventArgs { public HostEvent Event { get; internal set; } }
    public sealed class HelperEventArgs : EventArgs { public HelperEvent Event { get; internal set; } }

    /// <summary>The host's policy, enforced by the engine.</summary>
    public sealed class Policy : IDisposable
    {
        internal readonly PolicyHandle Handle;
        public Policy() { RaException.Check(N.ra_policy_new(out Handle)); }
        public Policy(string toml) { RaException.Check(N.ra_policy_from_toml(Utf8.Z(toml), out Handle)); }
        public void Dispose() => Handle.Dispose();
    }

    /// <summary>What the host hands out: a file or a token (never the password).</summary>
    public sealed class Invitation : IDisposable
    {
        internal readonly InvitationHandle Handle;
        internal Invitation(InvitationHandle handle) { Handle = handle; }

        public static Invitation FromToken(string token)
        {
            RaException.Check(N.ra_invitation_from_token(Utf8.Z(token), out InvitationHandle h));
            return new Invitation(h);
        }

        public static Invitation Load(string path)
        {
            RaException.Check(N.ra_invitation_load(Utf8.Z(path), out InvitationHandle h));
            return new Invitation(h);
        }

        public void Save(string path) => RaException.Check(N.ra_invitation_save(Handle, Utf8.Z(path)));

        public string Token
        {
            get
            {
                RaException.Check(N.ra_invitation_to_token(Handle, out IntPtr s));
                return RaException.TakeString(s);
            }
        }

        public string HostName
        {
            get
            {
                var info = RaInvitationInfo.Sized();
                RaException.Check(N.ra_invitation_get_info(Handle, ref info));
                return Utf8.Read(info.HostName);
            }
        }

        public void Dispose() => Handle.Dispose();
    }

    /// <summary>How to reach the broker of the short-code flows, and how its certificate
    /// is recognised: its fingerprint ("sha256:…", as ra-broker prints it), or CA certificates.</summary>
    /// <summary>One check of a diagnosis: "udp_bind", "broker", "public_address", "nat_mapping", "firewall".</summary>
    public sealed class DiagnosisCheck { public string Name; public bool Ok; public string Detail; }

    /// <summary>What "verify the firewall" found: whether assistance can work, the verdict, the checks.</summary>
    public sealed class Diagnosis { public bool Ok; public string Verdict; public List<DiagnosisCheck> Checks; }

    public sealed class BrokerOptions : IDisposable
    {
        internal readonly BrokerOptionsHandle Handle;

        public BrokerOptions(string address, string fingerprint = null, string bind = null)
        {
            RaException.Check(N.ra_broker_options_new(Utf8.Z(address), out Handle));
            if (fingerprint != null) RaException.Check(N.ra_broker_options_set_fingerprint(Handle, Utf8.Z(fingerprint)));
            if (bind != null) RaException.Check(N.ra_broker_options_set_bind(Handle, Utf8.Z(bind)));
        }

        /// <summary>Runs the library's network and firewall checks against this broker
        /// ("verify the firewall"); blocks up to the connect timeout, twice at most.</summary>
        public Diagnosis Diagnose()
        {
            RaException.Check(N.ra_diagnose(Handle, out IntPtr raw));
            try
            {
                RaException.Check(N.ra_diagnosis_get_verdict(raw, out byte ok, out IntPtr text));
                RaException.Check(N.ra_diagnosis_get_check_count(raw, out UIntPtr count));
                var checks = new List<DiagnosisCheck>();
                for (ulong i = 0; i < count.ToUInt64(); i++)
                {
                    var c = RaDiagnosisCheck.Sized();
                    RaException.Check(N.ra_diagnosis_get_check(raw, new UIntPtr(i), ref c));
                    checks.Add(new DiagnosisCheck { Name = Utf8.Read(c.Name), Ok = c.Ok != 0, Detail = Utf8.Read(c.Detail) });
                }
                return new Diagnosis { Ok = ok != 0, Verdict = Utf8.Read(text), Checks = checks };
            }
            finally { N.ra_diagnosis_free(raw); }
        }

        /// <summary>Trusts a certificate for `serverName` signed by these CA certificates (PEM).</summary>
        public BrokerOptions TrustCa(byte[] pem, string serverName)
        {
            RaException.Check(N.ra_broker_options_set_ca(Handle, pem, new UIntPtr((uint)pem.Length), Utf8.Z(serverName)));
            return this;
        }

        public BrokerOptions TryDirect(bool tryDirect)
        {
            RaException.Check(N.ra_broker_options_set_try_direct(Handle, (byte)(tryDirect ? 1 : 0)));
            return this;
        }

        public BrokerOptions DirectTimeout(TimeSpan t) { RaException.Check(N.ra_broker_options_set_direct_timeout_ms(Handle, (ulong)t.TotalMilliseconds)); return this; }
        public BrokerOptions ConnectTimeout(TimeSpan t) { RaException.Check(N.ra_broker_options_set_connect_timeout_ms(Handle, (ulong)t.TotalMilliseconds)); return this; }
        public BrokerOptions CodeLifetime(TimeSpan t) { RaException.Check(N.ra_broker_options_set_code_lifetime_ms(Handle, (ulong)t.TotalMilliseconds)); return this; }

        public void Dispose() => Handle.Dispose();
    }

    /// <summary>Keeps a managed injector and its delegates alive until the library destroys it.</summary>
    internal sealed class InjectorBridge
    {
        static readonly HashSet<InjectorBridge> Live = new HashSet<InjectorBridge>();
        readonly Injector injector;
        internal RaInjectorCallbacks Table;

        internal InjectorBridge(Injector injector)
        {
            this.injector = injector;
            Table = new RaInjectorCallbacks { UserData = IntPtr.Zero, Inject = OnInject, ReleaseAll = OnReleaseAll, Destroy = OnDestroy };
            lock (Live) Live.Add(this);
        }

        uint OnInject(IntPtr userData, IntPtr raw)
        {
            try
            {
                var e = (RaInputEvent)Marshal.PtrToStructure(raw, typeof(RaInputEvent));
                injector.Inject(new InputEvent { Kind = (InputKind)e.Kind, X = e.X, Y = e.Y, Button = (MouseButton)e.Button, Key = e.Key, Pressed = e.Pressed != 0, Text = Utf8.Read(e.Text) });
                return 0;
            }
            catch (Exception) { return (uint)Result.Backend; } // nothing may escape into C
        }

        uint OnReleaseAll(IntPtr userData)
        {
            try { injector.ReleaseAll(); return 0; }
            catch (Exception) { return (uint)Result.Backend; }
        }

        internal void OnDestroy(IntPtr userData) { lock (Live) Live.Remove(this); }
    }

    /// <summary>An open invitation and its session; Dispose ends it and tells the helper.</summary>
    /// <summary>The real screen of an X display (null Display: $DISPLAY) shared instead of the
    /// synthetic pattern, and, with InjectInput, the helper's input injected there for real.</summary>
    public sealed class Screen
    {
        public string Display; public bool InjectInput;

        internal void Apply(IntPtr backends)
        {
            byte[] display = Display == null ? null : Utf8.Z(Display);
            RaException.Check(N.ra_host_backends_use_screen_capturer(backends, display));
            if (InjectInput) RaException.Check(N.ra_host_backends_use_system_injector(backends, display));
        }
    }

    /// <summary>The host's desk, run by the library on an X display (null Display: $DISPLAY):
    /// a panic key (null: none), "the local user wins" for LocalUserWinsMs (0: off), and the
    /// system clipboard, kept in step with the helper's while sharing is on.</summary>
    public sealed class Desk
    {
        public string Display; public string PanicKey; public uint LocalUserWinsMs; public bool Clipboard;

        internal void Apply(IntPtr backends)
        {
            byte[] display = Display == null ? null : Utf8.Z(Display);
            if (PanicKey != null) RaException.Check(N.ra_host_backends_set_panic_key(backends, display, Utf8.Z(PanicKey)));
            if (LocalUserWinsMs != 0) RaException.Check(N.ra_host_backends_set_local_user_wins_ms(backends, display, LocalUserWinsMs));
            if (Clipboard) RaException.Check(N.ra_host_backends_use_system_clipboard(backends, display));
        }
    }

    public sealed class Host : IDisposable
    {
        readonly HostHandle handle;
        EventFn callback; // referenced here so the GC keeps it while C holds it
        EventHandler<HostEventArgs> received;

        Host(HostHandle handle) { this.handle = handle; }

        delegate uint StartFn(IntPtr options, IntPtr backends, out HostHandle host);

        /// <summary>Starts a host with the synthetic capturer, OpenH264 and `injector` (null: input dropped).</summary>
        static Host Start(string hostName, string listen, Policy policy, uint width, uint height, double frameRate,
                          Injector injector, Desk desk, Screen screen, StartFn start)
        {
            RaException.Check(N.ra_invite_options_new(out IntPtr options));
            RaException.Check(N.ra_host_backends_new(out IntPtr backends));
            try
            {
                RaException.Check(N.ra_invite_options_set_host_name(options, Utf8.Z(hostName)));
                if (listen != null) RaException.Check(N.ra_invite_options_set_listen(options, Utf8.Z(listen)));
                if (policy != null) RaException.Check(N.ra_invite_options_set_policy(options, policy.Handle));
                RaException.Check(N.ra_host_backends_use_synthetic_capturer(backends, width, height, frameRate));
                if (injector != null)
                {
                    var bridge = new InjectorBridge(injector);
                    uint r = N.ra_host_backends_set_injector(backends, ref bridge.Table);
                    if (r != 0) { bridge.OnDestroy(IntPtr.Zero); RaException.Check(r); }
                }
                if (desk != null) desk.Apply(backends);
                if (screen != null) screen.Apply(backends);
                RaException.Check(start(options, backends, out HostHandle host));
                return new Host(host);
            }
            finally
            {
                N.ra_host_backends_free(backends);
                N.ra_invite_options_free(options);
            }
        }

        /// <summary>Opens an invitation with the synthetic capturer, OpenH264 and `injector` (null: input dropped).</summary>
        public static Host Invite(string hostName = "ra host", string listen = "0.0.0.0:0", Policy policy = null,
                                  uint width = 1280, uint height = 720, double frameRate = 30, Injector injector = null,
                                  Desk desk = null, Screen screen = null)
        {
            return Start(hostName, listen, policy, width, height, frameRate, injector, desk, screen,
                         (IntPtr o, IntPtr b, out HostHandle h) => N.ra_host_invite(o, b, out h));
        }

        /// <summary>Easy Connect: registers a code with the broker; read CodeInfo.Code to the helper.</summary>
        public static Host EasyConnect(BrokerOptions broker, string hostName = "ra host", Policy policy = null,
                                       uint width = 1280, uint height = 720, double frameRate = 30, Injector injector = null,
                                       Desk desk = null, Screen screen = null)
        {
            return Start(hostName, null, policy, width, height, frameRate, injector, desk, screen,
                         (IntPtr o, IntPtr b, out HostHandle h) => N.ra_host_easy_connect(broker.Handle, o, b, out h));
        }

        /// <summary>Quick Assist: connects to the helper whose code the user typed.</summary>
        public static Host Join(BrokerOptions broker, string code, string hostName = "ra host", Policy policy = null,
                                uint width = 1280, uint height = 720, double frameRate = 30, Injector injector = null,
                                Desk desk = null, Screen screen = null)
        {
            return Start(hostName, null, policy, width, height, frameRate, injector, desk, screen,
                         (IntPtr o, IntPtr b, out HostHandle h) => N.ra_host_join(broker.Handle, Utf8.Z(code), o, b, out h));
        }

        /// <summary>The code of a host started from one.</summary>
        public CodeInfo CodeInfo
        {
            get
            {
                var info = RaCodeInfo.Sized();
                RaException.Check(N.ra_host_get_code_info(handle, ref info));
                return CodeInfo.From(info);
            }
        }

        public Invitation Invitation
        {
            get
            {
                RaException.Check(N.ra_host_get_invitation(handle, out InvitationHandle h));
                return new Invitation(h);
            }
        }

        public string Password
        {
            get
            {
                RaException.Check(N.ra_host_get_password(handle, out IntPtr s));
                return RaException.TakeString(s);
            }
        }

        /// <summary>The next event, or null after `timeout`; throws RaException(Closed) once the host has closed.</summary>
        public HostEvent NextEvent(TimeSpan timeout)
        {
            uint r = N.ra_host_next_event(handle, Millis(timeout), out IntPtr ev);
            if (r == (uint)Result.Timeout) return null;
            RaException.Check(r);
            try { return HostEvent.From(ev); } finally { N.ra_host_event_free(ev); }
        }

        /// <summary>Events until the host closes; TimeoutException if none comes within `timeout`.</summary>
        public IEnumerable<HostEvent> Events(TimeSpan timeout)
        {
            while (true)
            {
                HostEvent e;
                try { e = NextEvent(timeout); }
                catch (RaException ex) when (ex.Code == Result.Closed) { yield break; }
                if (e == null) throw new TimeoutException("no host event in time");
                yield return e;
            }
        }

        /// <summary>Raised on the host's callback thread for every event once a handler is added
        /// (polling is refused meanwhile); removing the last handler goes back to polling.</summary>
        public event EventHandler<HostEventArgs> EventReceived
        {
            add
            {
                lock (this)
                {
                    if (received == null)
                    {
                        callback = (userData, ev) =>
                        {
                            try { received?.Invoke(this, new HostEventArgs { Event = HostEvent.From(ev) }); }
                            catch (Exception) { } // nothing may escape into C
                        };
                        RaException.Check(N.ra_host_set_event_callback(handle, callback, IntPtr.Zero));
                    }
                    received += value;
                }
            }
            remove
            {
                lock (this)
                {
                    received -= value;
                    if (received == null) RaException.Check(N.ra_host_set_event_callback(handle, null, IntPtr.Zero));
                }
            }
        }

        public void Approve(ulong connection) => RaException.Check(N.ra_host_approve(handle, connection));
        public void Deny(ulong connection) => RaException.Check(N.ra_host_deny(handle, connection));
        public void GrantControl(ulong connection) => RaException.Check(N.ra_host_grant_control(handle, connection));
        public void DenyControl(ulong connection) => RaException.Check(N.ra_host_deny_control(handle, connection));
        public void Revoke() => RaException.Check(N.ra_host_revoke(handle));
        /// <summary>Takes control back as the local panic key does (reason panic_key).</summary>
        public void RevokePanicKey() => RaException.Check(N.ra_host_revoke_panic_key(handle));
        /// <summary>The local user is busy: the helper's input is held back for holdMs.</summary>
        public void LocalInputSeen(uint holdMs) => RaException.Check(N.ra_host_local_input_seen(handle, holdMs));
        public void Pause() => RaException.Check(N.ra_host_pause(handle));
        public void Resume() => RaException.Check(N.ra_host_resume(handle));
        public void Chat(string text) => RaException.Check(N.ra_host_chat(handle, Utf8.Z(text)));
        public void End() => RaException.Check(N.ra_host_end(handle));
        public void SetClipboardSharing(bool enabled) => RaException.Check(N.ra_host_set_clipboard_sharing(handle, (byte)(enabled ? 1 : 0)));
        public void SendClipboard(string text) => RaException.Check(N.ra_host_send_clipboard(handle, Utf8.Z(text)));
        public void Dispose() => handle.Dispose();

        internal static uint Millis(TimeSpan t) =>
            t == Timeout.InfiniteTimeSpan ? uint.MaxValue : (uint)Math.Max(0, Math.Min(t.TotalMilliseconds, uint.MaxValue - 1));
    }

    /// <summary>A helper's live session; Dispose ends it and tells the host.</summary>
    public sealed class Helper : IDisposable
    {
        readonly HelperHandle handle;
        EventFn callback;
        EventHandler<HelperEventArgs> received;

        internal Helper(HelperHandle handle) { this.handle = handle; }

        static IntPtr AcceptOptions(string name)
        {
            RaException.Check(N.ra_accept_options_new(out IntPtr options));
            uint r = N.ra_accept_options_set_name(options, Utf8.Z(name));
            if (r != 0) { N.ra_accept_options_free(options); RaException.Check(r); }
            return options;
        }

        /// <summary>Connects and waits until the host lets the helper in.</summary>
        public static Helper Accept(Invitation invitation, string password, string name = "ra helper")
        {
            var options = AcceptOptions(name);
            try
            {
                RaException.Check(N.ra_helper_accept(invitation.Handle, Utf8.Z(password), options, out HelperHandle h));
                return new Helper(h);
            }
            finally { N.ra_accept_options_free(options); }
        }

        /// <summary>Easy Connect: connects with the code the host read out and waits until the host lets the helper in.</summary>
        public static Helper EasyConnect(BrokerOptions broker, string code, string name = "ra helper")
        {
            var options = AcceptOptions(name);
            try
            {
                RaException.Check(N.ra_helper_easy_connect(broker.Handle, Utf8.Z(code), options, out HelperHandle h));
                return new Helper(h);
            }
            finally { N.ra_accept_options_free(options); }
        }

        /// <summary>Quick Assist: registers a code to read to the host; wait with AssistOffer.Wait.</summary>
        public static AssistOffer Assist(BrokerOptions broker, string name = "ra helper")
        {
            var options = AcceptOptions(name);
            try
            {
                RaException.Check(N.ra_helper_assist(broker.Handle, options, out AssistOfferHandle offer));
                return new AssistOffer(offer);
            }
            finally { N.ra_accept_options_free(options); }
        }

        /// <summary>How the session travels (directly, or through the broker's relay).</summary>
        public ConnectionPath Path
        {
            get
            {
                RaException.Check(N.ra_helper_get_path(handle, out uint path));
                return (ConnectionPath)path;
            }
        }

        public void SendClipboard(string text) => RaException.Check(N.ra_helper_send_clipboard(handle, Utf8.Z(text)));

        public uint ControlState
        {
            get
            {
                RaException.Check(N.ra_helper_get_control_state(handle, out uint state));
                return state;
            }
        }

        public HelperEvent NextEvent(TimeSpan timeout)
        {
            uint r = N.ra_helper_next_event(handle, Host.Millis(timeout), out IntPtr ev);
            if (r == (uint)Result.Timeout) return null;
            RaException.Check(r);
            try { return HelperEvent.From(ev); } finally { N.ra_helper_event_free(ev); }
        }

        public IEnumerable<HelperEvent> Events(TimeSpan timeout)
        {
            while (true)
            {
                HelperEvent e;
                try { e = NextEvent(timeout); }
                catch (RaException ex) when (ex.Code == Result.Closed) { yield break; }
                if (e == null) throw new TimeoutException("no helper event in time");
                yield return e;
            }
        }

        /// <summary>Raised on the helper's callback thread for every event, frames included.</summary>
        public event EventHandler<HelperEventArgs> EventReceived
        {
            add
            {
                lock (this)
                {
                    if (received == null)
                    {
                        callback = (userData, ev) =>
                        {
                            try { received?.Invoke(this, new HelperEventArgs { Event = HelperEvent.From(ev) }); }
                            catch (Exception) { }
                        };
                        RaException.Check(N.ra_helper_set_event_callback(handle, callback, IntPtr.Zero));
                    }
                    received += value;
                }
            }
            remove
            {
                lock (this)
                {
                    received -= value;
                    if (received == null) RaException.Check(N.ra_helper_set_event_callback(handle, null, IntPtr.Zero));
                }
            }
        }

        public void RequestControl() => RaException.Check(N.ra_helper_request_control(handle));
        public void ReleaseControl() => RaException.Check(N.ra_helper_release_control(handle));
        /// <summary>Watch another display of the host (an id from a Displays event).</summary>
        public void SelectDisplay(uint display) => RaException.Check(N.ra_helper_select_display(handle, display));
        /// <summary>Ask the host for a whole picture.</summary>
        public void RequestKeyframe() => RaException.Check(N.ra_helper_request_keyframe(handle));
        /// <summary>Show a pointer or laser mark on the host's screen (kind as in ra.h).</summary>
        public void Pointer(int x, int y, uint kind) => RaException.Check(N.ra_helper_pointer(handle, x, y, kind));
        public void Chat(string text) => RaException.Check(N.ra_helper_chat(handle, Utf8.Z(text)));
        public void End() => RaException.Check(N.ra_helper_end(handle));

        public void SendInput(params InputEvent[] events)
        {
            var raw = new RaInputEvent[Math.Max(1, events.Length)];
            var texts = new List<GCHandle>();
            try
            {
                for (int i = 0; i < events.Length; i++)
                {
                    var e = events[i];
                    var text = IntPtr.Zero;
                    if (e.Text != null)
                    {
                        var pinned = GCHandle.Alloc(Utf8.Z(e.Text), GCHandleType.Pinned);
                        texts.Add(pinned);
                        text = pinned.AddrOfPinnedObject();
                    }
                    raw[i] = new RaInputEvent { Kind = (uint)e.Kind, X = e.X, Y = e.Y, Button = (uint)e.Button, Key = e.Key, Pressed = (byte)(e.Pressed ? 1 : 0), Text = text };
                }
                RaException.Check(N.ra_helper_send_input(handle, raw, new UIntPtr((uint)events.Length)));
            }
            finally
            {
                foreach (var t in texts) t.Free();
            }
        }

        public void Dispose() => handle.Dispose();
    }

    /// <summary>A code a helper registered for Quick Assist, waiting for the host to type it.</summary>
    public sealed class AssistOffer : IDisposable
    {
        readonly AssistOfferHandle handle;
        internal AssistOffer(AssistOfferHandle handle) { this.handle = handle; }

        /// <summary>The code to read to the host, and when it expires.</summary>
        public CodeInfo CodeInfo
        {
            get
            {
                var info = RaCodeInfo.Sized();
                RaException.Check(N.ra_assist_offer_get_code_info(handle, ref info));
                return CodeInfo.From(info);
            }
        }

        /// <summary>The session once a host typed the code and let the helper in, or null after `timeout`.</summary>
        public Helper Wait(TimeSpan timeout)
        {
            uint r = N.ra_assist_offer_wait(handle, Host.Millis(timeout), out HelperHandle h);
            if (r == (uint)Result.Timeout) return null;
            RaException.Check(r);
            return new Helper(h);
        }

        public void Dispose() => handle.Dispose();
    }

    public static class Library
    {
        public static string Version => Utf8.Read(N.ra_version());
        public static string ResultName(uint code) => Utf8.Read(N.ra_result_name(code));
        public static uint InjectPanic(uint point) => N.ra_debug_inject_panic(point);
    }
}
