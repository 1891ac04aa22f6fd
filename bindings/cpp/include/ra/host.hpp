// ra/host.hpp — Host: an open invitation (or short code) and its session,
// its events and what the host user does in it. Include "ra.hpp", which
// includes this file.
#ifndef RA_HOST_HPP
#define RA_HOST_HPP

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ra.h"
#include "ra/backends.hpp"
#include "ra/broker.hpp"
#include "ra/error.hpp"
#include "ra/invitation.hpp"
#include "ra/types.hpp"

namespace ra {

/// An open invitation (or short code) and its session. Destroying it ends
/// the session, tells the helper and waits until no callback runs any more.
/// Every call first rethrows an exception a callback of this host threw.
class Host {
public:
    /// Receives host events on the host's callback thread.
    using Callback = std::function<void(const HostEvent&)>;

    /// Opens an invitation (blocks until listening).
    [[nodiscard]] static Host invite(const InviteOptions& options, HostBackends& backends) {
        return Host(backends, [&](ra_host** out) { return ra_host_invite(options.get(), backends.get(), out); });
    }
    /// Easy Connect: registers a code with the broker (see code_info()).
    [[nodiscard]] static Host easy_connect(const BrokerOptions& broker, const InviteOptions& options,
                                           HostBackends& backends) {
        return Host(backends, [&](ra_host** out) {
            return ra_host_easy_connect(broker.get(), options.get(), backends.get(), out);
        });
    }
    /// Quick Assist: connects to the helper whose code the user typed.
    [[nodiscard]] static Host join(const BrokerOptions& broker, const std::string& code,
                                   const InviteOptions& options, HostBackends& backends) {
        return Host(backends, [&](ra_host** out) {
            return ra_host_join(broker.get(), code.c_str(), options.get(), backends.get(), out);
        });
    }
    /// Re-opens the session of the resume ticket in the file `path`, sealed
    /// with `key` (32 bytes), after the host's application or machine
    /// restarted: the ticket is taken out of the file (used once); the
    /// helper reconnects by itself, its connection request has `resumes`
    /// set and needs approval, and control needs a new grant. The options'
    /// policy must allow resume tickets.
    [[nodiscard]] static Host resume_from_ticket(const std::string& path, const std::vector<uint8_t>& key,
                                                 const InviteOptions& options, HostBackends& backends) {
        return Host(backends, [&](ra_host** out) {
            return ra_host_resume_from_ticket(path.c_str(), key.data(), key.size(), options.get(), backends.get(),
                                              out);
        });
    }
    /// Issues a single-use resume ticket for the live session, valid for
    /// `lifetime` (the policy caps it, at most 15 minutes), sealed with
    /// `key` (32 bytes), into the file `path` (readable by its owner only).
    /// The policy must have `allow_resume_tickets`.
    void issue_resume_ticket(const std::vector<uint8_t>& key, std::chrono::milliseconds lifetime,
                             const std::string& path) {
        check(ra_host_issue_resume_ticket(live(), key.data(), key.size(), detail::ms64(lifetime), path.c_str()));
    }
    /// The code of a host started from one.
    [[nodiscard]] CodeInfo code_info() const {
        ra_code_info info = RA_SIZED(ra_code_info);
        check(ra_host_get_code_info(live(), &info));
        return CodeInfo::from(info);
    }
    /// A copy of the invitation (not for a host started from a code).
    [[nodiscard]] Invitation invitation() const {
        ra_invitation* raw = nullptr;
        check(ra_host_get_invitation(live(), &raw));
        return Invitation(raw);
    }
    /// The password to tell the helper separately.
    [[nodiscard]] std::string password() const {
        char* text = nullptr;
        check(ra_host_get_password(live(), &text));
        return detail::take(text);
    }
    /// The UDP port the host listens on (not for a host started from a code).
    [[nodiscard]] uint16_t port() const {
        uint16_t port = 0;
        check(ra_host_get_port(live(), &port));
        return port;
    }
    /// The session's statistics (never blocks).
    [[nodiscard]] SessionStats stats() const {
        ra_session_stats s = RA_SIZED(ra_session_stats);
        check(ra_host_get_stats(live(), &s));
        return SessionStats::from(s);
    }
    /// The next event, or nullopt after `timeout`. Throws ra::Error with
    /// RA_RESULT_CLOSED once the host has shut down.
    [[nodiscard]] std::optional<HostEvent> next_event(std::chrono::milliseconds timeout) {
        ra_host_event* raw = nullptr;
        ra_result r = ra_host_next_event(live(), detail::ms(timeout), &raw);
        if (r == RA_RESULT_TIMEOUT) return std::nullopt;
        check(r);
        detail::Handle<ra_host_event, ra_host_event_free> event(raw);
        return data(event.get());
    }
    /// Events go to `callback` (on the host's callback thread); an empty one
    /// goes back to next_event.
    void on_event(Callback callback) {
        auto holder = callback ? std::make_unique<Holder>(Holder{std::move(callback), failures_}) : nullptr;
        check(ra_host_set_event_callback(live(), holder ? &trampoline : nullptr, holder.get()));
        callback_ = std::move(holder);  // the old one is no longer called
    }
    /// Lets the helper of `connection` in (view only).
    void approve(uint64_t connection) { check(ra_host_approve(live(), connection)); }
    /// Turns the helper of `connection` away.
    void deny(uint64_t connection) { check(ra_host_deny(live(), connection)); }
    /// Grants the control the helper asked for.
    void grant_control(uint64_t connection) { check(ra_host_grant_control(live(), connection)); }
    /// Grants control of `scopes` (RA_SCOPE_* bits; only those asked for) for
    /// `duration` (zero: until revoked; the policy caps it).
    void grant_control_with(uint64_t connection, uint32_t scopes,
                            std::chrono::milliseconds duration = std::chrono::milliseconds(0)) {
        check(ra_host_grant_control_with(live(), connection, scopes,
                                         static_cast<uint64_t>(duration.count() > 0 ? duration.count() : 0)));
    }
    /// Denies the control the helper asked for.
    void deny_control(uint64_t connection) { check(ra_host_deny_control(live(), connection)); }
    /// Takes control back.
    void revoke() { check(ra_host_revoke(live())); }
    /// Takes control back as the local panic key does (reason `panic_key`).
    void revoke_panic_key() { check(ra_host_revoke_panic_key(live())); }
    /// The local user is busy: the helper's input is held back for `hold_ms`.
    void local_input_seen(uint32_t hold_ms) { check(ra_host_local_input_seen(live(), hold_ms)); }
    /// Pauses video and control.
    void pause() { check(ra_host_pause(live())); }
    /// Resumes.
    void resume() { check(ra_host_resume(live())); }
    /// Sends a chat message.
    void chat(const std::string& text) { check(ra_host_chat(live(), text.c_str())); }
    /// Ends the session.
    void end() { check(ra_host_end(live())); }
    /// Stops taking connections (closes the code of a code host); a live session continues.
    void close_invitation() { check(ra_host_close_invitation(live())); }
    /// Applies a new policy at once.
    void set_policy(const Policy& policy) { check(ra_host_set_policy(live(), policy.get())); }
    /// Turns clipboard sharing on or off (the policy must allow it).
    void set_clipboard_sharing(bool enabled) { check(ra_host_set_clipboard_sharing(live(), enabled ? 1 : 0)); }
    /// Masks these desktop rectangles besides the policy's `redact` (empty:
    /// unmask them): painted black before encoding, pointer input inside
    /// dropped, the helper told (RA_HELPER_EVENT_REDACTIONS).
    void set_redactions(const std::vector<ra_rect>& rects) {
        check(ra_host_set_redactions(live(), rects.empty() ? nullptr : rects.data(), rects.size()));
    }
    /// Masks the windows of these classes (X11 WM_CLASS, without case)
    /// wherever they move, besides the policy's `redact_windows` (empty:
    /// none); needs the real X11 screen.
    void set_redacted_windows(const std::vector<std::string>& classes) {
        std::vector<const char*> pointers;
        for (const auto& c : classes) pointers.push_back(c.c_str());
        check(ra_host_set_redacted_windows(live(), pointers.empty() ? nullptr : pointers.data(), pointers.size()));
    }
    /// Sends the host's clipboard text to the helper.
    void send_clipboard(const std::string& text) { check(ra_host_send_clipboard(live(), text.c_str())); }
    /// The C handle.
    [[nodiscard]] ra_host* get() const noexcept { return handle_.get(); }

