// ra.hpp — a header-only C++17 RAII wrapper over the C API of ra (ra.h).
//
// - Handles are std::unique_ptr with the matching ra_*_free as deleter;
//   the classes are movable, not copyable.
// - Failures throw ra::Error, carrying the ra_result code, its name and the
//   library's detail message (ra_last_error_message).
// - Callbacks are std::function; an exception escaping one is caught at
//   the C boundary (a backend callback then reports RA_RESULT_BACKEND).
// - Events are copied into plain C++ structs (strings as std::string),
//   except frames, whose pixels are borrowed from the event that holds them.
//
// Threads: as in ra.h — Host and Helper may be used from several threads;
// callbacks run on the library's threads.
#ifndef RA_HPP
#define RA_HPP

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ra.h"

namespace ra {

/// A failed call: the code and the library's message.
class Error : public std::runtime_error {
public:
    Error(ra_result code, const std::string& detail)
        : std::runtime_error(detail.empty() ? std::string(ra_result_message(code)) : detail),
          code_(code) {}
    /// The ra_result.
    [[nodiscard]] ra_result code() const noexcept { return code_; }
    /// Its constant's name ("RA_RESULT_WRONG_PASSWORD").
    [[nodiscard]] const char* name() const noexcept { return ra_result_name(code_); }

private:
    ra_result code_;
};

/// Throws ra::Error unless `result` is RA_RESULT_OK.
inline void check(ra_result result) {
    if (result != RA_RESULT_OK) {
        throw Error(result, ra_last_error_message());
    }
}

namespace detail {
template <auto Free>
struct Deleter {
    template <class T>
    void operator()(T* pointer) const noexcept {
        Free(pointer);  // the result is ignored: destructors cannot report it
    }
};
template <class T, auto Free>
using Handle = std::unique_ptr<T, Deleter<Free>>;

/// Takes a string the library returned.
inline std::string take(char* text) {
    std::string copy = text ? text : "";
    ra_string_free(text);
    return copy;
}
inline std::string str(const char* text) { return text ? text : ""; }
inline uint32_t ms(std::chrono::milliseconds timeout) {
    auto count = timeout.count();
    if (count < 0) return 0;
    if (count >= static_cast<long long>(RA_TIMEOUT_INFINITE)) return RA_TIMEOUT_INFINITE;
    return static_cast<uint32_t>(count);
}
}  // namespace detail

/// Waits forever in next_event.
inline constexpr std::chrono::milliseconds forever{RA_TIMEOUT_INFINITE};

/// The version of the loaded library.
[[nodiscard]] inline std::string version() { return ra_version(); }

/// The host's policy.
class Policy {
public:
    /// The defaults.
    Policy() {
        ra_policy* raw = nullptr;
        check(ra_policy_new(&raw));
        handle_.reset(raw);
    }
    /// From TOML text (unknown keys are an error).
    [[nodiscard]] static Policy from_toml(const std::string& toml) {
        ra_policy* raw = nullptr;
        check(ra_policy_from_toml(toml.c_str(), &raw));
        return Policy(raw);
    }
    [[nodiscard]] ra_policy_settings settings() const {
        ra_policy_settings s = RA_SIZED(ra_policy_settings);
        check(ra_policy_get(get(), &s));
        return s;
    }
    void set(const ra_policy_settings& settings) { check(ra_policy_set(handle_.get(), &settings)); }
    [[nodiscard]] std::string to_toml() const {
        char* text = nullptr;
        check(ra_policy_to_toml(get(), &text));
        return detail::take(text);
    }
    [[nodiscard]] const ra_policy* get() const noexcept { return handle_.get(); }

private:
    explicit Policy(ra_policy* raw) : handle_(raw) {}
    detail::Handle<ra_policy, ra_policy_free> handle_;
};

/// An invitation: file, token or email; never the password.
class Invitation {
public:
    [[nodiscard]] static Invitation from_token(const std::string& token) {
        ra_invitation* raw = nullptr;
        check(ra_invitation_from_token(token.c_str(), &raw));
        return Invitation(raw);
    }
    [[nodiscard]] static Invitation load(const std::string& path) {
        ra_invitation* raw = nullptr;
        check(ra_invitation_load(path.c_str(), &raw));
        return Invitation(raw);
    }
    void save(const std::string& path) const { check(ra_invitation_save(get(), path.c_str())); }
    [[nodiscard]] std::string token() const {
        char* text = nullptr;
        check(ra_invitation_to_token(get(), &text));
        return detail::take(text);
    }
    [[nodiscard]] std::string email(const std::string& from, const std::vector<std::string>& to) const {
        std::vector<const char*> addresses;
        for (const auto& a : to) addresses.push_back(a.c_str());
        char* text = nullptr;
        check(ra_invitation_to_email(get(), from.c_str(), addresses.data(), addresses.size(), nullptr,
                                     &text));
        return detail::take(text);
    }
    [[nodiscard]] std::string host_name() const {
        ra_invitation_info info = RA_SIZED(ra_invitation_info);
        check(ra_invitation_get_info(get(), &info));
        return info.host_name;
    }
    [[nodiscard]] const ra_invitation* get() const noexcept { return handle_.get(); }
    explicit Invitation(ra_invitation* raw) : handle_(raw) {}

private:
    detail::Handle<ra_invitation, ra_invitation_free> handle_;
};

/// How an invitation is opened.
class InviteOptions {
public:
    InviteOptions() {
        ra_invite_options* raw = nullptr;
        check(ra_invite_options_new(&raw));
        handle_.reset(raw);
    }
    InviteOptions& host_name(const std::string& name) {
        check(ra_invite_options_set_host_name(handle_.get(), name.c_str()));
        return *this;
    }
    InviteOptions& listen(const std::string& address) {
        check(ra_invite_options_set_listen(handle_.get(), address.c_str()));
        return *this;
    }
    InviteOptions& lifetime(std::chrono::milliseconds lifetime) {
        check(ra_invite_options_set_lifetime_ms(handle_.get(), static_cast<uint64_t>(lifetime.count())));
        return *this;
    }
    InviteOptions& policy(const Policy& policy) {
        check(ra_invite_options_set_policy(handle_.get(), policy.get()));
        return *this;
    }
    [[nodiscard]] const ra_invite_options* get() const noexcept { return handle_.get(); }

private:
    detail::Handle<ra_invite_options, ra_invite_options_free> handle_;
};

/// How to reach the broker of the short-code flows (Easy Connect, Quick
/// Assist), and how its certificate is recognised.
class BrokerOptions {
public:
    /// The broker at `address` ("IP:PORT"); pin its certificate before use.
    explicit BrokerOptions(const std::string& address) {
        ra_broker_options* raw = nullptr;
        check(ra_broker_options_new(address.c_str(), &raw));
        handle_.reset(raw);
    }
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
    BrokerOptions& direct_timeout(std::chrono::milliseconds timeout) {
        check(ra_broker_options_set_direct_timeout_ms(handle_.get(), static_cast<uint64_t>(timeout.count())));
        return *this;
    }
    BrokerOptions& connect_timeout(std::chrono::milliseconds timeout) {
        check(ra_broker_options_set_connect_timeout_ms(handle_.get(), static_cast<uint64_t>(timeout.count())));
        return *this;
    }
    BrokerOptions& code_lifetime(std::chrono::milliseconds lifetime) {
        check(ra_broker_options_set_code_lifetime_ms(handle_.get(), static_cast<uint64_t>(lifetime.count())));
        return *this;
    }
    [[nodiscard]] const ra_broker_options* get() const noexcept { return handle_.get(); }

private:
    detail::Handle<ra_broker_options, ra_broker_options_free> handle_;
};

/// What "verify the firewall" found (`diagnose`): the checks and the verdict.
struct Diagnosis {
    struct Check {
        std::string name;  ///< "udp_bind", "broker", "public_address", "nat_mapping", "firewall"
        bool ok;
        std::string detail;
    };
    bool ok;              ///< whether assistance can work from here
    std::string verdict;  ///< one line for a person
    std::vector<Check> checks;
};

/// Runs the library's network and firewall checks against `broker` (blocks
/// up to its connect timeout, twice at most).
[[nodiscard]] inline Diagnosis diagnose(const BrokerOptions& broker) {
    ra_diagnosis* raw = nullptr;
    check(ra_diagnose(broker.get(), &raw));
    detail::Handle<ra_diagnosis, ra_diagnosis_free> handle;
    handle.reset(raw);
    Diagnosis result{};
    uint8_t ok = 0;
    const char* verdict = nullptr;
    check(ra_diagnosis_get_verdict(raw, &ok, &verdict));
    result.ok = ok != 0;
    result.verdict = verdict;
    size_t count = 0;
    check(ra_diagnosis_get_check_count(raw, &count));
    for (size_t i = 0; i < count; i++) {
        ra_diagnosis_check c = RA_SIZED(ra_diagnosis_check);
        check(ra_diagnosis_get_check(raw, i, &c));
        result.checks.push_back({c.name, c.ok != 0, c.detail});
    }
    return result;
}

/// A short code ("ABC-DEF-GHJ-KMN"), when it expires and how the session travels.
struct CodeInfo {
    std::string code;
    int64_t expires_at_unix = 0;
    uint32_t path = RA_PATH_UNKNOWN;  ///< RA_PATH_*

