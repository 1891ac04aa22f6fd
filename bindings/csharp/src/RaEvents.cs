// Events, frames, the pointer, input and statistics: plain managed copies of
// what the library lends (ra_*_event_get_data, ra_frame_copy).
using System;
using System.Runtime.InteropServices;
using Ra.Interop;

namespace Ra
{
    /// <summary>What a host event is about (RA_HOST_EVENT_*; unknown numbers are possible: treat them as Other).</summary>
    public enum HostEventKind : uint
    {
        /// <summary>An event this version does not describe (see Description).</summary>
        Other = 0,
        /// <summary>A helper asks to connect: Approve or Deny its Connection.</summary>
        ConnectionRequest = 1,
        /// <summary>A password attempt failed.</summary>
        AuthFailed = 2,
        /// <summary>The helper now sees the screen, view only.</summary>
        Connected = 3,
        /// <summary>The helper asks for control: GrantControl or DenyControl.</summary>
        ControlRequested = 4,
        /// <summary>Control was granted.</summary>
        ControlGranted = 5,
        /// <summary>A control request was denied.</summary>
        ControlDenied = 6,
        /// <summary>Control was taken back.</summary>
        ControlRevoked = 7,
        /// <summary>The session is paused.</summary>
        Paused = 8,
        /// <summary>The session resumed.</summary>
        Resumed = 9,
        /// <summary>The helper wrote a chat message (Text).</summary>
        Chat = 10,
        /// <summary>The helper points at something (X, Y, PointerKind).</summary>
        Pointer = 11,
        /// <summary>A session is over (Reason).</summary>
        Ended = 12,
        /// <summary>The invitation takes no more connections (Reason).</summary>
        InvitationClosed = 13,
        /// <summary>A backend failed (Backend, BackendResult, Description).</summary>
        BackendError = 14,
        /// <summary>Clipboard sharing was turned on or off (Enabled).</summary>
        ClipboardSharing = 15,
        /// <summary>The helper's clipboard changed (Text).</summary>
        Clipboard = 16,
        /// <summary>The local panic key was pressed.</summary>
        PanicKey = 17,
        /// <summary>A text copied on the host was sent to the helper (Bytes).</summary>
        ClipboardSent = 18,
        /// <summary>Told once as the session starts: this desk (a Wayland desktop) can have
        /// neither a panic key nor "the local user wins"; Text says why.</summary>
        DeskLimited = 19,
        /// <summary>A helper was refused before the host was asked: the policy requires a
        /// verified helper and this one is not (HelperName, Peer; Text says why).</summary>
        ConnectionRefused = 20,
        /// <summary>The consent receipt of an approved session that ended (Text: store it as it
        /// is; Countersigned); comes just before that session's Ended.</summary>
        Receipt = 21,
        /// <summary>The helper switched to another display (Connection, Display).</summary>
        DisplaySelected = 22,
        /// <summary>The helper asked for a display the policy's allowed_displays does not share
        /// (Connection, Display): refused, and the helper told.</summary>
        DisplayRefused = 23,
        /// <summary>The redaction mask changed, set by the application or a policy (Redactions, in
        /// desktop coordinates; the masked window classes in Text, one per line).</summary>
        RedactionsChanged = 24,
        /// <summary>Nothing arrived from the helper (Connection) for a few seconds: the network went
        /// dark. Held keys and buttons are released, video held, input from before the outage never
        /// replayed; after the outage grace the session ends.</summary>
        ConnectionInterrupted = 25,
        /// <summary>The path to the helper (Connection) carries packets again (SilentFor): video
        /// resumes from a keyframe; control is as it was.</summary>
        ConnectionRestored = 26,
    }

    /// <summary>What a grant of control covers (RA_SCOPE_*).</summary>
    [Flags]
    public enum Scope : uint
    {
        /// <summary>Nothing.</summary>
        None = 0,
        /// <summary>Pointer moves, buttons and the wheel.</summary>
        Pointer = 1,
        /// <summary>Keys and text.</summary>
        Keyboard = 2,
        /// <summary>The helper's clipboard onto the host's while the grant lasts.</summary>
        Clipboard = 4,
        /// <summary>Everything.</summary>
        All = 7,
    }

