// The host's policy, invitations, and the broker of the short-code flows.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using Ra.Interop;

namespace Ra
{
    /// <summary>The policy's settings as plain values (Policy.Settings).</summary>
    public sealed class PolicySettings
    {
        /// <summary>Invitations may be opened ("Allow Remote Assistance connections").</summary>
        public bool AllowAssistance;
        /// <summary>A helper may be granted control.</summary>
        public bool AllowControl;
        /// <summary>The clipboard may be shared.</summary>
        public bool AllowClipboard;
        /// <summary>The longest an invitation stays valid.</summary>
        public TimeSpan MaxInvitationLifetime;
        /// <summary>How long a connection request waits for an answer.</summary>
        public TimeSpan ApprovalTimeout;
        /// <summary>The host may issue resume tickets (Host.IssueResumeTicket).</summary>
        public bool AllowResumeTickets;
        /// <summary>The longest a resume ticket stays valid (at most 15 minutes; the default).</summary>
        public TimeSpan MaxResumeTicketLifetime = TimeSpan.FromMinutes(15);
    }

    /// <summary>The host's policy, enforced by the engine: from the defaults, TOML text or a
    /// file; read and changed as PolicySettings; given to a host (InviteOptions.Policy, Host.SetPolicy).</summary>
    public sealed class Policy : IDisposable
    {
        internal readonly PolicyHandle Handle;

        Policy(PolicyHandle handle) { Handle = handle; }

        /// <summary>The defaults: assistance and control allowed, invitations up to 6 hours,
        /// 60 s to approve, no clipboard.</summary>
        public Policy()
        {
            Loader.Ensure();
            RaException.Check(N.ra_policy_new(out Handle));
        }

        /// <summary>A policy from TOML text ("allow_control = false"); missing keys take their
        /// default, unknown keys are an error (Result.InvalidPolicy).</summary>
        public Policy(string toml)
        {
            Loader.Ensure();
            RaException.Check(N.ra_policy_from_toml(Utf8.Z(toml), out Handle));
        }

        /// <summary>Reads a policy file (TOML); Result.Io when it cannot be read.</summary>
        public static Policy Load(string path)
        {
            Loader.Ensure();
            RaException.Check(N.ra_policy_load(Utf8.Z(path), out PolicyHandle h));
            return new Policy(h);
        }

        /// <summary>The policy as TOML text (Policy(string) reads it back).</summary>
        public string ToToml()
        {
            RaException.Check(N.ra_policy_to_toml(Handle, out IntPtr s));
            return RaException.TakeString(s);
        }

        /// <summary>The settings (a copy); setting them replaces all of them, and out-of-range
        /// values (a zero lifetime, more than a year) are refused with Result.InvalidPolicy.</summary>
        public PolicySettings Settings
        {
            get
            {
                var s = RaPolicySettings.Sized();
                RaException.Check(N.ra_policy_get(Handle, ref s));
                return new PolicySettings
                {
                    AllowAssistance = s.AllowAssistance != 0, AllowControl = s.AllowControl != 0,
                    AllowClipboard = s.AllowClipboard != 0,
                    MaxInvitationLifetime = TimeSpan.FromMilliseconds(s.MaxInvitationLifetimeMs),
                    ApprovalTimeout = TimeSpan.FromMilliseconds(s.ApprovalTimeoutMs),
                    AllowResumeTickets = s.AllowResumeTickets != 0,
                    MaxResumeTicketLifetime = TimeSpan.FromMilliseconds(s.MaxResumeTicketLifetimeMs),
                };
            }
            set
            {
                if (value == null) throw new ArgumentNullException(nameof(value));
                var s = RaPolicySettings.Sized();
                s.AllowAssistance = (byte)(value.AllowAssistance ? 1 : 0);
                s.AllowControl = (byte)(value.AllowControl ? 1 : 0);
                s.AllowClipboard = (byte)(value.AllowClipboard ? 1 : 0);
                s.MaxInvitationLifetimeMs = Library.PositiveMillis(value.MaxInvitationLifetime);
                s.ApprovalTimeoutMs = Library.PositiveMillis(value.ApprovalTimeout);
                s.AllowResumeTickets = (byte)(value.AllowResumeTickets ? 1 : 0);
                s.MaxResumeTicketLifetimeMs = Library.PositiveMillis(value.MaxResumeTicketLifetime);
                RaException.Check(N.ra_policy_set(Handle, ref s));
            }
        }

        /// <summary>Frees the policy now (otherwise the finalizer does).</summary>
        public void Dispose() => Handle.Dispose();
    }

