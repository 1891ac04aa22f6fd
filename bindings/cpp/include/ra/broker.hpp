// ra/broker.hpp — the broker of the short-code flows (Easy Connect, Quick
// Assist): BrokerOptions, and diagnose() for the network and firewall
// checks against it. Include "ra.hpp", which includes this file.
#ifndef RA_BROKER_HPP
#define RA_BROKER_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "ra.h"
#include "ra/error.hpp"
#include "ra/types.hpp"

namespace ra {

/// How to reach the broker of the short-code flows (Easy Connect, Quick
/// Assist), and how its certificate is recognised.
class BrokerOptions {
public:
    /// The broker at `address` ("IP:PORT"); pin its certificate before use.
    explicit BrokerOptions(const std::string& address)
        : handle_(detail::make<ra_broker_options, ra_broker_options_free>(
              [&](ra_broker_options** out) { return ra_broker_options_new(address.c_str(), out); })) {}
    /// Pins the certificate by its SHA-256 ("sha256:…", as ra-broker prints it).
    BrokerOptions& fingerprint(const std::string& fingerprint) {
        check(ra_broker_options_set_fingerprint(handle_.get(), fingerprint.c_str()));
        return *this;
    }
    /// Trusts a certificate for `server_name` signed by these CA certificates (PEM).
    BrokerOptions& ca(const std::string& pem, const std::string& server_name) {
        check(ra_broker_options_set_ca(handle_.get(), reinterpret_cast<const uint8_t*>(pem.data()),
                                       pem.size(), server_name.c_str()));
        return *this;
    }
    /// The local UDP address ("IP:PORT", port 0: any).
    BrokerOptions& bind(const std::string& address) {
        check(ra_broker_options_set_bind(handle_.get(), address.c_str()));
        return *this;
    }
    /// Whether to try a direct path before the relay.
    BrokerOptions& try_direct(bool try_direct) {
        check(ra_broker_options_set_try_direct(handle_.get(), try_direct ? 1 : 0));
        return *this;
    }
    /// How long the direct path may take before the relay is used.
    BrokerOptions& direct_timeout(std::chrono::milliseconds timeout) {
        check(ra_broker_options_set_direct_timeout_ms(handle_.get(), detail::ms64(timeout)));
        return *this;
    }
    /// How long reaching the broker, and the relayed path, may take.
    BrokerOptions& connect_timeout(std::chrono::milliseconds timeout) {
        check(ra_broker_options_set_connect_timeout_ms(handle_.get(), detail::ms64(timeout)));
        return *this;
    }
    /// How long a code stays valid (the broker and the policy may cap it).
    BrokerOptions& code_lifetime(std::chrono::milliseconds lifetime) {
        check(ra_broker_options_set_code_lifetime_ms(handle_.get(), detail::ms64(lifetime)));
        return *this;
    }
    /// The C handle.
    [[nodiscard]] const ra_broker_options* get() const noexcept { return handle_.get(); }

private:
    detail::Handle<ra_broker_options, ra_broker_options_free> handle_;
};

/// Runs the library's network and firewall checks against `broker` (blocks
/// up to its connect timeout, twice at most).
[[nodiscard]] inline Diagnosis diagnose(const BrokerOptions& broker) {
    auto handle = detail::make<ra_diagnosis, ra_diagnosis_free>(
        [&](ra_diagnosis** out) { return ra_diagnose(broker.get(), out); });
    Diagnosis result{};
    uint8_t ok = 0;
    const char* verdict = nullptr;
    check(ra_diagnosis_get_verdict(handle.get(), &ok, &verdict));
    result.ok = ok != 0;
    result.verdict = detail::str(verdict);
    size_t count = 0;
    check(ra_diagnosis_get_check_count(handle.get(), &count));
    for (size_t i = 0; i < count; i++) {
        ra_diagnosis_check c = RA_SIZED(ra_diagnosis_check);
        check(ra_diagnosis_get_check(handle.get(), i, &c));
        result.checks.push_back({detail::str(c.name), c.ok != 0, detail::str(c.detail)});
    }
    return result;
}

}  // namespace ra

#endif
