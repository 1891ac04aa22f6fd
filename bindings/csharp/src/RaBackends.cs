// The host's backends: what it captures (the synthetic pattern, the real X
// screen, or a managed Capturer), how it encodes (OpenH264, or a managed
// Encoder), where the helper's input goes (dropped, logged, the real X
// display, or a managed Injector), and the desk. Managed backends are bridged
// to the C callback tables; the bridges keep their delegates, and whatever the
// library borrows, alive until the library calls destroy.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using Ra.Interop;

namespace Ra
{
    /// <summary>Receives the helper's input on the host, on the library's injection thread
    /// (one call at a time), only while the helper holds a control grant. An exception
    /// thrown here is reported (Library.UnhandledCallbackException) and becomes a failure.</summary>
    public abstract class Injector
    {
        /// <summary>Delivers one event to the desktop.</summary>
        public abstract void Inject(InputEvent inputEvent);
        /// <summary>Releases every key and button the helper holds (every revoke, pause and end).</summary>
        public virtual void ReleaseAll() { }
        /// <summary>Called once when the library is done with this injector (the host was freed).</summary>
        protected internal virtual void OnReleased() { }
    }

    /// <summary>A capturer written in C#: the library calls it on its capture thread, one call
    /// at a time. Override NextFrame; Displays, Select, Invalidate and Cursor are optional
    /// (one not overridden is not given to the library: no display list, only display 0,
    /// no pointer). An exception thrown here is reported (Library.UnhandledCallbackException)
    /// and becomes a failure, which the host reports as a BackendError event.</summary>
    public abstract class Capturer
    {
        /// <summary>Waits up to `timeout` for the picture to change: the new picture, or null when
        /// nothing changed. The frame's Pixels must not change until the next call.</summary>
        public abstract Frame NextFrame(TimeSpan timeout);
        /// <summary>The displays (ids to select), or null for none.</summary>
        public virtual DisplayInfo[] Displays() => null;
        /// <summary>Capture display `display` from the next frame on.</summary>
        public virtual void Select(uint display) { throw new NotSupportedException("this capturer has one display"); }
        /// <summary>The next frame must be returned, whole, even if nothing changed.</summary>
        public virtual void Invalidate() { }
        /// <summary>Called after every NextFrame while a helper watches: the pointer's change
        /// since the last report (Shape null when the shape did not change), or null for none.</summary>
        public virtual CursorUpdate Cursor() => null;
        /// <summary>Called once when the library is done with this capturer.</summary>
        protected internal virtual void OnReleased() { }

        internal bool Overrides(string name, params Type[] args) =>
            GetType().GetMethod(name, args).DeclaringType != typeof(Capturer);
    }

    /// <summary>What an Encoder produced: the compressed bytes (H.264 Annex B for the helper's
    /// decoder) and whether it decodes without an earlier frame.</summary>
    public sealed class EncodedFrame
    {
        /// <summary>The bitstream; null or empty skips the frame.</summary>
        public byte[] Data;
        /// <summary>A keyframe.</summary>
        public bool Keyframe;
    }

    /// <summary>An encoder written in C#, called on the capture thread. The helper decodes with
    /// OpenH264, so a real one produces H.264 Annex B. An exception thrown here is reported
    /// (Library.UnhandledCallbackException) and becomes a failure (a BackendError event; the
    /// engine then asks for a keyframe).</summary>
    public abstract class Encoder
    {
        /// <summary>Compresses `frame` (a copy, tightly packed), as a keyframe when
        /// `forceKeyframe`; null skips the frame.</summary>
        public abstract EncodedFrame Encode(Frame frame, bool forceKeyframe);
        /// <summary>A target in bits per second (a hint).</summary>
        public virtual void SetBitrate(uint bitsPerSecond) { }
        /// <summary>Called once when the library is done with this encoder.</summary>
        protected internal virtual void OnReleased() { }
    }

