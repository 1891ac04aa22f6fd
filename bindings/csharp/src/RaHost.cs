// The host: an open invitation (or a short code) and the session made through it.
using System;
using System.Collections.Generic;
using Ra.Interop;

namespace Ra
{
    /// <summary>How an invitation (or a code) is opened.</summary>
    public sealed class InviteOptions
    {
        /// <summary>The name the helper sees (1–64 characters).</summary>
        public string HostName = "ra host";
        /// <summary>Where to listen, "IP:PORT" (null: every IPv4 address, any free port;
        /// not used by the code flows).</summary>
        public string Listen;
        /// <summary>Addresses ("IP:PORT") to write into the invitation instead of the ones
        /// derived from the listening socket.</summary>
        public List<string> Addresses = new List<string>();
        /// <summary>The host's policy (copied; null: the defaults).</summary>
        public Policy Policy;
        /// <summary>How long the invitation stays open (null: 6 hours; the policy caps it).</summary>
        public TimeSpan? Lifetime;
        /// <summary>A file the session's audit log (JSON lines) is appended to (null: none).</summary>
        public string AuditLog;
        /// <summary>A broker for helpers behind NATs and firewalls (null: none): the invitation
        /// also names it, and a helper that cannot reach this machine connects by hole punching
        /// or through the broker's relay. Ignored by the short-code flows.</summary>
        public BrokerOptions Rendezvous;

        internal IntPtr Build()
        {
            RaException.Check(N.ra_invite_options_new(out IntPtr options));
            try
            {
                RaException.Check(N.ra_invite_options_set_host_name(options, Utf8.Z(HostName)));
                if (Listen != null) RaException.Check(N.ra_invite_options_set_listen(options, Utf8.Z(Listen)));
                foreach (var address in Addresses ?? new List<string>())
                    RaException.Check(N.ra_invite_options_add_address(options, Utf8.Z(address)));
                if (Policy != null) RaException.Check(N.ra_invite_options_set_policy(options, Policy.Handle));
                if (Lifetime.HasValue) RaException.Check(N.ra_invite_options_set_lifetime_ms(options, Library.PositiveMillis(Lifetime.Value)));
                if (AuditLog != null) RaException.Check(N.ra_invite_options_set_audit_log(options, Utf8.Z(AuditLog)));
                if (Rendezvous != null) RaException.Check(N.ra_invite_options_set_rendezvous(options, Rendezvous.Handle));
                return options;
            }
            catch
            {
                N.ra_invite_options_free(options);
                throw;
            }
        }
    }

    /// <summary>A host: an open invitation or a short code, and the session made through it.
    /// Any thread may use it; Dispose ends the session, tells the helper, and frees it (every
    /// managed backend's OnReleased has run when it returns).</summary>
    public sealed class Host : IDisposable
    {
        readonly HostHandle handle;
        EventFn callback; // referenced here so the GC keeps it while C holds it
        EventHandler<HostEventArgs> received;

        Host(HostHandle handle) { this.handle = handle; }

        delegate uint StartFn(IntPtr options, IntPtr backends, out HostHandle host);

        static Host Start(InviteOptions options, HostBackends backends, StartFn start)
        {
            Loader.Ensure();
            var rawOptions = (options ?? new InviteOptions()).Build();
            IntPtr rawBackends = IntPtr.Zero;
            try
            {
                RaException.Check(N.ra_host_backends_new(out rawBackends));
                (backends ?? new HostBackends()).Apply(rawBackends);
                RaException.Check(start(rawOptions, rawBackends, out HostHandle host));
                return new Host(host);
            }
            finally
            {
                N.ra_host_backends_free(rawBackends);
                N.ra_invite_options_free(rawOptions);
            }
        }

        static HostBackends Backends(uint width, uint height, double frameRate, Injector injector, Desk desk, Screen screen) =>
            new HostBackends { Width = width, Height = height, FrameRate = frameRate, Injector = injector, Desk = desk, Screen = screen };

        /// <summary>Opens an invitation (blocks until listening).</summary>
        public static Host Invite(InviteOptions options, HostBackends backends = null) =>
            Start(options, backends, (IntPtr o, IntPtr b, out HostHandle h) => N.ra_host_invite(o, b, out h));

        /// <summary>Opens an invitation with the synthetic capturer (or `screen`), OpenH264 and
        /// `injector` (null: input dropped).</summary>
        public static Host Invite(string hostName = "ra host", string listen = "0.0.0.0:0", Policy policy = null,
                                  uint width = 1280, uint height = 720, double frameRate = 30, Injector injector = null,
                                  Desk desk = null, Screen screen = null) =>
            Invite(new InviteOptions { HostName = hostName, Listen = listen, Policy = policy },
                   Backends(width, height, frameRate, injector, desk, screen));