    Host(Host&&) noexcept = default;             ///< moves the session
    Host& operator=(Host&&) noexcept = default;  ///< frees the old session first
    ~Host() { handle_.reset(); }                 ///< frees the host before the callback it may call

private:
    struct Holder {
        Callback callback;
        detail::SharedFailures failures;
    };
    template <class Make>
    Host(HostBackends& backends, Make&& make)
        : handle_(detail::make<ra_host, ra_host_free>(make)), failures_(backends.failures_) {}
    static HostEvent data(const ra_host_event* event) {
        ra_host_event_data d = RA_SIZED(ra_host_event_data);
        check(ra_host_event_get_data(event, &d));
        return HostEvent::from(d);
    }
    ra_host* live() const {
        if (failures_) failures_->rethrow();
        return handle_.get();
    }
    static void trampoline(void* user_data, const ra_host_event* event) noexcept {
        auto* holder = static_cast<Holder*>(user_data);
        try {
            holder->callback(data(event));
        } catch (...) {
            detail::caught(holder->failures.get(), "host event callback");
        }
    }
    // The handle first: moving or destroying frees the old session (and
    // stops its callback thread) before the callback it calls goes away.
    detail::Handle<ra_host, ra_host_free> handle_;
    detail::SharedFailures failures_;
    std::unique_ptr<Holder> callback_;
};

}  // namespace ra

#endif