    /// <summary>What a helper event is about (RA_HELPER_EVENT_*; unknown numbers are possible: treat them as Other).</summary>
    public enum HelperEventKind : uint
    {
        /// <summary>An event this version does not describe (see Description).</summary>
        Other = 0,
        /// <summary>Both sides proved they know the password.</summary>
        Authenticated = 1,
        /// <summary>The host let the helper in: view only.</summary>
        Connected = 2,
        /// <summary>The host granted control: SendInput works now.</summary>
        ControlGranted = 3,
        /// <summary>The host denied control.</summary>
        ControlDenied = 4,
        /// <summary>Control was taken back.</summary>
        ControlRevoked = 5,
        /// <summary>The host paused the session.</summary>
        Paused = 6,
        /// <summary>The host resumed the session.</summary>
        Resumed = 7,
        /// <summary>The host wrote a chat message (Text).</summary>
        Chat = 8,
        /// <summary>The host's displays (Displays, SelectedDisplay).</summary>
        Displays = 9,
        /// <summary>The session is over (Reason).</summary>
        Ended = 10,
        /// <summary>A decoded picture of the host's screen (Frame).</summary>
        Frame = 11,
        /// <summary>The host's pointer changed (Cursor).</summary>
        Cursor = 12,
        /// <summary>The host turned clipboard sharing on or off (Enabled).</summary>
        ClipboardSharing = 13,
        /// <summary>The host's clipboard changed (Text).</summary>
        Clipboard = 14,
        /// <summary>The session's consent receipt, checked (Text: store it as it is;
        /// Countersigned); comes before Ended.</summary>
        Receipt = 15,
        /// <summary>The host sent a receipt that does not check (Text says why).</summary>
        ReceiptRefused = 16,
        /// <summary>The parts of the picture the host masks (Redactions, in picture pixels; empty
        /// once nothing is masked): draw them as masked.</summary>
        Redactions = 17,
        /// <summary>Nothing arrived from the host for a few seconds: the picture freezes and input is
        /// dropped, not queued, until the path is back; after the outage grace the session ends.</summary>
        ConnectionInterrupted = 18,
        /// <summary>The path to the host carries packets again (SilentFor): the picture resumes
        /// from a keyframe; control is as it was.</summary>
        ConnectionRestored = 19,
        /// <summary>The host issued a single-use resume ticket for this session (ExpiresIn): should
        /// the host restart in that time, the helper reconnects by itself (Resuming).</summary>
        ResumeOffered = 20,
        /// <summary>The host came back from a restart with its resume ticket and the helper
        /// reconnected: the host's user approves again (Authenticated, Connected follow); control
        /// is gone until granted anew.</summary>
        Resuming = 21,
    }

    /// <summary>Which backend a BackendError event is about (RA_BACKEND_*).</summary>
    public enum BackendKind : uint
    {
        /// <summary>Not a backend error.</summary>
        None = 0,
        /// <summary>The capturer.</summary>
        Capturer = 1,
        /// <summary>The encoder.</summary>
        Encoder = 2,
        /// <summary>The input injector.</summary>
        Injector = 3,
        /// <summary>The host's desk: panic key, local input watcher, clipboard.</summary>
        Desk = 4,
    }

    /// <summary>An axis-aligned rectangle in pixels.</summary>
    public struct Rect
    {
        /// <summary>Left edge.</summary>
        public int X;
        /// <summary>Top edge.</summary>
        public int Y;
        /// <summary>Width in pixels.</summary>
        public uint Width;
        /// <summary>Height in pixels.</summary>
        public uint Height;

        /// <summary>A rectangle.</summary>
        public Rect(int x, int y, uint width, uint height) { X = x; Y = y; Width = width; Height = height; }

        internal static Rect From(RaRect r) => new Rect(r.X, r.Y, r.Width, r.Height);
        internal RaRect ToNative() => new RaRect { X = X, Y = Y, Width = Width, Height = Height };
    }