        /// <summary>Re-opens the session of the resume ticket in the file `path`, sealed with `key`
        /// (32 bytes), after the host's application or machine restarted: the ticket is taken out of
        /// the file (used once); the helper reconnects by itself, its ConnectionRequest has Resumes
        /// set and needs approval, and control needs a new grant. `options` give the policy (which
        /// must allow resume tickets) and the audit log. Result.TicketUsed, TicketExpired,
        /// TicketInvalid, Policy, Bind.</summary>
        public static Host ResumeFromTicket(string path, byte[] key, InviteOptions options, HostBackends backends = null)
        {
            if (key == null) throw new ArgumentNullException(nameof(key));
            return Start(options, backends, (IntPtr o, IntPtr b, out HostHandle h) =>
                N.ra_host_resume_from_ticket(Utf8.Z(path), key, new UIntPtr((uint)key.Length), o, b, out h));
        }

        /// <summary>Easy Connect: registers a code with the broker; read CodeInfo.Code to the
        /// helper. `options` give the host name, policy, audit log and a lifetime cap.</summary>
        public static Host EasyConnect(BrokerOptions broker, InviteOptions options, HostBackends backends = null) =>
            Start(options, backends, (IntPtr o, IntPtr b, out HostHandle h) => N.ra_host_easy_connect(broker.Handle, o, b, out h));

        /// <summary>Easy Connect with the synthetic capturer (or `screen`).</summary>
        public static Host EasyConnect(BrokerOptions broker, string hostName = "ra host", Policy policy = null,
                                       uint width = 1280, uint height = 720, double frameRate = 30, Injector injector = null,
                                       Desk desk = null, Screen screen = null) =>
            EasyConnect(broker, new InviteOptions { HostName = hostName, Policy = policy },
                        Backends(width, height, frameRate, injector, desk, screen));

        /// <summary>Quick Assist: connects to the helper whose code the user typed.</summary>
        public static Host Join(BrokerOptions broker, string code, InviteOptions options, HostBackends backends = null) =>
            Start(options, backends, (IntPtr o, IntPtr b, out HostHandle h) => N.ra_host_join(broker.Handle, Utf8.Z(code), o, b, out h));

        /// <summary>Quick Assist with the synthetic capturer (or `screen`).</summary>
        public static Host Join(BrokerOptions broker, string code, string hostName = "ra host", Policy policy = null,
                                uint width = 1280, uint height = 720, double frameRate = 30, Injector injector = null,
                                Desk desk = null, Screen screen = null) =>
            Join(broker, code, new InviteOptions { HostName = hostName, Policy = policy },
                 Backends(width, height, frameRate, injector, desk, screen));

        /// <summary>The code of a host started from one (Result.InvalidState otherwise).</summary>
        public CodeInfo CodeInfo
        {
            get
            {
                var info = RaCodeInfo.Sized();
                RaException.Check(N.ra_host_get_code_info(handle, ref info));
                return CodeInfo.From(info);
            }
        }

        /// <summary>A copy of the invitation: save it, or make it a token or an email.</summary>
        public Invitation Invitation
        {
            get
            {
                RaException.Check(N.ra_host_get_invitation(handle, out InvitationHandle h));
                return new Invitation(h);
            }
        }

        /// <summary>The password to tell the helper separately ("XXXX-XXXX-XXXXX").</summary>
        public string Password
        {
            get
            {
                RaException.Check(N.ra_host_get_password(handle, out IntPtr s));
                return RaException.TakeString(s);
            }
        }

        /// <summary>The UDP port the host listens on (Result.InvalidState for a host from a code).</summary>
        public ushort Port
        {
            get
            {
                RaException.Check(N.ra_host_get_port(handle, out ushort port));
                return port;
            }
        }

        /// <summary>The session's statistics; never blocks.</summary>
        public SessionStats Stats()
        {
            var s = RaSessionStats.Sized();
            RaException.Check(N.ra_host_get_stats(handle, ref s));
            return SessionStats.From(s);
        }