    /// <summary>What an invitation says.</summary>
    public sealed class InvitationInfo
    {
        /// <summary>The host's name.</summary>
        public string HostName;
        /// <summary>The session id in hex.</summary>
        public string SessionId;
        /// <summary>When it was made.</summary>
        public DateTimeOffset CreatedAt;
        /// <summary>When it expires.</summary>
        public DateTimeOffset ExpiresAt;
        /// <summary>How many addresses it lists.</summary>
        public int AddressCount;
    }

    /// <summary>What the host hands out: a file, a token or an email (never the password).</summary>
    public sealed class Invitation : IDisposable
    {
        internal readonly InvitationHandle Handle;
        internal Invitation(InvitationHandle handle) { Handle = handle; }

        /// <summary>Parses a token ("ra1-…", as pasted; whitespace is ignored).</summary>
        public static Invitation FromToken(string token)
        {
            Loader.Ensure();
            RaException.Check(N.ra_invitation_from_token(Utf8.Z(token), out InvitationHandle h));
            return new Invitation(h);
        }

        /// <summary>Reads an invitation file (.rainv).</summary>
        public static Invitation Load(string path)
        {
            Loader.Ensure();
            RaException.Check(N.ra_invitation_load(Utf8.Z(path), out InvitationHandle h));
            return new Invitation(h);
        }

        /// <summary>Parses the contents of an invitation file held in memory.</summary>
        public static Invitation Parse(byte[] contents)
        {
            if (contents == null) throw new ArgumentNullException(nameof(contents));
            Loader.Ensure();
            RaException.Check(N.ra_invitation_parse(contents, new UIntPtr((ulong)contents.LongLength), out InvitationHandle h));
            return new Invitation(h);
        }

        /// <summary>Parses the contents of an invitation file (ToFileString's text).</summary>
        public static Invitation Parse(string contents)
        {
            if (contents == null) throw new ArgumentNullException(nameof(contents));
            return Parse(System.Text.Encoding.UTF8.GetBytes(contents));
        }

        /// <summary>Saves the invitation file at `path`.</summary>
        public void Save(string path) => RaException.Check(N.ra_invitation_save(Handle, Utf8.Z(path)));

        /// <summary>The invitation as a one-line token to paste ("ra1-…").</summary>
        public string Token
        {
            get
            {
                RaException.Check(N.ra_invitation_to_token(Handle, out IntPtr s));
                return RaException.TakeString(s);
            }
        }

        /// <summary>The contents of the invitation file, as Save writes it.</summary>
        public string ToFileString()
        {
            RaException.Check(N.ra_invitation_to_file_string(Handle, out IntPtr s));
            return RaException.TakeString(s);
        }

        /// <summary>The invitation as an RFC 5322 email (.eml: instructions, the token, the file
        /// attached; never the password) from `from` to `to` (may be empty for a draft);
        /// `subject` null for the default. Result.Email for a malformed address or subject.</summary>
        public string ToEmail(string from, IEnumerable<string> to, string subject = null)
        {
            var recipients = Recipients(to);
            try
            {
                RaException.Check(N.ra_invitation_to_email(Handle, Utf8.Z(from), recipients, new UIntPtr((uint)recipients.Length), Utf8.Z(subject), out IntPtr s));
                return RaException.TakeString(s);
            }
            finally { Free(recipients); }
        }

        /// <summary>A mailto: URI with the recipients, a subject and the token.</summary>
        public string Mailto(IEnumerable<string> to)
        {
            var recipients = Recipients(to);
            try
            {
                RaException.Check(N.ra_invitation_mailto(Handle, recipients, new UIntPtr((uint)recipients.Length), out IntPtr s));
                return RaException.TakeString(s);
            }
            finally { Free(recipients); }
        }

        static IntPtr[] Recipients(IEnumerable<string> to)
        {
            var list = (to ?? Enumerable.Empty<string>()).ToList();
            if (list.Any(a => a == null)) throw new ArgumentNullException(nameof(to), "a recipient is null");
            var pointers = new IntPtr[list.Count];
            for (int i = 0; i < list.Count; i++) pointers[i] = Utf8.Alloc(list[i]);
            return pointers;
        }

        static void Free(IntPtr[] pointers)
        {
            foreach (var p in pointers) Marshal.FreeHGlobal(p);
        }

