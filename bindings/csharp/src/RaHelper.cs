// The helper: a live session (from an invitation, a code the host read out,
// or Quick Assist's offer).
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using Ra.Interop;

namespace Ra
{
    /// <summary>How a helper connects.</summary>
    public sealed class AcceptOptions
    {
        /// <summary>The name the host sees in the connection request.</summary>
        public string Name = "ra helper";
        /// <summary>How long to try each address of the invitation (null: 5 s).</summary>
        public TimeSpan? ConnectTimeout;
        /// <summary>How long to wait for the host user to let the helper in (null: 120 s).</summary>
        public TimeSpan? ApprovalTimeout;
        /// <summary>The helper's identity (the text of `ra-org issue`'s file), shown to the host.</summary>
        public string Identity;

        internal IntPtr Build()
        {
            RaException.Check(N.ra_accept_options_new(out IntPtr options));
            try
            {
                RaException.Check(N.ra_accept_options_set_name(options, Utf8.Z(Name)));
                if (Identity != null)
                    RaException.Check(N.ra_accept_options_set_identity(options, Utf8.Z(Identity)));
                if (ConnectTimeout.HasValue)
                    RaException.Check(N.ra_accept_options_set_connect_timeout_ms(options, Library.PositiveMillis(ConnectTimeout.Value)));
                if (ApprovalTimeout.HasValue)
                    RaException.Check(N.ra_accept_options_set_approval_timeout_ms(options, Library.PositiveMillis(ApprovalTimeout.Value)));
                return options;
            }
            catch
            {
                N.ra_accept_options_free(options);
                throw;
            }
        }
    }

    /// <summary>A helper's live session. Any thread may use it; Dispose ends it and tells the host.</summary>
    public sealed class Helper : IDisposable
    {
        readonly HelperHandle handle;
        EventFn callback;
        EventHandler<HelperEventArgs> received;

        internal Helper(HelperHandle handle) { this.handle = handle; }

        delegate uint ConnectFn(IntPtr options, out HelperHandle helper);

        static Helper Connect(AcceptOptions options, ConnectFn connect)
        {
            Loader.Ensure();
            var raw = (options ?? new AcceptOptions()).Build();
            try
            {
                RaException.Check(connect(raw, out HelperHandle h));
                return new Helper(h);
            }
            finally { N.ra_accept_options_free(raw); }
        }

        /// <summary>Connects and waits until the host lets the helper in.</summary>
        public static Helper Accept(Invitation invitation, string password, AcceptOptions options) =>
            Connect(options, (IntPtr o, out HelperHandle h) => N.ra_helper_accept(invitation.Handle, Utf8.Z(password), o, out h));

        /// <summary>Connects as `name` and waits until the host lets the helper in.</summary>
        public static Helper Accept(Invitation invitation, string password, string name = "ra helper") =>
            Accept(invitation, password, new AcceptOptions { Name = name });

        /// <summary>Easy Connect: connects with the code the host read out and waits until the host
        /// lets the helper in (the broker's timeouts apply, not ConnectTimeout).</summary>
        public static Helper EasyConnect(BrokerOptions broker, string code, AcceptOptions options) =>
            Connect(options, (IntPtr o, out HelperHandle h) => N.ra_helper_easy_connect(broker.Handle, Utf8.Z(code), o, out h));

        /// <summary>Easy Connect as `name`.</summary>
        public static Helper EasyConnect(BrokerOptions broker, string code, string name = "ra helper") =>
            EasyConnect(broker, code, new AcceptOptions { Name = name });

        /// <summary>Quick Assist: registers a code to read to the host; wait with AssistOffer.Wait.</summary>
        public static AssistOffer Assist(BrokerOptions broker, AcceptOptions options)
        {
            Loader.Ensure();
            var raw = (options ?? new AcceptOptions()).Build();
            try
            {
                RaException.Check(N.ra_helper_assist(broker.Handle, raw, out AssistOfferHandle offer));
                return new AssistOffer(offer);
            }
            finally { N.ra_accept_options_free(raw); }
        }