    /// <summary>The built-in injectors used when no Injector is given.</summary>
    public enum BuiltInInjector
    {
        /// <summary>The helper's input is dropped (the default).</summary>
        Null,
        /// <summary>The helper's input is printed to standard output, one JSON object a line.</summary>
        Log,
    }

    /// <summary>How a Screen opens its session on a Wayland desktop (RA_WAYLAND_API_*).</summary>
    public enum WaylandApi : uint
    {
        /// <summary>The xdg-desktop-portal: the desktop's own dialog asks the person at the desk
        /// (the host waits for the answer, which goes into the audit log).</summary>
        Portal = 1,
        /// <summary>GNOME's own API (mutter), no dialog: for privileged components and tests.</summary>
        Mutter = 2,
    }

    /// <summary>The real screen shared instead of the synthetic pattern, and, with InjectInput,
    /// the helper's input injected there for real: the X display Display, or with a null
    /// Display the session's own — on a Wayland desktop its PipeWire streams through a
    /// remote-desktop session opened as WaylandApi says (then the host's first event is
    /// DeskLimited when InjectInput: no panic key there), otherwise $DISPLAY. A screen that
    /// cannot be used (or a refused dialog) makes the host fail to start with Result.Backend.</summary>
    public sealed class Screen
    {
        /// <summary>The X display (":0"), or null for the session's own.</summary>
        public string Display;
        /// <summary>Inject the helper's input there (XTEST, or the Wayland session).</summary>
        public bool InjectInput;
        /// <summary>How the session is opened on a Wayland desktop.</summary>
        public WaylandApi WaylandApi = WaylandApi.Portal;
    }

    /// <summary>The host's desk, run by the library on an X display (null Display: $DISPLAY):
    /// a panic key (null: none), "the local user wins" for LocalUserWinsMs (0: off), and the
    /// system clipboard, kept in step with the helper's while sharing is on.</summary>
    public sealed class Desk
    {
        /// <summary>The X display, or null for $DISPLAY.</summary>
        public string Display;
        /// <summary>The panic key ("ctrl+alt+pause"), or null for none.</summary>
        public string PanicKey;
        /// <summary>How long the helper's input is held back after local input (0: off).</summary>
        public uint LocalUserWinsMs;
        /// <summary>Keep the system clipboard in step with the helper's while sharing is on.</summary>
        public bool Clipboard;

        internal void Apply(IntPtr backends)
        {
            byte[] display = Display == null ? null : Utf8.Z(Display);
            if (PanicKey != null) RaException.Check(N.ra_host_backends_set_panic_key(backends, display, Utf8.Z(PanicKey)));
            if (LocalUserWinsMs != 0) RaException.Check(N.ra_host_backends_set_local_user_wins_ms(backends, display, LocalUserWinsMs));
            if (Clipboard) RaException.Check(N.ra_host_backends_use_system_clipboard(backends, display));
        }
    }

    /// <summary>The host's backends. Video: a managed Capturer, else the real Screen, else the
    /// synthetic test pattern (Width × Height at FrameRate, two displays). Encoding: a managed
    /// Encoder, else OpenH264. Input: a managed Injector, else the Screen's system injector
    /// (Screen.InjectInput), else BuiltInInjector. Contradictory choices are an ArgumentException.</summary>
    public sealed class HostBackends
    {
        /// <summary>The synthetic pattern's width.</summary>
        public uint Width = 1280;
        /// <summary>The synthetic pattern's height.</summary>
        public uint Height = 720;
        /// <summary>The synthetic pattern's frames per second.</summary>
        public double FrameRate = 30;
        /// <summary>Share a real X screen.</summary>
        public Screen Screen;
        /// <summary>A managed capturer.</summary>
        public Capturer Capturer;
        /// <summary>A managed encoder (null: OpenH264).</summary>
        public Encoder Encoder;
        /// <summary>A managed injector.</summary>
        public Injector Injector;
        /// <summary>The built-in injector used without Injector or Screen.InjectInput.</summary>
        public BuiltInInjector BuiltInInjector = BuiltInInjector.Null;
        /// <summary>The host's desk (panic key, local user wins, clipboard).</summary>
        public Desk Desk;