    static CodeInfo from(const ra_code_info& info) {
        return CodeInfo{detail::str(info.code), info.expires_at_unix, info.path};
    }
};

/// A C++ injector: std::functions called on the engine's injection thread.
struct Injector {
    std::function<ra_result(const ra_input_event&)> inject;
    std::function<ra_result()> release_all;
};

/// The host's backends (built-ins, or C++ callbacks).
class HostBackends {
public:
    HostBackends() {
        ra_host_backends* raw = nullptr;
        check(ra_host_backends_new(&raw));
        handle_.reset(raw);
    }
    HostBackends& synthetic_capturer(uint32_t width, uint32_t height, double frame_rate) {
        check(ra_host_backends_use_synthetic_capturer(handle_.get(), width, height, frame_rate));
        return *this;
    }
    /// The real screen of X display `display` (nullptr: $DISPLAY), opened when the session starts.
    HostBackends& screen_capturer(const char* display = nullptr) {
        check(ra_host_backends_use_screen_capturer(handle_.get(), display));
        return *this;
    }
    /// Real input into X display `display` (nullptr: $DISPLAY), under a grant only.
    HostBackends& system_injector(const char* display = nullptr) {
        check(ra_host_backends_use_system_injector(handle_.get(), display));
        return *this;
    }
    /// The library owns `injector` from here on and destroys it on its own thread.
    HostBackends& injector(Injector injector) {
        auto* owned = new Injector(std::move(injector));
        ra_injector_callbacks table{owned, &inject, &release_all, &destroy};
        ra_result r = ra_host_backends_set_injector(handle_.get(), &table);
        if (r != RA_RESULT_OK) {
            delete owned;  // ownership stays with the caller on failure
            check(r);
        }
        return *this;
    }
    /// The panic key `combo` (nullptr: ctrl+alt+pause) on X display `display`
    /// (nullptr: $DISPLAY): each press takes control back.
    HostBackends& panic_key(const char* display = nullptr, const char* combo = nullptr) {
        check(ra_host_backends_set_panic_key(handle_.get(), display, combo));
        return *this;
    }
    /// The local user wins: after their own input the helper's is held back for `hold_ms`.
    HostBackends& local_user_wins(uint32_t hold_ms, const char* display = nullptr) {
        check(ra_host_backends_set_local_user_wins_ms(handle_.get(), display, hold_ms));
        return *this;
    }
    /// The X display's clipboard, kept in step with the helper's while sharing is on.
    HostBackends& system_clipboard(const char* display = nullptr) {
        check(ra_host_backends_use_system_clipboard(handle_.get(), display));
        return *this;
    }
    [[nodiscard]] ra_host_backends* get() const noexcept { return handle_.get(); }

private:
    static ra_result inject(void* user_data, const ra_input_event* event) noexcept {
        try {
            auto* self = static_cast<Injector*>(user_data);
            return self->inject ? self->inject(*event) : RA_RESULT_OK;
        } catch (...) {
            return RA_RESULT_BACKEND;
        }
    }
    static ra_result release_all(void* user_data) noexcept {
        try {
            auto* self = static_cast<Injector*>(user_data);
            return self->release_all ? self->release_all() : RA_RESULT_OK;
        } catch (...) {
            return RA_RESULT_BACKEND;
        }
    }
    static void destroy(void* user_data) noexcept { delete static_cast<Injector*>(user_data); }