    /// <summary>A picture: BGRA pixels (bytes B, G, R, A), Stride bytes from one row to the next.
    /// Received frames are copied tightly packed (Stride = 4 × Width); a Capturer returns one,
    /// and an Encoder gets one.</summary>
    public sealed class Frame
    {
        /// <summary>Width in pixels.</summary>
        public uint Width;
        /// <summary>Height in pixels.</summary>
        public uint Height;
        /// <summary>Bytes from one row to the next (0 from a Capturer: 4 × Width).</summary>
        public int Stride;
        /// <summary>The pixels, at least Stride × (Height − 1) + 4 × Width bytes.</summary>
        public byte[] Pixels;
        /// <summary>The host's frame counter (received frames; gaps mean dropped frames).</summary>
        public ulong Seq;
        /// <summary>The regions that changed (from a Capturer: null or empty means the whole picture).</summary>
        public Rect[] Damage;
        /// <summary>Which display the picture shows.</summary>
        public uint Display;
        /// <summary>Capture on the host to decoded here (received frames).</summary>
        public TimeSpan Latency;
        /// <summary>Size of the compressed frame in bytes (received frames).</summary>
        public ulong EncodedBytes;

        /// <summary>Copies a frame the library lends (an event's, or one to encode) with ra_frame_copy.</summary>
        internal static Frame Copy(ref RaFrame f)
        {
            int stride = checked((int)f.Width * 4);
            var pixels = new byte[(long)stride * f.Height];
            RaException.Check(N.ra_frame_copy(ref f, pixels, new UIntPtr((ulong)pixels.LongLength), new UIntPtr((uint)stride)));
            var damage = new Rect[(int)f.DamageLen.ToUInt64()];
            int size = Marshal.SizeOf(typeof(RaRect));
            for (int i = 0; i < damage.Length; i++)
                damage[i] = Rect.From((RaRect)Marshal.PtrToStructure(new IntPtr(f.Damage.ToInt64() + i * size), typeof(RaRect)));
            return new Frame { Width = f.Width, Height = f.Height, Stride = stride, Pixels = pixels, Damage = damage, Display = f.Display };
        }
    }

    /// <summary>One of the host's displays.</summary>
    public sealed class DisplayInfo
    {
        /// <summary>The id to select it with.</summary>
        public uint Id;
        /// <summary>A human-readable name.</summary>
        public string Name;
        /// <summary>Position and size in the host's global coordinates.</summary>
        public Rect Bounds;
        /// <summary>The primary display.</summary>
        public bool Primary;
    }

    /// <summary>A pointer image: premultiplied BGRA, rows packed, the hotspot at (HotX, HotY).</summary>
    public sealed class CursorShape
    {
        /// <summary>Width in pixels (1–128).</summary>
        public uint Width;
        /// <summary>Height in pixels (1–128).</summary>
        public uint Height;
        /// <summary>Hotspot column.</summary>
        public uint HotX;
        /// <summary>Hotspot row.</summary>
        public uint HotY;
        /// <summary>4 × Width × Height bytes.</summary>
        public byte[] Pixels;
    }

    /// <summary>The host's pointer: its hotspot, whether it is shown, and its new shape (null: unchanged).</summary>
    public sealed class CursorUpdate
    {
        /// <summary>Hotspot column, in the captured display's pixels.</summary>
        public int X;
        /// <summary>Hotspot row.</summary>
        public int Y;
        /// <summary>The pointer is shown over the captured display.</summary>
        public bool Visible;
        /// <summary>The new shape, or null when it did not change.</summary>
        public CursorShape Shape;
    }