        internal void Apply(IntPtr backends)
        {
            bool systemInjector = Screen != null && Screen.InjectInput;
            if (Capturer != null && Screen != null) throw new ArgumentException("both a Capturer and a Screen");
            if (Injector != null && (systemInjector || BuiltInInjector != BuiltInInjector.Null))
                throw new ArgumentException("both an Injector and a built-in injector");
            if (systemInjector && BuiltInInjector != BuiltInInjector.Null)
                throw new ArgumentException("both Screen.InjectInput and BuiltInInjector." + BuiltInInjector);

            byte[] display = Screen?.Display == null ? null : Utf8.Z(Screen.Display);
            if (Screen != null) RaException.Check(N.ra_host_backends_set_wayland_api(backends, (uint)Screen.WaylandApi));
            if (Capturer != null) new CapturerBridge(Capturer).Install(backends);
            else if (Screen != null) RaException.Check(N.ra_host_backends_use_screen_capturer(backends, display));
            else RaException.Check(N.ra_host_backends_use_synthetic_capturer(backends, Width, Height, FrameRate));

            if (Encoder != null) new EncoderBridge(Encoder).Install(backends);
            else RaException.Check(N.ra_host_backends_use_openh264_encoder(backends));

            if (Injector != null) new InjectorBridge(Injector).Install(backends);
            else if (systemInjector) RaException.Check(N.ra_host_backends_use_system_injector(backends, display));
            else if (BuiltInInjector == BuiltInInjector.Log) RaException.Check(N.ra_host_backends_use_log_injector(backends));
            else RaException.Check(N.ra_host_backends_use_null_injector(backends));

            if (Desk != null) Desk.Apply(backends);
        }
    }

    /// <summary>What every bridge shares: it stays reachable (with its delegates) until the
    /// library calls destroy, and holds what the library borrows until the next call.</summary>
    internal abstract class Bridge
    {
        static readonly HashSet<Bridge> Live = new HashSet<Bridge>();
        readonly List<GCHandle> pins = new List<GCHandle>();
        readonly List<IntPtr> blocks = new List<IntPtr>();
        protected readonly NotifyFn DestroyCallback;

        protected Bridge()
        {
            DestroyCallback = OnDestroy;
            lock (Live) Live.Add(this);
        }

        protected IntPtr Pin(object array)
        {
            var handle = GCHandle.Alloc(array, GCHandleType.Pinned);
            pins.Add(handle);
            return handle.AddrOfPinnedObject();
        }

        protected IntPtr Block(int size)
        {
            var p = Marshal.AllocHGlobal(size);
            blocks.Add(p);
            return p;
        }

        protected IntPtr Text(string s)
        {
            if (s == null) return IntPtr.Zero;
            var p = Utf8.Alloc(s);
            blocks.Add(p);
            return p;
        }

        /// What the previous call lent the library is no longer needed.
        protected void ReleaseHeld()
        {
            foreach (var pin in pins) pin.Free();
            pins.Clear();
            foreach (var p in blocks) Marshal.FreeHGlobal(p);
            blocks.Clear();
        }

        protected abstract void Released();

        /// Called by the library once (or by Install when the library refused the table).
        void OnDestroy(IntPtr userData)
        {
            ReleaseHeld();
            try { Released(); }
            catch (Exception e) { Library.ReportCallbackException(GetType().Name.Replace("Bridge", "") + ".OnReleased", e); }
            lock (Live) Live.Remove(this);
        }

        protected void Installed(uint result)
        {
            if (result != 0) { OnDestroy(IntPtr.Zero); RaException.Check(result); }
        }

        protected static uint Fail(string callback, Exception e)
        {
            Library.ReportCallbackException(callback, e);
            return (uint)Result.Backend;
        }
    }

