// Checking what a session left behind: its consent receipt and the host's audit log.
using System;
using Ra.Interop;

namespace Ra
{
    /// <summary>Checks a session's signed consent receipt and the host's hash-chained audit
    /// log: the same checks as `ra-audit verify-receipt` and `ra-audit verify`.</summary>
    public static class Receipts
    {
        /// <summary>Checks a consent receipt (a Receipt event's Text, or a receipt file's
        /// contents): the host's signature, the helper's countersignature if any; with
        /// `invitation`, that it is signed by the host certificate the invitation pins and of
        /// its session; with `organisationKey` ("raorg1-…"), that the helper was verified as one
        /// of that organisation's. Returns what it records as one JSON object (session_id,
        /// host_name, verified, countersigned, grants, end_reason, audit_head…); throws
        /// RaException (Result.InvalidReceipt, with the reason) otherwise.</summary>
        public static string Verify(string receipt, Invitation invitation = null, string organisationKey = null)
        {
            if (receipt == null) throw new ArgumentNullException(nameof(receipt));
            Loader.Ensure();
            var bytes = System.Text.Encoding.UTF8.GetBytes(receipt);
            var length = new UIntPtr((ulong)bytes.LongLength);
            IntPtr report;
            if (invitation != null)
                RaException.Check(N.ra_receipt_verify(bytes, length, invitation.Handle, Utf8.Z(organisationKey), out report));
            else
                RaException.Check(N.ra_receipt_verify(bytes, length, IntPtr.Zero, Utf8.Z(organisationKey), out report));
            return RaException.TakeString(report);
        }

        /// <summary>Checks the hash chain of every session in the audit log at `path`: no line
        /// edited, deleted, inserted or reordered. With the `receipt` of a session in it, also
        /// that the log reaches the chain head the receipt records (lines cut from the end).
        /// Returns {"lines":…,"sessions":[…]}; throws RaException (Result.AuditLogBroken naming
        /// the line, Result.Io) otherwise.</summary>
        public static string VerifyAuditLog(string path, string receipt = null)
        {
            if (path == null) throw new ArgumentNullException(nameof(path));
            Loader.Ensure();
            var bytes = receipt == null ? null : System.Text.Encoding.UTF8.GetBytes(receipt);
            var length = new UIntPtr(bytes == null ? 0UL : (ulong)bytes.LongLength);
            RaException.Check(N.ra_audit_verify(Utf8.Z(path), bytes, length, out IntPtr report));
            return RaException.TakeString(report);
        }
    }
}
