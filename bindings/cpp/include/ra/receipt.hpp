// ra/receipt.hpp — checking what a session left behind: its signed consent
// receipt and the host's hash-chained audit log. Include "ra.hpp", which
// includes this file.
#ifndef RA_RECEIPT_HPP
#define RA_RECEIPT_HPP

#include <cstdint>
#include <string>

#include "ra.h"
#include "ra/error.hpp"
#include "ra/invitation.hpp"

namespace ra {

/// Checks a consent receipt (the `text` of a RECEIPT event, or a receipt
/// file's contents): the host's signature, the helper's countersignature if
/// any; with `invitation`, that it is signed by the host certificate the
/// invitation pins and of its session; with `organisation_key`
/// ("raorg1-…"), that the helper was verified as one of that organisation's.
/// Returns what it records as one JSON object (see `ra_receipt_verify`);
/// throws ra::Error (RA_RESULT_INVALID_RECEIPT, with the reason) otherwise.
[[nodiscard]] inline std::string verify_receipt(const std::string& receipt,
                                                const Invitation* invitation = nullptr,
                                                const std::string& organisation_key = "") {
    char* report = nullptr;
    check(ra_receipt_verify(reinterpret_cast<const uint8_t*>(receipt.data()), receipt.size(),
                            invitation ? invitation->get() : nullptr,
                            organisation_key.empty() ? nullptr : organisation_key.c_str(), &report));
    return detail::take(report);
}

/// Checks the hash chain of every session in the audit log at `path`; with
/// a `receipt` of a session in it, also that the log reaches the chain head
/// the receipt records (lines cut from the end). Returns `{"lines":…,
/// "sessions":[…]}`; throws ra::Error (RA_RESULT_AUDIT_LOG_BROKEN naming the
/// line, RA_RESULT_IO) otherwise.
[[nodiscard]] inline std::string verify_audit_log(const std::string& path, const std::string& receipt = "") {
    char* report = nullptr;
    check(ra_audit_verify(path.c_str(), receipt.empty() ? nullptr : reinterpret_cast<const uint8_t*>(receipt.data()),
                          receipt.size(), &report));
    return detail::take(report);
}

}  // namespace ra

#endif
