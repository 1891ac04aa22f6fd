// ra/invitation.hpp — what a session is opened with: the host's Policy, the
// Invitation, and the options of the host (InviteOptions) and of the helper
// (AcceptOptions). Include "ra.hpp", which includes this file.
#ifndef RA_INVITATION_HPP
#define RA_INVITATION_HPP

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ra.h"
#include "ra/broker.hpp"
#include "ra/error.hpp"
#include "ra/types.hpp"

namespace ra {

/// The host's policy.
class Policy {
public:
    /// The defaults: assistance and control allowed, no clipboard.
    Policy() : handle_(detail::make<ra_policy, ra_policy_free>([](ra_policy** out) { return ra_policy_new(out); })) {}
    /// From TOML text (unknown keys are an error).
    [[nodiscard]] static Policy from_toml(const std::string& toml) {
        return Policy(detail::make<ra_policy, ra_policy_free>(
            [&](ra_policy** out) { return ra_policy_from_toml(toml.c_str(), out); }));
    }
    /// From a TOML file (RA_RESULT_IO when it cannot be read).
    [[nodiscard]] static Policy load(const std::string& path) {
        return Policy(detail::make<ra_policy, ra_policy_free>(
            [&](ra_policy** out) { return ra_policy_load(path.c_str(), out); }));
    }
    /// The settings as plain values.
    [[nodiscard]] ra_policy_settings settings() const {
        ra_policy_settings s = RA_SIZED(ra_policy_settings);
        check(ra_policy_get(get(), &s));
        return s;
    }
    /// Replaces the settings (out-of-range values change nothing and throw).
    void set(const ra_policy_settings& settings) { check(ra_policy_set(handle_.get(), &settings)); }
    /// As TOML text.
    [[nodiscard]] std::string to_toml() const {
        char* text = nullptr;
        check(ra_policy_to_toml(get(), &text));
        return detail::take(text);
    }
    /// The C handle.
    [[nodiscard]] const ra_policy* get() const noexcept { return handle_.get(); }

private:
    explicit Policy(detail::Handle<ra_policy, ra_policy_free> handle) : handle_(std::move(handle)) {}
    detail::Handle<ra_policy, ra_policy_free> handle_;
};

/// An invitation: file, token or email; never the password.
class Invitation {
public:
    /// From a token ("ra1-…"; whitespace is ignored).
    [[nodiscard]] static Invitation from_token(const std::string& token) {
        return Invitation([&](ra_invitation** out) { return ra_invitation_from_token(token.c_str(), out); });
    }
    /// From an invitation file (.rainv).
    [[nodiscard]] static Invitation load(const std::string& path) {
        return Invitation([&](ra_invitation** out) { return ra_invitation_load(path.c_str(), out); });
    }
    /// From the contents of an invitation file.
    [[nodiscard]] static Invitation parse(const std::string& contents) {
        return Invitation([&](ra_invitation** out) {
            return ra_invitation_parse(reinterpret_cast<const uint8_t*>(contents.data()), contents.size(), out);
        });
    }
    /// Saves the invitation file at `path`.
    void save(const std::string& path) const { check(ra_invitation_save(get(), path.c_str())); }
    /// The one-line token to paste ("ra1-…").
    [[nodiscard]] std::string token() const {
        char* text = nullptr;
        check(ra_invitation_to_token(get(), &text));
        return detail::take(text);
    }
    /// The contents of the invitation file.
    [[nodiscard]] std::string file_string() const {
        char* text = nullptr;
        check(ra_invitation_to_file_string(get(), &text));
        return detail::take(text);
    }
    /// An RFC 5322 message (.eml) with the token and the file attached;
    /// `subject` empty: the default.
    [[nodiscard]] std::string email(const std::string& from, const std::vector<std::string>& to,
                                    const std::string& subject = "") const {
        auto addresses = pointers(to);
        char* text = nullptr;
        check(ra_invitation_to_email(get(), from.c_str(), addresses.data(), addresses.size(),
                                     subject.empty() ? nullptr : subject.c_str(), &text));
        return detail::take(text);
    }
    /// A mailto: URI with the recipients, a subject and the token.
    [[nodiscard]] std::string mailto(const std::vector<std::string>& to) const {
        auto addresses = pointers(to);
        char* text = nullptr;
        check(ra_invitation_mailto(get(), addresses.data(), addresses.size(), &text));
        return detail::take(text);
    }
    /// What it says.
    [[nodiscard]] InvitationInfo info() const {
        ra_invitation_info i = RA_SIZED(ra_invitation_info);
        check(ra_invitation_get_info(get(), &i));
        return {detail::str(i.host_name), detail::str(i.session_id), i.created_at_unix, i.expires_at_unix,
                i.address_count};
    }
    /// The host's name.
    [[nodiscard]] std::string host_name() const { return info().host_name; }
    /// The C handle.
    [[nodiscard]] const ra_invitation* get() const noexcept { return handle_.get(); }
    /// Takes ownership of `raw`.
    explicit Invitation(ra_invitation* raw) : handle_(raw) {}

private:
    template <class Make>
    explicit Invitation(Make&& make) : handle_(detail::make<ra_invitation, ra_invitation_free>(make)) {}
    static std::vector<const char*> pointers(const std::vector<std::string>& strings) {
        std::vector<const char*> out;
        for (const auto& s : strings) out.push_back(s.c_str());
        return out;
    }
    detail::Handle<ra_invitation, ra_invitation_free> handle_;
};

/// How an invitation (or a short code) is opened.
class InviteOptions {
public:
    /// The defaults.
    InviteOptions()
        : handle_(detail::make<ra_invite_options, ra_invite_options_free>(
              [](ra_invite_options** out) { return ra_invite_options_new(out); })) {}
    /// The name the helper sees (1–64 characters).
    InviteOptions& host_name(const std::string& name) {
        check(ra_invite_options_set_host_name(handle_.get(), name.c_str()));
        return *this;
    }
    /// Where to listen ("IP:PORT"; port 0: any).
    InviteOptions& listen(const std::string& address) {
        check(ra_invite_options_set_listen(handle_.get(), address.c_str()));
        return *this;
    }
    /// A broker for helpers behind NATs and firewalls (copied): the
    /// invitation also names it, and a helper that cannot reach this machine
    /// connects by hole punching or through the broker's relay.
    InviteOptions& rendezvous(const BrokerOptions& broker) {
        check(ra_invite_options_set_rendezvous(handle_.get(), broker.get()));
        return *this;
    }
    /// An address ("IP:PORT") to write into the invitation instead of the
    /// ones derived from the listening socket.
    InviteOptions& add_address(const std::string& address) {
        check(ra_invite_options_add_address(handle_.get(), address.c_str()));
        return *this;
    }
    /// How long the invitation stays open (the policy caps it).
    InviteOptions& lifetime(std::chrono::milliseconds lifetime) {
        check(ra_invite_options_set_lifetime_ms(handle_.get(), detail::ms64(lifetime)));
        return *this;
    }
    /// The host's policy (copied).
    InviteOptions& policy(const Policy& policy) {
        check(ra_invite_options_set_policy(handle_.get(), policy.get()));
        return *this;
    }
    /// Appends the session's audit log (JSON lines) to the file at `path`.
    InviteOptions& audit_log(const std::string& path) {
        check(ra_invite_options_set_audit_log(handle_.get(), path.c_str()));
        return *this;
    }
    /// The C handle.
    [[nodiscard]] const ra_invite_options* get() const noexcept { return handle_.get(); }

private:
    detail::Handle<ra_invite_options, ra_invite_options_free> handle_;
};

/// How a helper connects: its name and timeouts.
class AcceptOptions {
public:
    /// The defaults: name "ra helper", 5 s per address, 120 s for approval.
    AcceptOptions()
        : handle_(detail::make<ra_accept_options, ra_accept_options_free>(
              [](ra_accept_options** out) { return ra_accept_options_new(out); })) {}
    /// The name the host sees.
    AcceptOptions& name(const std::string& name) {
        check(ra_accept_options_set_name(handle_.get(), name.c_str()));
        return *this;
    }
    /// The helper's identity (the text of `ra-org issue`'s file), shown to the host.
    AcceptOptions& identity(const std::string& credential) {
        check(ra_accept_options_set_identity(handle_.get(), credential.c_str()));
        return *this;
    }
    /// How long to try each address of the invitation (> 0).
    AcceptOptions& connect_timeout(std::chrono::milliseconds timeout) {
        check(ra_accept_options_set_connect_timeout_ms(handle_.get(), detail::ms64(timeout)));
        return *this;
    }
    /// How long to wait for the host user to let the helper in (> 0).
    AcceptOptions& approval_timeout(std::chrono::milliseconds timeout) {
        check(ra_accept_options_set_approval_timeout_ms(handle_.get(), detail::ms64(timeout)));
        return *this;
    }
    /// The C handle.
    [[nodiscard]] const ra_accept_options* get() const noexcept { return handle_.get(); }

private:
    detail::Handle<ra_accept_options, ra_accept_options_free> handle_;
};

}  // namespace ra

#endif