        /// <summary>The next event, or null after `timeout`; throws RaException(Closed) once the host has closed.</summary>
        public HostEvent NextEvent(TimeSpan timeout)
        {
            uint r = N.ra_host_next_event(handle, Library.Millis(timeout), out IntPtr ev);
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
        /// (polling is refused meanwhile); removing the last handler goes back to polling. A
        /// handler's exception goes to Library.UnhandledCallbackException.</summary>
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
                            catch (Exception e) { Library.ReportCallbackException("Host.EventReceived", e); }
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

        /// <summary>Lets a helper in after a ConnectionRequest (view only).</summary>
        public void Approve(ulong connection) => RaException.Check(N.ra_host_approve(handle, connection));
        /// <summary>Turns a helper away after a ConnectionRequest.</summary>
        public void Deny(ulong connection) => RaException.Check(N.ra_host_deny(handle, connection));
        /// <summary>Grants control after ControlRequested (Result.Policy when the policy forbids it).</summary>
        public void GrantControl(ulong connection) => RaException.Check(N.ra_host_grant_control(handle, connection));
        /// <summary>Grants control of `scopes` (only those the helper asked for) for `duration`
        /// (null: until revoked; the policy caps it).</summary>
        public void GrantControl(ulong connection, Scope scopes, TimeSpan? duration = null) =>
            RaException.Check(N.ra_host_grant_control_with(handle, connection, (uint)scopes,
                duration.HasValue ? (ulong)Math.Max(1, duration.Value.TotalMilliseconds) : 0));
        /// <summary>The SDK's standard warning for a helper whose identity is not verified.</summary>
        public static string UnverifiedHelperWarning => Utf8.Read(N.ra_unverified_helper_warning());
        /// <summary>Denies a control request.</summary>
        public void DenyControl(ulong connection) => RaException.Check(N.ra_host_deny_control(handle, connection));
        /// <summary>Takes control back at once; what the helper held is released.</summary>
        public void Revoke() => RaException.Check(N.ra_host_revoke(handle));
        /// <summary>Takes control back as the local panic key does (reason panic_key).</summary>
        public void RevokePanicKey() => RaException.Check(N.ra_host_revoke_panic_key(handle));
        /// <summary>The local user is busy: the helper's input is held back for holdMs.</summary>
        public void LocalInputSeen(uint holdMs) => RaException.Check(N.ra_host_local_input_seen(handle, holdMs));
        /// <summary>Issues a single-use resume ticket for the live session, valid for `lifetime`
        /// (the policy caps it, at most 15 minutes), sealed with `key` (32 bytes), into the file
        /// `path` (readable by its owner only). The policy must have allow_resume_tickets
        /// (Result.Policy otherwise); Result.NoSession without an approved helper.</summary>
        public void IssueResumeTicket(byte[] key, TimeSpan lifetime, string path)
        {
            if (key == null) throw new ArgumentNullException(nameof(key));
            RaException.Check(N.ra_host_issue_resume_ticket(handle, key, new UIntPtr((uint)key.Length),
                Library.PositiveMillis(lifetime), Utf8.Z(path)));
        }
        /// <summary>Pauses: no video, no control.</summary>
        public void Pause() => RaException.Check(N.ra_host_pause(handle));
        /// <summary>Resumes sharing the screen (control stays revoked).</summary>
        public void Resume() => RaException.Check(N.ra_host_resume(handle));
        /// <summary>Sends a chat message to the helper.</summary>
        public void Chat(string text) => RaException.Check(N.ra_host_chat(handle, Utf8.Z(text)));
        /// <summary>Ends the current session; the invitation stays open.</summary>
        public void End() => RaException.Check(N.ra_host_end(handle));
        /// <summary>Stops taking connections (closes the invitation, or the code); a live session continues.</summary>
        public void CloseInvitation() => RaException.Check(N.ra_host_close_invitation(handle));
        /// <summary>Applies a new policy at once (copied): control off revokes a grant,
        /// assistance off closes the invitation.</summary>
        public void SetPolicy(Policy policy) => RaException.Check(N.ra_host_set_policy(handle, policy.Handle));
        /// <summary>Turns clipboard sharing on or off (Result.Policy unless the policy allows it).</summary>
        public void SetClipboardSharing(bool enabled) => RaException.Check(N.ra_host_set_clipboard_sharing(handle, (byte)(enabled ? 1 : 0)));
        /// <summary>Masks these desktop rectangles besides the policy's redact (none: unmask them):
        /// painted black before encoding, pointer input inside dropped, the helper told
        /// (Redactions events). Result.InvalidArgument for an empty rectangle or too many.</summary>
        public void SetRedactions(params Rect[] rects)
        {
            var native = new RaRect[rects == null ? 0 : rects.Length];
            for (int i = 0; i < native.Length; i++) native[i] = rects[i].ToNative();
            RaException.Check(N.ra_host_set_redactions(handle, native.Length == 0 ? null : native, new UIntPtr((uint)native.Length)));
        }
        /// <summary>Masks the windows of these classes (X11 WM_CLASS, without case) wherever they
        /// move, besides the policy's redact_windows (none: stop); needs the real X11 screen.
        /// Result.InvalidArgument for an empty or too long class, or too many.</summary>
        public void SetRedactedWindows(params string[] classes)
        {
            var handles = new System.Runtime.InteropServices.GCHandle[classes == null ? 0 : classes.Length];
            var pointers = new IntPtr[handles.Length];
            try
            {
                for (int i = 0; i < handles.Length; i++)
                {
                    handles[i] = System.Runtime.InteropServices.GCHandle.Alloc(Utf8.Z(classes[i] ?? ""), System.Runtime.InteropServices.GCHandleType.Pinned);
                    pointers[i] = handles[i].AddrOfPinnedObject();
                }
                RaException.Check(N.ra_host_set_redacted_windows(handle, pointers.Length == 0 ? null : pointers, new UIntPtr((uint)pointers.Length)));
            }
            finally
            {
                foreach (var h in handles) if (h.IsAllocated) h.Free();
            }
        }
        /// <summary>Sends the host's clipboard text to the helper.</summary>
        public void SendClipboard(string text) => RaException.Check(N.ra_host_send_clipboard(handle, Utf8.Z(text)));
        /// <summary>Ends any session, closes the invitation, tells the helper and frees the host.</summary>
        public void Dispose() => handle.Dispose();
    }
}