        /// <summary>What the invitation says (host name, session id, times, addresses).</summary>
        public InvitationInfo Info
        {
            get
            {
                var info = RaInvitationInfo.Sized();
                RaException.Check(N.ra_invitation_get_info(Handle, ref info));
                return new InvitationInfo
                {
                    HostName = Utf8.Read(info.HostName), SessionId = Utf8.Read(info.SessionId),
                    CreatedAt = DateTimeOffset.FromUnixTimeSeconds(info.CreatedAtUnix),
                    ExpiresAt = DateTimeOffset.FromUnixTimeSeconds(info.ExpiresAtUnix),
                    AddressCount = (int)info.AddressCount.ToUInt64(),
                };
            }
        }

        /// <summary>The host's name (Info.HostName).</summary>
        public string HostName => Info.HostName;

        /// <summary>Frees the invitation now (otherwise the finalizer does).</summary>
        public void Dispose() => Handle.Dispose();
    }

    /// <summary>How a session travels: directly, or through the broker's relay.</summary>
    public enum ConnectionPath : uint
    {
        /// <summary>Not known yet.</summary>
        Unknown = 0,
        /// <summary>The two sides talk directly.</summary>
        Direct = 1,
        /// <summary>Through the broker's relay (it sees only ciphertext).</summary>
        Relayed = 2,
    }

    /// <summary>A short code ("ABC-DEF-GHJ-KMN"), when it expires and how the session travels.</summary>
    public sealed class CodeInfo
    {
        /// <summary>The code as it is read out.</summary>
        public string Code;
        /// <summary>When the code expires.</summary>
        public DateTimeOffset ExpiresAt;
        /// <summary>How the session travels.</summary>
        public ConnectionPath Path;

        internal static CodeInfo From(RaCodeInfo info) => new CodeInfo
        {
            Code = Utf8.Read(info.Code), ExpiresAt = DateTimeOffset.FromUnixTimeSeconds(info.ExpiresAtUnix),
            Path = (ConnectionPath)info.Path,
        };
    }

    /// <summary>One check of a diagnosis: "udp_bind", "broker", "public_address", "nat_mapping", "firewall".</summary>
    public sealed class DiagnosisCheck
    {
        /// <summary>The check's stable name.</summary>
        public string Name;
        /// <summary>It passed.</summary>
        public bool Ok;
        /// <summary>What was found, for a person.</summary>
        public string Detail;
    }

    /// <summary>What "verify the firewall" found: whether assistance can work, the verdict, the checks.</summary>
    public sealed class Diagnosis
    {
        /// <summary>Assistance can work from here.</summary>
        public bool Ok;
        /// <summary>The one-line verdict.</summary>
        public string Verdict;
        /// <summary>The checks, in reading order.</summary>
        public List<DiagnosisCheck> Checks;
    }

    /// <summary>How to reach the broker of the short-code flows, and how its certificate
    /// is recognised: its fingerprint ("sha256:…", as ra-broker prints it), or CA certificates.</summary>
    public sealed class BrokerOptions : IDisposable
    {
        internal readonly BrokerOptionsHandle Handle;

        /// <summary>The broker at `address` ("IP:PORT"), pinned by `fingerprint` (or see TrustCa),
        /// with the local address `bind` (null: any).</summary>
        public BrokerOptions(string address, string fingerprint = null, string bind = null)
        {
            Loader.Ensure();
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

        /// <summary>Try a direct path before the relay (the default), or always relay.</summary>
        public BrokerOptions TryDirect(bool tryDirect)
        {
            RaException.Check(N.ra_broker_options_set_try_direct(Handle, (byte)(tryDirect ? 1 : 0)));
            return this;
        }

        /// <summary>How long the direct path may take before the relay is used.</summary>
        public BrokerOptions DirectTimeout(TimeSpan t) { RaException.Check(N.ra_broker_options_set_direct_timeout_ms(Handle, Library.PositiveMillis(t))); return this; }
        /// <summary>How long reaching the broker, and the relayed path, may take.</summary>
        public BrokerOptions ConnectTimeout(TimeSpan t) { RaException.Check(N.ra_broker_options_set_connect_timeout_ms(Handle, Library.PositiveMillis(t))); return this; }
        /// <summary>How long a code stays valid (the broker and the host's policy may cap it).</summary>
        public BrokerOptions CodeLifetime(TimeSpan t) { RaException.Check(N.ra_broker_options_set_code_lifetime_ms(Handle, Library.PositiveMillis(t))); return this; }

        /// <summary>Frees the options now (otherwise the finalizer does).</summary>
        public void Dispose() => Handle.Dispose();
    }
}