    /// <summary>A host event, copied out of the library's.</summary>
    public sealed class HostEvent
    {
        /// <summary>What it is about.</summary>
        public HostEventKind Kind;
        /// <summary>The connection it is about (for Approve, GrantControl…).</summary>
        public ulong Connection;
        /// <summary>The helper's name (not authenticated).</summary>
        public string HelperName;
        /// <summary>The helper's address, "IP:PORT".</summary>
        public string Peer;
        /// <summary>Chat message or clipboard text.</summary>
        public string Text;
        /// <summary>The reason's stable snake_case name ("host_ended").</summary>
        public string ReasonName;
        /// <summary>A human-readable description; never null.</summary>
        public string Description;
        /// <summary>The reason's number (RA_END_*, RA_DENY_*, RA_REVOKE_*, RA_CLOSE_*).</summary>
        public uint Reason;
        /// <summary>Failed password attempts so far.</summary>
        public uint Attempts;
        /// <summary>Failed attempts that close the invitation.</summary>
        public uint MaxAttempts;
        /// <summary>The control grant's number.</summary>
        public uint Grant;
        /// <summary>Which backend failed (BackendError events).</summary>
        public BackendKind Backend;
        /// <summary>What the backend failed with.</summary>
        public Result BackendResult;
        /// <summary>Horizontal position of a pointer mark (Pointer events).</summary>
        public int X;
        /// <summary>Vertical position of a pointer mark.</summary>
        public int Y;
        /// <summary>The kind of pointer mark (RA_POINTER_*).</summary>
        public uint PointerKind;
        /// <summary>Clipboard sharing is on (ClipboardSharing events).</summary>
        public bool Enabled;
        /// <summary>The length of the text sent (ClipboardSent events).</summary>
        public uint Bytes;
        /// <summary>What the helper asks for (ControlRequested) or was given (ControlGranted).</summary>
        public Scope Scopes;
        /// <summary>When the grant ends by itself (ControlGranted), or null: until revoked.</summary>
        public DateTimeOffset? ExpiresAt;
        /// <summary>The helper's identity was verified (ConnectionRequest): see Organisation, VerifiedHelper…</summary>
        public bool Verified;
        /// <summary>The organisation vouching for the helper (verified).</summary>
        public string Organisation;
        /// <summary>Its key, raorg1-… (verified).</summary>
        public string OrganisationKey;
        /// <summary>The helper's name as the organisation wrote it (verified).</summary>
        public string VerifiedHelper;
        /// <summary>The helper's key, rahelper1-… (verified).</summary>
        public string HelperKey;
        /// <summary>When the identity expires (verified).</summary>
        public DateTimeOffset? IdentityExpires;
        /// <summary>Why an identity the helper showed was not accepted.</summary>
        public string IdentityProblem;
        /// <summary>The standard warning to show with an unverified helper; null when verified.</summary>
        public string Warning;
        /// <summary>The receipt in Text is countersigned by the helper (Receipt events).</summary>
        public bool Countersigned;
        /// <summary>The display (DisplaySelected, DisplayRefused): its id, or uint.MaxValue for all.</summary>
        public uint Display;
        /// <summary>The mask (RedactionsChanged), in desktop coordinates.</summary>
        public Rect[] Redactions = new Rect[0];
        /// <summary>How long nothing arrived (ConnectionRestored).</summary>
        public TimeSpan SilentFor;
        /// <summary>The session (hex id) a ConnectionRequest resumes, when the host was re-opened
        /// from a resume ticket (Host.ResumeFromTicket): say so to the host's user; null otherwise.</summary>
        public string Resumes;

        internal static HostEvent From(IntPtr handle)
        {
            var d = RaHostEventData.Sized();
            RaException.Check(N.ra_host_event_get_data(handle, ref d));
            return new HostEvent
            {
                Kind = (HostEventKind)d.Kind, Connection = d.Connection, HelperName = Utf8.Read(d.HelperName),
                Peer = Utf8.Read(d.Peer), Text = Utf8.Read(d.Text), Reason = d.Reason,
                ReasonName = Utf8.Read(d.ReasonName), Attempts = d.Attempts, MaxAttempts = d.MaxAttempts,
                Grant = d.Grant, Backend = (BackendKind)d.Backend, BackendResult = (Result)d.BackendResult,
                X = d.X, Y = d.Y, PointerKind = d.PointerKind,
                Description = Utf8.Read(d.Description), Enabled = d.Enabled != 0, Bytes = d.Bytes,
                Scopes = (Scope)d.Scopes,
                ExpiresAt = d.ExpiresAtMs == 0 ? (DateTimeOffset?)null : DateTimeOffset.FromUnixTimeMilliseconds((long)d.ExpiresAtMs),
                Verified = d.Verified != 0, Organisation = Utf8.Read(d.Organisation),
                OrganisationKey = Utf8.Read(d.OrganisationKey), VerifiedHelper = Utf8.Read(d.VerifiedHelper),
                HelperKey = Utf8.Read(d.HelperKey),
                IdentityExpires = d.Verified == 0 ? (DateTimeOffset?)null : DateTimeOffset.FromUnixTimeMilliseconds((long)d.IdentityExpiresMs),
                IdentityProblem = Utf8.Read(d.IdentityProblem), Warning = Utf8.Read(d.Warning),
                Countersigned = d.Countersigned != 0, Display = d.Display,
                Redactions = Rects(d.Redactions, d.RedactionsLen),
                SilentFor = TimeSpan.FromMilliseconds(d.SilentMs),
                Resumes = Utf8.Read(d.Resumes),
            };
        }