        /// <summary>Quick Assist as `name`.</summary>
        public static AssistOffer Assist(BrokerOptions broker, string name = "ra helper") =>
            Assist(broker, new AcceptOptions { Name = name });

        /// <summary>The host's name.</summary>
        public string HostName
        {
            get
            {
                RaException.Check(N.ra_helper_get_host_name(handle, out IntPtr s));
                return RaException.TakeString(s);
            }
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

        /// <summary>The control state as last seen (0 none, 1 requested, 2 granted: RA_CONTROL_*).</summary>
        public uint ControlState
        {
            get
            {
                RaException.Check(N.ra_helper_get_control_state(handle, out uint state));
                return state;
            }
        }

        /// <summary>The session's statistics; never blocks.</summary>
        public SessionStats Stats()
        {
            var s = RaSessionStats.Sized();
            RaException.Check(N.ra_helper_get_stats(handle, ref s));
            return SessionStats.From(s);
        }

        /// <summary>The next event (frames included), or null after `timeout`; throws
        /// RaException(Closed) once the session ended and every event was taken.</summary>
        public HelperEvent NextEvent(TimeSpan timeout)
        {
            uint r = N.ra_helper_next_event(handle, Library.Millis(timeout), out IntPtr ev);
            if (r == (uint)Result.Timeout) return null;
            RaException.Check(r);
            try { return HelperEvent.From(ev); } finally { N.ra_helper_event_free(ev); }
        }

        /// <summary>Events until the session is over; TimeoutException if none comes within `timeout`.</summary>
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

        /// <summary>Raised on the helper's callback thread for every event, frames included
        /// (polling is refused meanwhile). A handler's exception goes to
        /// Library.UnhandledCallbackException.</summary>
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
                            catch (Exception e) { Library.ReportCallbackException("Helper.EventReceived", e); }
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

        /// <summary>Asks the host for control (ControlGranted or ControlDenied follows).</summary>
        public void RequestControl() => RaException.Check(N.ra_helper_request_control(handle));
        /// <summary>Asks for control of only `scopes`; the host may give less.</summary>
        public void RequestControl(Scope scopes) => RaException.Check(N.ra_helper_request_control_scopes(handle, (uint)scopes));
        /// <summary>Gives control back to the host.</summary>
        public void ReleaseControl() => RaException.Check(N.ra_helper_release_control(handle));
        /// <summary>Watch another display of the host (an id from a Displays event).</summary>
        public void SelectDisplay(uint display) => RaException.Check(N.ra_helper_select_display(handle, display));
        /// <summary>Ask the host for a whole picture.</summary>
        public void RequestKeyframe() => RaException.Check(N.ra_helper_request_keyframe(handle));
        /// <summary>Show a pointer or laser mark on the host's screen (kind: RA_POINTER_*).</summary>
        public void Pointer(int x, int y, uint kind) => RaException.Check(N.ra_helper_pointer(handle, x, y, kind));
        /// <summary>Sends a chat message to the host.</summary>
        public void Chat(string text) => RaException.Check(N.ra_helper_chat(handle, Utf8.Z(text)));
        /// <summary>Sends the helper's clipboard text (while the host shares the clipboard).</summary>
        public void SendClipboard(string text) => RaException.Check(N.ra_helper_send_clipboard(handle, Utf8.Z(text)));
        /// <summary>Ends the session and waits (up to 2 s) until the host was told.</summary>
        public void End() => RaException.Check(N.ra_helper_end(handle));

        /// <summary>Sends input events, in order (Result.NotControlling without a grant).</summary>
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

        /// <summary>Ends the session if it is live, tells the host and frees the helper.</summary>
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
            uint r = N.ra_assist_offer_wait(handle, Library.Millis(timeout), out HelperHandle h);
            if (r == (uint)Result.Timeout) return null;
            RaException.Check(r);
            return new Helper(h);
        }

        /// <summary>Frees the offer (a session not yet taken is ended).</summary>
        public void Dispose() => handle.Dispose();
    }
}