    internal sealed class InjectorBridge : Bridge
    {
        readonly Injector injector;
        readonly InjectFn inject;
        readonly StatusFn releaseAll;

        internal InjectorBridge(Injector injector)
        {
            this.injector = injector;
            inject = OnInject;
            releaseAll = OnReleaseAll;
        }

        internal void Install(IntPtr backends)
        {
            var table = new RaInjectorCallbacks { Inject = inject, ReleaseAll = releaseAll, Destroy = DestroyCallback };
            Installed(N.ra_host_backends_set_injector(backends, ref table));
        }

        uint OnInject(IntPtr userData, IntPtr raw)
        {
            try
            {
                var e = (RaInputEvent)Marshal.PtrToStructure(raw, typeof(RaInputEvent));
                injector.Inject(new InputEvent { Kind = (InputKind)e.Kind, X = e.X, Y = e.Y, Button = (MouseButton)e.Button, Key = e.Key, Pressed = e.Pressed != 0, Text = Utf8.Read(e.Text) });
                return 0;
            }
            catch (Exception e) { return Fail("Injector.Inject", e); }
        }

        uint OnReleaseAll(IntPtr userData)
        {
            try { injector.ReleaseAll(); return 0; }
            catch (Exception e) { return Fail("Injector.ReleaseAll", e); }
        }

        protected override void Released() => injector.OnReleased();
    }

    internal sealed class CapturerBridge : Bridge
    {
        readonly Capturer capturer;
        readonly DisplaysFn displays;
        readonly SelectFn select;
        readonly NextFrameFn nextFrame;
        readonly NotifyFn invalidate;
        readonly CursorFn cursor;

        internal CapturerBridge(Capturer capturer)
        {
            this.capturer = capturer;
            nextFrame = OnNextFrame;
            invalidate = OnInvalidate;
            if (capturer.Overrides("Displays")) displays = OnDisplays;
            if (capturer.Overrides("Select", typeof(uint))) select = OnSelect;
            if (capturer.Overrides("Cursor")) cursor = OnCursor;
        }

        internal void Install(IntPtr backends)
        {
            var table = new RaCapturerCallbacks
            {
                Displays = displays, Select = select, NextFrame = nextFrame, Invalidate = invalidate,
                Destroy = DestroyCallback, Cursor = cursor,
            };
            Installed(N.ra_host_backends_set_capturer(backends, ref table));
        }

        uint OnDisplays(IntPtr userData, IntPtr displaysOut, IntPtr countOut)
        {
            ReleaseHeld();
            try
            {
                var list = capturer.Displays() ?? new DisplayInfo[0];
                int size = Marshal.SizeOf(typeof(RaDisplayInfo));
                IntPtr array = list.Length == 0 ? IntPtr.Zero : Block(size * list.Length);
                for (int i = 0; i < list.Length; i++)
                {
                    var d = list[i];
                    var raw = new RaDisplayInfo { Id = d.Id, Name = Text(d.Name), Bounds = d.Bounds.ToNative(), Primary = (byte)(d.Primary ? 1 : 0) };
                    Marshal.StructureToPtr(raw, new IntPtr(array.ToInt64() + i * size), false);
                }
                Marshal.WriteIntPtr(displaysOut, array);
                Marshal.WriteIntPtr(countOut, new IntPtr(list.Length));
                return 0;
            }
            catch (Exception e) { return Fail("Capturer.Displays", e); }
        }

        uint OnSelect(IntPtr userData, uint display)
        {
            ReleaseHeld();
            try { capturer.Select(display); return 0; }
            catch (Exception e) { return Fail("Capturer.Select", e); }
        }