    detail::Handle<ra_host_backends, ra_host_backends_free> handle_;
};

/// A host event, copied out of the library.
struct HostEvent {
    uint32_t kind = RA_HOST_EVENT_OTHER;
    uint64_t connection = 0;
    std::string helper_name, peer, text, reason_name, description;
    uint32_t reason = RA_REASON_OTHER, attempts = 0, max_attempts = 0, grant = 0;
    int32_t x = 0, y = 0;
    uint32_t pointer_kind = 0, backend = 0;
    ra_result backend_result = RA_RESULT_OK;
    bool enabled = false;  ///< clipboard sharing is on (RA_HOST_EVENT_CLIPBOARD_SHARING)

    static HostEvent from(const ra_host_event* event) {
        ra_host_event_data d = RA_SIZED(ra_host_event_data);
        check(ra_host_event_get_data(event, &d));
        HostEvent e;
        e.kind = d.kind;
        e.connection = d.connection;
        e.helper_name = detail::str(d.helper_name);
        e.peer = detail::str(d.peer);
        e.text = detail::str(d.text);
        e.reason = d.reason;
        e.reason_name = detail::str(d.reason_name);
        e.attempts = d.attempts;
        e.max_attempts = d.max_attempts;
        e.grant = d.grant;
        e.x = d.x;
        e.y = d.y;
        e.pointer_kind = d.pointer_kind;
        e.backend = d.backend;
        e.backend_result = d.backend_result;
        e.description = detail::str(d.description);
        e.enabled = d.enabled != 0;
        return e;
    }
};

/// An open invitation (or short code) and its session. Destroying it ends
/// the session, tells the helper and waits until no callback runs any more.
class Host {
public:
    using Callback = std::function<void(const HostEvent&)>;