        static Rect[] Rects(IntPtr first, UIntPtr count)
        {
            var rects = new Rect[first == IntPtr.Zero ? 0 : (int)count.ToUInt64()];
            int size = Marshal.SizeOf(typeof(RaRect));
            for (int i = 0; i < rects.Length; i++)
                rects[i] = Rect.From((RaRect)Marshal.PtrToStructure(new IntPtr(first.ToInt64() + i * size), typeof(RaRect)));
            return rects;
        }
    }

    /// <summary>A helper event, copied out of the library's (frames with ra_frame_copy).</summary>
    public sealed class HelperEvent
    {
        /// <summary>What it is about.</summary>
        public HelperEventKind Kind;
        /// <summary>The host's name.</summary>
        public string HostName;
        /// <summary>Chat message or clipboard text.</summary>
        public string Text;
        /// <summary>The reason's stable snake_case name.</summary>
        public string ReasonName;
        /// <summary>A human-readable description; never null.</summary>
        public string Description;
        /// <summary>The reason's number (RA_END_*, RA_DENY_*, RA_REVOKE_*).</summary>
        public uint Reason;
        /// <summary>The control grant's number.</summary>
        public uint Grant;
        /// <summary>The picture (Frame events), tightly packed.</summary>
        public Frame Frame;
        /// <summary>The host's displays (Displays events).</summary>
        public DisplayInfo[] Displays;
        /// <summary>The display captured (Displays events).</summary>
        public uint SelectedDisplay;
        /// <summary>Clipboard sharing is on (ClipboardSharing events).</summary>
        public bool Enabled;
        /// <summary>The pointer (Cursor events), its shape copied.</summary>
        public CursorUpdate Cursor;
        /// <summary>What the grant covers (ControlGranted); input outside it is dropped by the host.</summary>
        public Scope Scopes;
        /// <summary>How long the grant lasts (ControlGranted), or null: until revoked.</summary>
        public TimeSpan? ExpiresIn;
        /// <summary>The receipt in Text is countersigned by this helper (Receipt events).</summary>
        public bool Countersigned;
        /// <summary>The masked parts of the picture (Redactions events), in picture pixels.</summary>
        public Rect[] Redactions;
        /// <summary>How long nothing arrived (ConnectionRestored).</summary>
        public TimeSpan SilentFor;

        internal static HelperEvent From(IntPtr handle)
        {
            var d = RaHelperEventData.Sized();
            RaException.Check(N.ra_helper_event_get_data(handle, ref d));
            var e = new HelperEvent
            {
                Kind = (HelperEventKind)d.Kind, HostName = Utf8.Read(d.HostName), Text = Utf8.Read(d.Text),
                Reason = d.Reason, ReasonName = Utf8.Read(d.ReasonName), Grant = d.Grant,
                Description = Utf8.Read(d.Description), Enabled = d.Enabled != 0,
                Scopes = (Scope)d.Scopes,
                ExpiresIn = d.ExpiresInMs == 0 ? (TimeSpan?)null : TimeSpan.FromMilliseconds(d.ExpiresInMs),
                Countersigned = d.Countersigned != 0,
                SilentFor = TimeSpan.FromMilliseconds(d.SilentMs),
            };
            if (e.Kind == HelperEventKind.Displays)
            {
                e.SelectedDisplay = d.SelectedDisplay;
                e.Displays = new DisplayInfo[(int)d.DisplaysLen.ToUInt64()];
                int size = Marshal.SizeOf(typeof(RaDisplayInfo));
                for (int i = 0; i < e.Displays.Length; i++)
                {
                    var info = (RaDisplayInfo)Marshal.PtrToStructure(new IntPtr(d.Displays.ToInt64() + i * size), typeof(RaDisplayInfo));
                    e.Displays[i] = new DisplayInfo { Id = info.Id, Name = Utf8.Read(info.Name), Bounds = Rect.From(info.Bounds), Primary = info.Primary != 0 };
                }
            }
            if (e.Kind == HelperEventKind.Redactions)
            {
                e.Redactions = new Rect[(int)d.RedactionsLen.ToUInt64()];
                int size = Marshal.SizeOf(typeof(RaRect));
                for (int i = 0; i < e.Redactions.Length; i++)
                    e.Redactions[i] = Rect.From((RaRect)Marshal.PtrToStructure(new IntPtr(d.Redactions.ToInt64() + i * size), typeof(RaRect)));
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
                e.Frame = Frame.Copy(ref d.Frame);
                e.Frame.Seq = d.Seq;
                e.Frame.Latency = TimeSpan.FromTicks((long)d.LatencyUs * 10);
                e.Frame.EncodedBytes = d.EncodedBytes.ToUInt64();
            }
            return e;
        }
    }

