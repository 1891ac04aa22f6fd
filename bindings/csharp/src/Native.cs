// P/Invoke declarations of ra.h (internal: the public API is in Ra*.cs).
// Strings go in as NUL-terminated UTF-8 byte arrays and come out as IntPtr,
// decoded by Utf8.Read, so marshalling is the same on Mono and .NET 8.
// The mirrors of the C structs follow ra.h field by field (structs grow only
// at their end; the sized ones carry StructSize, set by Sized() as RA_SIZED).
using System;
using System.Runtime.InteropServices;

namespace Ra.Interop
{
    [StructLayout(LayoutKind.Sequential)]
    internal struct RaRect { public int X, Y; public uint Width, Height; }

    [StructLayout(LayoutKind.Sequential)]
    internal struct RaFrame
    {
        public IntPtr Data; public UIntPtr Len; public uint Width, Height; public UIntPtr Stride;
        public IntPtr Damage; public UIntPtr DamageLen; public ulong CapturedAtUs; public uint Display;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct RaDisplayInfo { public uint Id; public IntPtr Name; public RaRect Bounds; public byte Primary; }

    [StructLayout(LayoutKind.Sequential)]
    internal struct RaInputEvent
    {
        public uint Kind; public int X, Y; public uint Button, Key; public byte Pressed; public IntPtr Text;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct RaCursorShape
    {
        public IntPtr Pixels; public UIntPtr Len; public uint Width, Height, HotX, HotY;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct RaCursorUpdate { public int X, Y; public byte Visible; public RaCursorShape Shape; }

    [StructLayout(LayoutKind.Sequential)]
    internal struct RaEncodedFrame { public IntPtr Data; public UIntPtr Len; public byte Keyframe; }

    // The structs the library writes start with `StructSize`, which must hold
    // their size before the call (`Sized()`), as RA_SIZED does in C: the
    // library writes no more than that.

    [StructLayout(LayoutKind.Sequential)]
    internal struct RaCodeInfo
    {
        public UIntPtr StructSize;
        public static RaCodeInfo Sized() => new RaCodeInfo { StructSize = (UIntPtr)Marshal.SizeOf(typeof(RaCodeInfo)) };
        public IntPtr Code; public long ExpiresAtUnix; public uint Path;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct RaDiagnosisCheck
    {
        public UIntPtr StructSize;
        public static RaDiagnosisCheck Sized() => new RaDiagnosisCheck { StructSize = (UIntPtr)Marshal.SizeOf(typeof(RaDiagnosisCheck)) };
        public IntPtr Name; public byte Ok; public IntPtr Detail;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct RaHostEventData
    {
        public UIntPtr StructSize;
        public static RaHostEventData Sized() => new RaHostEventData { StructSize = (UIntPtr)Marshal.SizeOf(typeof(RaHostEventData)) };
        public uint Kind; public ulong Connection; public IntPtr HelperName, Peer, Text;
        public uint Reason; public IntPtr ReasonName; public uint Attempts, MaxAttempts, Grant;
        public int X, Y; public uint PointerKind, Backend, BackendResult; public IntPtr Description;
        public byte Enabled; public uint Bytes;
        public uint Scopes; public ulong ExpiresAtMs;
        public byte Verified; public IntPtr Organisation, OrganisationKey, VerifiedHelper, HelperKey;
        public ulong IdentityExpiresMs; public IntPtr IdentityProblem, Warning;
        public byte Countersigned; public uint Display; public IntPtr Redactions; public UIntPtr RedactionsLen;
        public ulong SilentMs; public IntPtr Resumes;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct RaHelperEventData
    {
        public UIntPtr StructSize;
        public static RaHelperEventData Sized() => new RaHelperEventData { StructSize = (UIntPtr)Marshal.SizeOf(typeof(RaHelperEventData)) };
        public uint Kind; public IntPtr HostName, Text; public uint Reason; public IntPtr ReasonName;
        public uint Grant; public IntPtr Displays; public UIntPtr DisplaysLen; public uint SelectedDisplay;
        public RaFrame Frame; public ulong Seq, LatencyUs; public UIntPtr EncodedBytes; public IntPtr Description;
        public byte Enabled; public RaCursorUpdate Cursor;
        public uint Scopes; public ulong ExpiresInMs;
        public byte Countersigned; public IntPtr Redactions; public UIntPtr RedactionsLen;
        public ulong SilentMs;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct RaInvitationInfo
    {
        public UIntPtr StructSize;
        public static RaInvitationInfo Sized() => new RaInvitationInfo { StructSize = (UIntPtr)Marshal.SizeOf(typeof(RaInvitationInfo)) };
        public IntPtr HostName, SessionId; public long CreatedAtUnix, ExpiresAtUnix; public UIntPtr AddressCount;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct RaPolicySettings
    {
        public UIntPtr StructSize;
        public static RaPolicySettings Sized() => new RaPolicySettings { StructSize = (UIntPtr)Marshal.SizeOf(typeof(RaPolicySettings)) };
        public byte AllowAssistance, AllowControl, AllowClipboard;
        public ulong MaxInvitationLifetimeMs, ApprovalTimeoutMs;
        public byte AllowResumeTickets; public ulong MaxResumeTicketLifetimeMs;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct RaSessionStats
    {
        public UIntPtr StructSize;
        public static RaSessionStats Sized() => new RaSessionStats { StructSize = (UIntPtr)Marshal.SizeOf(typeof(RaSessionStats)) };
        public ulong RttUs, PacketsSent, PacketsLost; public double Loss; public ulong BytesSent, BytesReceived;
        public uint TargetBitrate; public double TargetFrameRate;
        public ulong FramesSent, FramesDecoded, FramesDropped, EncodeUsLast, EncodeUsMean, DecodeUsLast, DecodeUsMean;
        public ulong InputEventsSent, InputEventsInjected, InputEventsHeldBack, MessagesDropped, EventsDropped;
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate uint InjectFn(IntPtr userData, IntPtr inputEvent);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate uint StatusFn(IntPtr userData);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate void NotifyFn(IntPtr userData);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate void EventFn(IntPtr userData, IntPtr eventHandle);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate uint DisplaysFn(IntPtr userData, IntPtr displaysOut, IntPtr countOut);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate uint SelectFn(IntPtr userData, uint display);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate uint NextFrameFn(IntPtr userData, uint timeoutMs, IntPtr frameOut);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate uint CursorFn(IntPtr userData, IntPtr updateOut);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate uint EncodeFn(IntPtr userData, IntPtr frame, byte forceKeyframe, IntPtr encodedOut);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate void SetBitrateFn(IntPtr userData, uint bitsPerSecond);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate void LogFn(IntPtr userData, uint level, IntPtr target, IntPtr message);

    [StructLayout(LayoutKind.Sequential)]
    internal struct RaInjectorCallbacks
    {
        public IntPtr UserData; public InjectFn Inject; public StatusFn ReleaseAll; public NotifyFn Destroy;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct RaCapturerCallbacks
    {
        public IntPtr UserData; public DisplaysFn Displays; public SelectFn Select; public NextFrameFn NextFrame;
        public NotifyFn Invalidate; public NotifyFn Destroy; public CursorFn Cursor;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct RaEncoderCallbacks
    {
        public IntPtr UserData; public EncodeFn Encode; public SetBitrateFn SetBitrate; public NotifyFn Destroy;
    }

    internal static class Utf8
    {
        public static byte[] Z(string s)
        {
            if (s == null) return null;
            var bytes = System.Text.Encoding.UTF8.GetBytes(s);
            Array.Resize(ref bytes, bytes.Length + 1);
            return bytes;
        }

        public static string Read(IntPtr p)
        {
            if (p == IntPtr.Zero) return null;
            int n = 0;
            while (Marshal.ReadByte(p, n) != 0) n++;
            var bytes = new byte[n];
            Marshal.Copy(p, bytes, 0, n);
            return System.Text.Encoding.UTF8.GetString(bytes);
        }

        /// A NUL-terminated copy in unmanaged memory (free with Marshal.FreeHGlobal).
        public static IntPtr Alloc(string s)
        {
            var bytes = Z(s);
            var p = Marshal.AllocHGlobal(bytes.Length);
            Marshal.Copy(bytes, 0, p, bytes.Length);
            return p;
        }
    }

    /// Owned handles: the runtime frees each exactly once, even when the
    /// owner is never disposed, and never while a call is using it.
    internal abstract class RaHandle : SafeHandle
    {
        protected RaHandle() : base(IntPtr.Zero, true) { }
        public override bool IsInvalid => handle == IntPtr.Zero;
    }

    internal sealed class PolicyHandle : RaHandle
    {
        protected override bool ReleaseHandle() => N.ra_policy_free(handle) == 0;
    }

    internal sealed class InvitationHandle : RaHandle
    {
        protected override bool ReleaseHandle() => N.ra_invitation_free(handle) == 0;
    }

    internal sealed class HostHandle : RaHandle
    {
        protected override bool ReleaseHandle() => N.ra_host_free(handle) == 0;
    }

    internal sealed class HelperHandle : RaHandle
    {
        protected override bool ReleaseHandle() => N.ra_helper_free(handle) == 0;
    }

    internal sealed class BrokerOptionsHandle : RaHandle
    {
        protected override bool ReleaseHandle() => N.ra_broker_options_free(handle) == 0;
    }

    internal sealed class AssistOfferHandle : RaHandle
    {
        protected override bool ReleaseHandle() => N.ra_assist_offer_free(handle) == 0;
    }

    /// The version check, done once before the library is first used (every
    /// public entry point that needs no existing object calls Ensure): the
    /// library loaded must be compatible with the one this binding was made for.
    internal static class Loader
    {
        static readonly object Gate = new object();
        static bool checkedOnce;
        static string incompatible; // the loaded version, when it does not fit

        public static void Ensure()
        {
            lock (Gate)
            {
                if (!checkedOnce)
                {
                    var loaded = Utf8.Read(N.ra_version()) ?? "";
                    if (!Library.IsCompatible(Library.BindingVersion, loaded)) incompatible = loaded;
                    checkedOnce = true;
                }
            }
            if (incompatible != null) throw new IncompatibleLibraryException(Library.BindingVersion, incompatible);
        }
    }

    internal static class N
    {
        const string Lib = "ra_ffi";
        [DllImport(Lib)] public static extern IntPtr ra_result_name(uint r);
        [DllImport(Lib)] public static extern IntPtr ra_result_message(uint r);
        [DllImport(Lib)] public static extern IntPtr ra_last_error_message();
        [DllImport(Lib)] public static extern uint ra_string_free(IntPtr s);
        [DllImport(Lib)] public static extern IntPtr ra_version();
        [DllImport(Lib)] public static extern uint ra_set_log_callback(LogFn cb, IntPtr userData, uint maxLevel);
        [DllImport(Lib)] public static extern uint ra_log_message(uint level, byte[] origin, byte[] message);
        [DllImport(Lib)] public static extern uint ra_debug_inject_panic(uint point);
        [DllImport(Lib)] public static extern uint ra_key_from_name(byte[] name, out uint key);
        [DllImport(Lib)] public static extern uint ra_policy_new(out PolicyHandle p);
        [DllImport(Lib)] public static extern uint ra_policy_from_toml(byte[] toml, out PolicyHandle p);
        [DllImport(Lib)] public static extern uint ra_policy_load(byte[] path, out PolicyHandle p);
        [DllImport(Lib)] public static extern uint ra_policy_to_toml(PolicyHandle p, out IntPtr s);
        [DllImport(Lib)] public static extern uint ra_policy_get(PolicyHandle p, ref RaPolicySettings s);
        [DllImport(Lib)] public static extern uint ra_policy_set(PolicyHandle p, ref RaPolicySettings s);
        [DllImport(Lib)] public static extern uint ra_policy_free(IntPtr p);
        [DllImport(Lib)] public static extern uint ra_invitation_from_token(byte[] token, out InvitationHandle inv);
        [DllImport(Lib)] public static extern uint ra_invitation_load(byte[] path, out InvitationHandle inv);
        [DllImport(Lib)] public static extern uint ra_invitation_parse(byte[] data, UIntPtr len, out InvitationHandle inv);
        [DllImport(Lib)] public static extern uint ra_invitation_save(InvitationHandle inv, byte[] path);
        [DllImport(Lib)] public static extern uint ra_receipt_verify(byte[] receipt, UIntPtr len, InvitationHandle inv, byte[] organisationKey, out IntPtr s);
        [DllImport(Lib)] public static extern uint ra_receipt_verify(byte[] receipt, UIntPtr len, IntPtr noInvitation, byte[] organisationKey, out IntPtr s);
        [DllImport(Lib)] public static extern uint ra_audit_verify(byte[] path, byte[] receipt, UIntPtr len, out IntPtr s);
        [DllImport(Lib)] public static extern uint ra_invitation_to_token(InvitationHandle inv, out IntPtr s);
        [DllImport(Lib)] public static extern uint ra_invitation_to_file_string(InvitationHandle inv, out IntPtr s);
        [DllImport(Lib)] public static extern uint ra_invitation_to_email(InvitationHandle inv, byte[] from, IntPtr[] to, UIntPtr toCount, byte[] subject, out IntPtr s);
        [DllImport(Lib)] public static extern uint ra_invitation_mailto(InvitationHandle inv, IntPtr[] to, UIntPtr toCount, out IntPtr s);
        [DllImport(Lib)] public static extern uint ra_invitation_get_info(InvitationHandle inv, ref RaInvitationInfo info);
        [DllImport(Lib)] public static extern uint ra_invitation_free(IntPtr inv);
        [DllImport(Lib)] public static extern uint ra_invite_options_new(out IntPtr o);
        [DllImport(Lib)] public static extern uint ra_invite_options_set_host_name(IntPtr o, byte[] name);
        [DllImport(Lib)] public static extern uint ra_invite_options_set_lifetime_ms(IntPtr o, ulong ms);
        [DllImport(Lib)] public static extern uint ra_invite_options_set_listen(IntPtr o, byte[] address);
        [DllImport(Lib)] public static extern uint ra_invite_options_set_rendezvous(IntPtr o, BrokerOptionsHandle broker);
        [DllImport(Lib)] public static extern uint ra_invite_options_add_address(IntPtr o, byte[] address);
        [DllImport(Lib)] public static extern uint ra_invite_options_set_policy(IntPtr o, PolicyHandle policy);
        [DllImport(Lib)] public static extern uint ra_invite_options_set_audit_log(IntPtr o, byte[] path);
        [DllImport(Lib)] public static extern uint ra_invite_options_free(IntPtr o);
        [DllImport(Lib)] public static extern uint ra_accept_options_new(out IntPtr o);
        [DllImport(Lib)] public static extern uint ra_accept_options_set_name(IntPtr o, byte[] name);
        [DllImport(Lib)] public static extern uint ra_accept_options_set_identity(IntPtr o, byte[] credential);
        [DllImport(Lib)] public static extern uint ra_accept_options_set_connect_timeout_ms(IntPtr o, ulong ms);
        [DllImport(Lib)] public static extern uint ra_accept_options_set_approval_timeout_ms(IntPtr o, ulong ms);
        [DllImport(Lib)] public static extern uint ra_accept_options_free(IntPtr o);
        [DllImport(Lib)] public static extern uint ra_host_backends_new(out IntPtr b);
        [DllImport(Lib)] public static extern uint ra_host_backends_use_synthetic_capturer(IntPtr b, uint w, uint h, double fps);
        [DllImport(Lib)] public static extern uint ra_host_backends_use_screen_capturer(IntPtr b, byte[] display);
        [DllImport(Lib)] public static extern uint ra_host_backends_set_capturer(IntPtr b, ref RaCapturerCallbacks table);
        [DllImport(Lib)] public static extern uint ra_host_backends_use_openh264_encoder(IntPtr b);
        [DllImport(Lib)] public static extern uint ra_host_backends_set_encoder(IntPtr b, ref RaEncoderCallbacks table);
        [DllImport(Lib)] public static extern uint ra_host_backends_use_null_injector(IntPtr b);
        [DllImport(Lib)] public static extern uint ra_host_backends_use_log_injector(IntPtr b);
        [DllImport(Lib)] public static extern uint ra_host_backends_use_system_injector(IntPtr b, byte[] display);
        [DllImport(Lib)] public static extern uint ra_host_backends_set_wayland_api(IntPtr b, uint api);
        [DllImport(Lib)] public static extern uint ra_host_backends_set_injector(IntPtr b, ref RaInjectorCallbacks table);
        [DllImport(Lib)] public static extern uint ra_host_backends_set_panic_key(IntPtr b, byte[] display, byte[] combo);
        [DllImport(Lib)] public static extern uint ra_host_backends_set_local_user_wins_ms(IntPtr b, byte[] display, uint holdMs);
        [DllImport(Lib)] public static extern uint ra_host_backends_use_system_clipboard(IntPtr b, byte[] display);
        [DllImport(Lib)] public static extern uint ra_host_backends_free(IntPtr b);
        [DllImport(Lib)] public static extern uint ra_diagnose(BrokerOptionsHandle broker, out IntPtr diagnosis);
        [DllImport(Lib)] public static extern uint ra_diagnosis_get_verdict(IntPtr diagnosis, out byte ok, out IntPtr text);
        [DllImport(Lib)] public static extern uint ra_diagnosis_get_check_count(IntPtr diagnosis, out UIntPtr count);
        [DllImport(Lib)] public static extern uint ra_diagnosis_get_check(IntPtr diagnosis, UIntPtr index, ref RaDiagnosisCheck check);
        [DllImport(Lib)] public static extern uint ra_diagnosis_free(IntPtr diagnosis);
        [DllImport(Lib)] public static extern uint ra_host_invite(IntPtr options, IntPtr backends, out HostHandle host);
        [DllImport(Lib)] public static extern uint ra_host_get_invitation(HostHandle host, out InvitationHandle inv);
        [DllImport(Lib)] public static extern uint ra_host_get_password(HostHandle host, out IntPtr s);
        [DllImport(Lib)] public static extern uint ra_host_get_port(HostHandle host, out ushort port);
        [DllImport(Lib)] public static extern uint ra_host_next_event(HostHandle host, uint timeoutMs, out IntPtr ev);
        [DllImport(Lib)] public static extern uint ra_host_set_event_callback(HostHandle host, EventFn cb, IntPtr userData);
        [DllImport(Lib)] public static extern uint ra_host_event_get_data(IntPtr ev, ref RaHostEventData data);
        [DllImport(Lib)] public static extern uint ra_host_event_free(IntPtr ev);
        [DllImport(Lib)] public static extern uint ra_host_approve(HostHandle host, ulong conn);
        [DllImport(Lib)] public static extern uint ra_host_deny(HostHandle host, ulong conn);
        [DllImport(Lib)] public static extern uint ra_host_grant_control(HostHandle host, ulong conn);
        [DllImport(Lib)] public static extern uint ra_host_grant_control_with(HostHandle host, ulong conn, uint scopes, ulong durationMs);
        [DllImport(Lib)] public static extern IntPtr ra_unverified_helper_warning();
        [DllImport(Lib)] public static extern uint ra_host_deny_control(HostHandle host, ulong conn);
        [DllImport(Lib)] public static extern uint ra_host_revoke(HostHandle host);
        [DllImport(Lib)] public static extern uint ra_host_revoke_panic_key(HostHandle host);
        [DllImport(Lib)] public static extern uint ra_host_local_input_seen(HostHandle host, uint holdMs);
        [DllImport(Lib)] public static extern uint ra_host_pause(HostHandle host);
        [DllImport(Lib)] public static extern uint ra_host_resume(HostHandle host);
        [DllImport(Lib)] public static extern uint ra_host_chat(HostHandle host, byte[] text);
        [DllImport(Lib)] public static extern uint ra_host_end(HostHandle host);
        [DllImport(Lib)] public static extern uint ra_host_close_invitation(HostHandle host);
        [DllImport(Lib)] public static extern uint ra_host_set_policy(HostHandle host, PolicyHandle policy);
        [DllImport(Lib)] public static extern uint ra_host_set_clipboard_sharing(HostHandle host, byte enabled);
        [DllImport(Lib)] public static extern uint ra_host_set_redactions(HostHandle host, RaRect[] rects, UIntPtr count);
        [DllImport(Lib)] public static extern uint ra_host_set_redacted_windows(HostHandle host, IntPtr[] classes, UIntPtr count);
        [DllImport(Lib)] public static extern uint ra_host_send_clipboard(HostHandle host, byte[] text);
        [DllImport(Lib)] public static extern uint ra_host_easy_connect(BrokerOptionsHandle broker, IntPtr options, IntPtr backends, out HostHandle host);
        [DllImport(Lib)] public static extern uint ra_host_join(BrokerOptionsHandle broker, byte[] code, IntPtr options, IntPtr backends, out HostHandle host);
        [DllImport(Lib)] public static extern uint ra_host_get_code_info(HostHandle host, ref RaCodeInfo info);
        [DllImport(Lib)] public static extern uint ra_host_issue_resume_ticket(HostHandle host, byte[] key, UIntPtr keyLen, ulong lifetimeMs, byte[] path);
        [DllImport(Lib)] public static extern uint ra_host_resume_from_ticket(byte[] path, byte[] key, UIntPtr keyLen, IntPtr options, IntPtr backends, out HostHandle host);
        [DllImport(Lib)] public static extern uint ra_host_get_stats(HostHandle host, ref RaSessionStats stats);
        [DllImport(Lib)] public static extern uint ra_host_free(IntPtr host);
        [DllImport(Lib)] public static extern uint ra_helper_accept(InvitationHandle inv, byte[] password, IntPtr options, out HelperHandle helper);
        [DllImport(Lib)] public static extern uint ra_helper_get_host_name(HelperHandle helper, out IntPtr s);
        [DllImport(Lib)] public static extern uint ra_helper_get_control_state(HelperHandle helper, out uint state);
        [DllImport(Lib)] public static extern uint ra_helper_next_event(HelperHandle helper, uint timeoutMs, out IntPtr ev);
        [DllImport(Lib)] public static extern uint ra_helper_set_event_callback(HelperHandle helper, EventFn cb, IntPtr userData);
        [DllImport(Lib)] public static extern uint ra_helper_event_get_data(IntPtr ev, ref RaHelperEventData data);
        [DllImport(Lib)] public static extern uint ra_helper_event_free(IntPtr ev);
        [DllImport(Lib)] public static extern uint ra_frame_copy(ref RaFrame frame, byte[] dst, UIntPtr dstLen, UIntPtr dstStride);
        [DllImport(Lib)] public static extern uint ra_frame_copy(IntPtr frame, byte[] dst, UIntPtr dstLen, UIntPtr dstStride);
        [DllImport(Lib)] public static extern uint ra_helper_request_control(HelperHandle helper);
        [DllImport(Lib)] public static extern uint ra_helper_request_control_scopes(HelperHandle helper, uint scopes);
        [DllImport(Lib)] public static extern uint ra_helper_release_control(HelperHandle helper);
        [DllImport(Lib)] public static extern uint ra_helper_select_display(HelperHandle helper, uint display);
        [DllImport(Lib)] public static extern uint ra_helper_request_keyframe(HelperHandle helper);
        [DllImport(Lib)] public static extern uint ra_helper_pointer(HelperHandle helper, int x, int y, uint kind);
        [DllImport(Lib)] public static extern uint ra_helper_send_input(HelperHandle helper, RaInputEvent[] events, UIntPtr count);
        [DllImport(Lib)] public static extern uint ra_helper_chat(HelperHandle helper, byte[] text);
        [DllImport(Lib)] public static extern uint ra_helper_end(HelperHandle helper);
        [DllImport(Lib)] public static extern uint ra_helper_send_clipboard(HelperHandle helper, byte[] text);
        [DllImport(Lib)] public static extern uint ra_helper_get_path(HelperHandle helper, out uint path);
        [DllImport(Lib)] public static extern uint ra_helper_get_stats(HelperHandle helper, ref RaSessionStats stats);
        [DllImport(Lib)] public static extern uint ra_helper_easy_connect(BrokerOptionsHandle broker, byte[] code, IntPtr options, out HelperHandle helper);
        [DllImport(Lib)] public static extern uint ra_helper_free(IntPtr helper);
        [DllImport(Lib)] public static extern uint ra_helper_assist(BrokerOptionsHandle broker, IntPtr options, out AssistOfferHandle offer);
        [DllImport(Lib)] public static extern uint ra_assist_offer_get_code_info(AssistOfferHandle offer, ref RaCodeInfo info);
        [DllImport(Lib)] public static extern uint ra_assist_offer_wait(AssistOfferHandle offer, uint timeoutMs, out HelperHandle helper);
        [DllImport(Lib)] public static extern uint ra_assist_offer_free(IntPtr offer);
        [DllImport(Lib)] public static extern uint ra_broker_options_new(byte[] address, out BrokerOptionsHandle broker);
        [DllImport(Lib)] public static extern uint ra_broker_options_set_fingerprint(BrokerOptionsHandle broker, byte[] fingerprint);
        [DllImport(Lib)] public static extern uint ra_broker_options_set_ca(BrokerOptionsHandle broker, byte[] pem, UIntPtr pemLen, byte[] serverName);
        [DllImport(Lib)] public static extern uint ra_broker_options_set_bind(BrokerOptionsHandle broker, byte[] address);
        [DllImport(Lib)] public static extern uint ra_broker_options_set_try_direct(BrokerOptionsHandle broker, byte tryDirect);
        [DllImport(Lib)] public static extern uint ra_broker_options_set_direct_timeout_ms(BrokerOptionsHandle broker, ulong ms);
        [DllImport(Lib)] public static extern uint ra_broker_options_set_connect_timeout_ms(BrokerOptionsHandle broker, ulong ms);
        [DllImport(Lib)] public static extern uint ra_broker_options_set_code_lifetime_ms(BrokerOptionsHandle broker, ulong ms);
        [DllImport(Lib)] public static extern uint ra_broker_options_free(IntPtr broker);
    }
}