    [[nodiscard]] static Host invite(const InviteOptions& options, HostBackends& backends) {
        ra_host* raw = nullptr;
        check(ra_host_invite(options.get(), backends.get(), &raw));
        return Host(raw);
    }
    /// Easy Connect: registers a code with the broker (see code_info()).
    [[nodiscard]] static Host easy_connect(const BrokerOptions& broker, const InviteOptions& options,
                                           HostBackends& backends) {
        ra_host* raw = nullptr;
        check(ra_host_easy_connect(broker.get(), options.get(), backends.get(), &raw));
        return Host(raw);
    }
    /// Quick Assist: connects to the helper whose code the user typed.
    [[nodiscard]] static Host join(const BrokerOptions& broker, const std::string& code,
                                   const InviteOptions& options, HostBackends& backends) {
        ra_host* raw = nullptr;
        check(ra_host_join(broker.get(), code.c_str(), options.get(), backends.get(), &raw));
        return Host(raw);
    }
    /// The code of a host started from one.
    [[nodiscard]] CodeInfo code_info() const {
        ra_code_info info = RA_SIZED(ra_code_info);
        check(ra_host_get_code_info(get(), &info));
        return CodeInfo::from(info);
    }
    [[nodiscard]] Invitation invitation() const {
        ra_invitation* raw = nullptr;
        check(ra_host_get_invitation(get(), &raw));
        return Invitation(raw);
    }
    [[nodiscard]] std::string password() const {
        char* text = nullptr;
        check(ra_host_get_password(get(), &text));
        return detail::take(text);
    }
    /// The next event, or nullopt after `timeout`. Throws ra::Error with
    /// RA_RESULT_CLOSED once the host has shut down.
    [[nodiscard]] std::optional<HostEvent> next_event(std::chrono::milliseconds timeout) {
        ra_host_event* raw = nullptr;
        ra_result r = ra_host_next_event(get(), detail::ms(timeout), &raw);
        if (r == RA_RESULT_TIMEOUT) return std::nullopt;
        check(r);
        detail::Handle<ra_host_event, ra_host_event_free> event(raw);
        return HostEvent::from(event.get());
    }
    /// Events go to `callback` (on the host's callback thread); an empty one
    /// goes back to next_event.
    void on_event(Callback callback) {
        auto holder = callback ? std::make_unique<Callback>(std::move(callback)) : nullptr;
        check(ra_host_set_event_callback(get(), holder ? &trampoline : nullptr, holder.get()));
        callback_ = std::move(holder);  // the old one is no longer called
    }
    void approve(uint64_t connection) { check(ra_host_approve(get(), connection)); }
    void deny(uint64_t connection) { check(ra_host_deny(get(), connection)); }
    void grant_control(uint64_t connection) { check(ra_host_grant_control(get(), connection)); }
    void deny_control(uint64_t connection) { check(ra_host_deny_control(get(), connection)); }
    void revoke() { check(ra_host_revoke(get())); }
    /// Takes control back as the local panic key does (reason `panic_key`).
    void revoke_panic_key() { check(ra_host_revoke_panic_key(get())); }
    /// The local user is busy: the helper's input is held back for `hold_ms`.
    void local_input_seen(uint32_t hold_ms) { check(ra_host_local_input_seen(get(), hold_ms)); }
    void pause() { check(ra_host_pause(get())); }
    void resume() { check(ra_host_resume(get())); }
    void chat(const std::string& text) { check(ra_host_chat(get(), text.c_str())); }
    void end() { check(ra_host_end(get())); }
    void set_policy(const Policy& policy) { check(ra_host_set_policy(get(), policy.get())); }
    void set_clipboard_sharing(bool enabled) {
        check(ra_host_set_clipboard_sharing(get(), enabled ? 1 : 0));
    }
    void send_clipboard(const std::string& text) { check(ra_host_send_clipboard(get(), text.c_str())); }
    [[nodiscard]] ra_host* get() const noexcept { return handle_.get(); }