    /// <summary>A host event raised as a .NET event.</summary>
    public sealed class HostEventArgs : EventArgs
    {
        /// <summary>The event.</summary>
        public HostEvent Event { get; internal set; }
    }

    /// <summary>A helper event raised as a .NET event.</summary>
    public sealed class HelperEventArgs : EventArgs
    {
        /// <summary>The event.</summary>
        public HelperEvent Event { get; internal set; }
    }

    /// <summary>The kinds of input event (RA_INPUT_*).</summary>
    public enum InputKind : uint
    {
        /// <summary>Pointer to (X, Y) in the captured display.</summary>
        PointerMove = 1,
        /// <summary>Pointer moved by (X, Y).</summary>
        PointerMoveRelative = 2,
        /// <summary>Button pressed or released.</summary>
        Button = 3,
        /// <summary>Wheel by (X, Y); a notch is 120, positive Y scrolls down.</summary>
        Wheel = 4,
        /// <summary>Key (a USB HID usage) pressed or released.</summary>
        Key = 5,
        /// <summary>Type Text, whatever the keyboard layout.</summary>
        Text = 6,
    }

    /// <summary>Mouse buttons (RA_BUTTON_*).</summary>
    public enum MouseButton : uint
    {
        /// <summary>None (not a button event).</summary>
        None = 0,
        /// <summary>The primary button.</summary>
        Left = 1,
        /// <summary>The secondary button.</summary>
        Right = 2,
        /// <summary>The middle button.</summary>
        Middle = 3,
        /// <summary>The "back" side button.</summary>
        Back = 4,
        /// <summary>The "forward" side button.</summary>
        Forward = 5,
    }

    /// <summary>One input event, for Helper.SendInput and Injector.Inject.</summary>
    public sealed class InputEvent
    {
        /// <summary>What it is.</summary>
        public InputKind Kind;
        /// <summary>Horizontal position or offset.</summary>
        public int X;
        /// <summary>Vertical position or offset.</summary>
        public int Y;
        /// <summary>The button (Button events).</summary>
        public MouseButton Button;
        /// <summary>The key's USB HID usage (Key events).</summary>
        public uint Key;
        /// <summary>Pressed (true) or released.</summary>
        public bool Pressed;
        /// <summary>The text (Text events).</summary>
        public string Text;

        /// <summary>Pointer to (x, y).</summary>
        public static InputEvent PointerMove(int x, int y) => new InputEvent { Kind = InputKind.PointerMove, X = x, Y = y };
        /// <summary>Button `b` pressed or released.</summary>
        public static InputEvent Press(MouseButton b, bool pressed) => new InputEvent { Kind = InputKind.Button, Button = b, Pressed = pressed };
        /// <summary>Key `key` (USB HID usage, see KeyCode) pressed or released.</summary>
        public static InputEvent KeyEvent(uint key, bool pressed) => new InputEvent { Kind = InputKind.Key, Key = key, Pressed = pressed };
        /// <summary>Wheel by (dx, dy).</summary>
        public static InputEvent Wheel(int dx, int dy) => new InputEvent { Kind = InputKind.Wheel, X = dx, Y = dy };
        /// <summary>Type `text`.</summary>
        public static InputEvent Typed(string text) => new InputEvent { Kind = InputKind.Text, Text = text };

        /// <summary>The USB HID usage of a key by name ("a", "enter", "ctrl").</summary>
        public static uint KeyCode(string name)
        {
            Loader.Ensure();
            RaException.Check(N.ra_key_from_name(Utf8.Z(name), out uint key));
            return key;
        }
    }