        uint OnNextFrame(IntPtr userData, uint timeoutMs, IntPtr frameOut)
        {
            ReleaseHeld();
            try
            {
                var timeout = timeoutMs == uint.MaxValue ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(timeoutMs);
                var f = capturer.NextFrame(timeout);
                if (f == null) return (uint)Result.Timeout;
                if (f.Pixels == null) throw new ArgumentException("the frame has no Pixels");
                var damage = f.Damage ?? new Rect[0];
                var rects = new RaRect[damage.Length];
                for (int i = 0; i < rects.Length; i++) rects[i] = damage[i].ToNative();
                var raw = new RaFrame
                {
                    Data = Pin(f.Pixels), Len = new UIntPtr((ulong)f.Pixels.LongLength), Width = f.Width, Height = f.Height,
                    Stride = new UIntPtr((uint)(f.Stride == 0 ? f.Width * 4 : (uint)f.Stride)),
                    Damage = rects.Length == 0 ? IntPtr.Zero : Pin(rects), DamageLen = new UIntPtr((uint)rects.Length),
                    CapturedAtUs = 0, Display = f.Display,
                };
                Marshal.StructureToPtr(raw, frameOut, false);
                return 0;
            }
            catch (Exception e) { return Fail("Capturer.NextFrame", e); }
        }

        void OnInvalidate(IntPtr userData)
        {
            ReleaseHeld();
            try { capturer.Invalidate(); }
            catch (Exception e) { Library.ReportCallbackException("Capturer.Invalidate", e); }
        }

        uint OnCursor(IntPtr userData, IntPtr updateOut)
        {
            ReleaseHeld();
            try
            {
                var c = capturer.Cursor();
                if (c == null) return (uint)Result.Timeout;
                var raw = new RaCursorUpdate { X = c.X, Y = c.Y, Visible = (byte)(c.Visible ? 1 : 0) };
                if (c.Shape != null && c.Shape.Pixels != null)
                {
                    raw.Shape = new RaCursorShape
                    {
                        Pixels = Pin(c.Shape.Pixels), Len = new UIntPtr((ulong)c.Shape.Pixels.LongLength),
                        Width = c.Shape.Width, Height = c.Shape.Height, HotX = c.Shape.HotX, HotY = c.Shape.HotY,
                    };
                }
                Marshal.StructureToPtr(raw, updateOut, false);
                return 0;
            }
            catch (Exception e) { return Fail("Capturer.Cursor", e); }
        }

        protected override void Released() => capturer.OnReleased();
    }

    internal sealed class EncoderBridge : Bridge
    {
        readonly Encoder encoder;
        readonly EncodeFn encode;
        readonly SetBitrateFn setBitrate;

        internal EncoderBridge(Encoder encoder)
        {
            this.encoder = encoder;
            encode = OnEncode;
            setBitrate = OnSetBitrate;
        }

        internal void Install(IntPtr backends)
        {
            var table = new RaEncoderCallbacks { Encode = encode, SetBitrate = setBitrate, Destroy = DestroyCallback };
            Installed(N.ra_host_backends_set_encoder(backends, ref table));
        }

        uint OnEncode(IntPtr userData, IntPtr frame, byte forceKeyframe, IntPtr encodedOut)
        {
            ReleaseHeld();
            try
            {
                var raw = (RaFrame)Marshal.PtrToStructure(frame, typeof(RaFrame));
                var encoded = encoder.Encode(Frame.Copy(ref raw), forceKeyframe != 0);
                var result = new RaEncodedFrame();
                if (encoded != null && encoded.Data != null && encoded.Data.Length > 0)
                {
                    result.Data = Pin(encoded.Data);
                    result.Len = new UIntPtr((ulong)encoded.Data.LongLength);
                    result.Keyframe = (byte)(encoded.Keyframe ? 1 : 0);
                }
                Marshal.StructureToPtr(result, encodedOut, false);
                return 0;
            }
            catch (Exception e) { return Fail("Encoder.Encode", e); }
        }

        void OnSetBitrate(IntPtr userData, uint bitsPerSecond)
        {
            try { encoder.SetBitrate(bitsPerSecond); }
            catch (Exception e) { Library.ReportCallbackException("Encoder.SetBitrate", e); }
        }

        protected override void Released() => encoder.OnReleased();
    }
}