    Host(Host&&) noexcept = default;
    Host& operator=(Host&&) noexcept = default;
    ~Host() { handle_.reset(); }  // frees the host before the callback it may call

private:
    explicit Host(ra_host* raw) : handle_(raw) {}
    static void trampoline(void* user_data, const ra_host_event* event) noexcept {
        try {
            (*static_cast<Callback*>(user_data))(HostEvent::from(event));
        } catch (...) {
            // Nothing may escape into C.
        }
    }
    // The handle first: moving or destroying frees the old session (and
    // stops its callback thread) before the callback it calls goes away.
    detail::Handle<ra_host, ra_host_free> handle_;
    std::unique_ptr<Callback> callback_;
};

/// A helper event. Strings are copied; a frame's pixels are borrowed from
/// the event, so they live as long as this object (or the callback call).
class HelperEvent {
public:
    [[nodiscard]] uint32_t kind() const noexcept { return data_.kind; }
    [[nodiscard]] const ra_helper_event_data& data() const noexcept { return data_; }
    [[nodiscard]] const ra_frame& frame() const noexcept { return data_.frame; }
    [[nodiscard]] std::string text() const { return detail::str(data_.text); }
    [[nodiscard]] std::string reason_name() const { return detail::str(data_.reason_name); }
    [[nodiscard]] std::string description() const { return detail::str(data_.description); }
    /// Clipboard sharing is on (RA_HELPER_EVENT_CLIPBOARD_SHARING).
    [[nodiscard]] bool enabled() const noexcept { return data_.enabled != 0; }
    /// The pointer (RA_HELPER_EVENT_CURSOR); its shape's pixels are borrowed
    /// like a frame's (shape.pixels is NULL when the shape did not change).
    [[nodiscard]] const ra_cursor_update& cursor() const noexcept { return data_.cursor; }
    /// Copies the pixels into a packed BGRA buffer (stride 4 × width).
    [[nodiscard]] std::vector<uint8_t> copy_pixels() const {
        std::vector<uint8_t> pixels(size_t{data_.frame.width} * data_.frame.height * 4);
        check(ra_frame_copy(&data_.frame, pixels.data(), pixels.size(), size_t{data_.frame.width} * 4));
        return pixels;
    }

private:
    friend class Helper;
    explicit HelperEvent(ra_helper_event* owned, const ra_helper_event* lent) : owned_(owned) {
        check(ra_helper_event_get_data(owned ? owned : lent, &data_));
    }
    detail::Handle<ra_helper_event, ra_helper_event_free> owned_;
    ra_helper_event_data data_ = RA_SIZED(ra_helper_event_data);
};

class AssistOffer;

/// A helper's live session. Destroying it ends the session and tells the host.
class Helper {
public:
    using Callback = std::function<void(const HelperEvent&)>;