    /// <summary>A session's statistics (Host.Stats, Helper.Stats). Each side fills what it
    /// knows; what it cannot know is 0. Counters only grow.</summary>
    public sealed class SessionStats
    {
        /// <summary>Smoothed round-trip time to the peer (zero: no peer yet).</summary>
        public TimeSpan Rtt { get; private set; }
        /// <summary>UDP packets sent to the peer.</summary>
        public ulong PacketsSent { get; private set; }
        /// <summary>Of those, how many were lost.</summary>
        public ulong PacketsLost { get; private set; }
        /// <summary>PacketsLost / PacketsSent, 0.0 to 1.0.</summary>
        public double Loss { get; private set; }
        /// <summary>UDP bytes sent to the peer.</summary>
        public ulong BytesSent { get; private set; }
        /// <summary>UDP bytes received from the peer.</summary>
        public ulong BytesReceived { get; private set; }
        /// <summary>Bits per second asked of the encoder (the helper: as the last frame said).</summary>
        public uint TargetBitrate { get; private set; }
        /// <summary>Frames per second allowed (the helper: as the last frame said).</summary>
        public double TargetFrameRate { get; private set; }
        /// <summary>Host: frames put on the wire.</summary>
        public ulong FramesSent { get; private set; }
        /// <summary>Helper: frames decoded and handed to the application.</summary>
        public ulong FramesDecoded { get; private set; }
        /// <summary>Host: frames encoded but not delivered; helper: frames not shown.</summary>
        public ulong FramesDropped { get; private set; }
        /// <summary>Host: time to encode the last frame.</summary>
        public TimeSpan EncodeTimeLast { get; private set; }
        /// <summary>Host: mean time to encode a frame.</summary>
        public TimeSpan EncodeTimeMean { get; private set; }
        /// <summary>Helper: time to decode the last frame.</summary>
        public TimeSpan DecodeTimeLast { get; private set; }
        /// <summary>Helper: mean time to decode a frame.</summary>
        public TimeSpan DecodeTimeMean { get; private set; }
        /// <summary>Helper: input events sent.</summary>
        public ulong InputEventsSent { get; private set; }
        /// <summary>Host: input events injected.</summary>
        public ulong InputEventsInjected { get; private set; }
        /// <summary>Host: input events held back or dropped.</summary>
        public ulong InputEventsHeldBack { get; private set; }
        /// <summary>Host: the helper's control messages dropped over their rate limits. Helper: the
        /// host's display lists and pointer updates dropped over theirs.</summary>
        public ulong MessagesDropped { get; private set; }
        /// <summary>Events dropped because the application did not take them in time (at most 1024
        /// wait; the oldest chat lines, pointer marks, clipboard texts, display lists, cursor updates
        /// and frames go first).</summary>
        public ulong EventsDropped { get; private set; }

        static TimeSpan Us(ulong us) => TimeSpan.FromTicks((long)Math.Min(us, (ulong)(long.MaxValue / 10)) * 10);

        internal static SessionStats From(RaSessionStats s) => new SessionStats
        {
            Rtt = Us(s.RttUs), PacketsSent = s.PacketsSent, PacketsLost = s.PacketsLost, Loss = s.Loss,
            BytesSent = s.BytesSent, BytesReceived = s.BytesReceived, TargetBitrate = s.TargetBitrate,
            TargetFrameRate = s.TargetFrameRate, FramesSent = s.FramesSent, FramesDecoded = s.FramesDecoded,
            FramesDropped = s.FramesDropped, EncodeTimeLast = Us(s.EncodeUsLast), EncodeTimeMean = Us(s.EncodeUsMean),
            DecodeTimeLast = Us(s.DecodeUsLast), DecodeTimeMean = Us(s.DecodeUsMean),
            InputEventsSent = s.InputEventsSent, InputEventsInjected = s.InputEventsInjected,
            InputEventsHeldBack = s.InputEventsHeldBack, MessagesDropped = s.MessagesDropped,
            EventsDropped = s.EventsDropped,
        };

        /// <summary>The figures on one line.</summary>
        public override string ToString() =>
            "rtt " + Rtt.TotalMilliseconds.ToString("0.###") + " ms, " + BytesSent + " bytes sent, " + BytesReceived +
            " bytes received, " + FramesSent + " frames sent, " + FramesDecoded + " frames decoded, " + FramesDropped +
            " dropped, " + InputEventsSent + " input sent, " + InputEventsInjected + " injected";
    }
}