    /// Connects and waits until the host lets the helper in.
    [[nodiscard]] static Helper accept(const Invitation& invitation, const std::string& password,
                                       const std::string& name = "ra helper") {
        auto options = accept_options(name);
        ra_helper* raw = nullptr;
        check(ra_helper_accept(invitation.get(), password.c_str(), options.get(), &raw));
        return Helper(raw);
    }
    /// Easy Connect: connects with the code the host read out and waits
    /// until the host lets the helper in.
    [[nodiscard]] static Helper easy_connect(const BrokerOptions& broker, const std::string& code,
                                             const std::string& name = "ra helper") {
        auto options = accept_options(name);
        ra_helper* raw = nullptr;
        check(ra_helper_easy_connect(broker.get(), code.c_str(), options.get(), &raw));
        return Helper(raw);
    }
    /// Quick Assist: registers a code to read to the host (defined below).
    [[nodiscard]] static AssistOffer assist(const BrokerOptions& broker,
                                            const std::string& name = "ra helper");
    /// The next event (frames included), or nullopt after `timeout`. Throws
    /// ra::Error with RA_RESULT_CLOSED once the session is over.
    [[nodiscard]] std::optional<HelperEvent> next_event(std::chrono::milliseconds timeout) {
        ra_helper_event* raw = nullptr;
        ra_result r = ra_helper_next_event(get(), detail::ms(timeout), &raw);
        if (r == RA_RESULT_TIMEOUT) return std::nullopt;
        check(r);
        return HelperEvent(raw, nullptr);
    }
    /// Events, frames included, go to `callback` (frames borrowed for the call).
    void on_event(Callback callback) {
        auto holder = callback ? std::make_unique<Callback>(std::move(callback)) : nullptr;
        check(ra_helper_set_event_callback(get(), holder ? &trampoline : nullptr, holder.get()));
        callback_ = std::move(holder);
    }
    void request_control() { check(ra_helper_request_control(get())); }
    void release_control() { check(ra_helper_release_control(get())); }
    void send_input(const std::vector<ra_input_event>& events) {
        check(ra_helper_send_input(get(), events.data(), events.size()));
    }
    void chat(const std::string& text) { check(ra_helper_chat(get(), text.c_str())); }
    void select_display(uint32_t display) { check(ra_helper_select_display(get(), display)); }
    void end() { check(ra_helper_end(get())); }
    void send_clipboard(const std::string& text) { check(ra_helper_send_clipboard(get(), text.c_str())); }
    /// RA_PATH_DIRECT, or RA_PATH_RELAYED through the broker's relay.
    [[nodiscard]] uint32_t path() const {
        uint32_t path = RA_PATH_UNKNOWN;
        check(ra_helper_get_path(get(), &path));
        return path;
    }
    [[nodiscard]] uint32_t control_state() const {
        uint32_t state = RA_CONTROL_NONE;
        check(ra_helper_get_control_state(get(), &state));
        return state;
    }
    [[nodiscard]] ra_helper* get() const noexcept { return handle_.get(); }

    Helper(Helper&&) noexcept = default;
    Helper& operator=(Helper&&) noexcept = default;
    ~Helper() { handle_.reset(); }

private:
    friend class AssistOffer;
    explicit Helper(ra_helper* raw) : handle_(raw) {}
    static detail::Handle<ra_accept_options, ra_accept_options_free> accept_options(const std::string& name) {
        ra_accept_options* options = nullptr;
        check(ra_accept_options_new(&options));
        detail::Handle<ra_accept_options, ra_accept_options_free> owned(options);
        check(ra_accept_options_set_name(options, name.c_str()));
        return owned;
    }
    static void trampoline(void* user_data, const ra_helper_event* event) noexcept {
        try {
            (*static_cast<Callback*>(user_data))(HelperEvent(nullptr, event));
        } catch (...) {
        }
    }
    // The handle first: moving or destroying frees the old session (and
    // stops its callback thread) before the callback it calls goes away.
    detail::Handle<ra_helper, ra_helper_free> handle_;
    std::unique_ptr<Callback> callback_;
};

/// A code a helper registered for Quick Assist, waiting for the host to type it.
class AssistOffer {
public:
    /// The code to read to the host, and when it expires.
    [[nodiscard]] CodeInfo code_info() const {
        ra_code_info info = RA_SIZED(ra_code_info);
        check(ra_assist_offer_get_code_info(handle_.get(), &info));
        return CodeInfo::from(info);
    }
    /// The session once a host typed the code and let the helper in, or
    /// nullopt after `timeout`.
    [[nodiscard]] std::optional<Helper> wait(std::chrono::milliseconds timeout) {
        ra_helper* raw = nullptr;
        ra_result r = ra_assist_offer_wait(handle_.get(), detail::ms(timeout), &raw);
        if (r == RA_RESULT_TIMEOUT) return std::nullopt;
        check(r);
        return Helper(raw);
    }
    [[nodiscard]] ra_assist_offer* get() const noexcept { return handle_.get(); }

private:
    friend class Helper;
    explicit AssistOffer(ra_assist_offer* raw) : handle_(raw) {}
    detail::Handle<ra_assist_offer, ra_assist_offer_free> handle_;
};

inline AssistOffer Helper::assist(const BrokerOptions& broker, const std::string& name) {
    auto options = accept_options(name);
    ra_assist_offer* raw = nullptr;
    check(ra_helper_assist(broker.get(), options.get(), &raw));
    return AssistOffer(raw);
}

}  // namespace ra

#endif
