// ra.hpp — a header-only C++17 RAII wrapper over the C API of ra (ra.h).
// Every call into the library is in this file; the plain value types and the
// interfaces of C++ backends are in ra/types.hpp, included here.
//
// - Handles are std::unique_ptr with the matching ra_*_free as deleter;
//   the classes are movable, not copyable.
// - Failures throw ra::Error, carrying the ra_result code, its name and the
//   library's detail message (ra_last_error_message).
// - Version check: the wrapper was made for RA_VERSION_MAJOR.MINOR of the
//   ra.h it is compiled against. The first object made (and
//   ra::check_library_version()) compares that with the loaded library's
//   ra_version(): the same major, and while it is 0 the same minor, or
//   ra::IncompatibleLibrary (an ra::Error) naming both versions is thrown.
// - Events are copied into plain C++ structs (strings as std::string),
//   except frames, whose pixels are borrowed from the event that holds them.
//
// Exceptions in callbacks. Callbacks run on the library's threads; no
// exception may cross into C. One thrown by your event callback
// (Host::on_event, Helper::on_event), injector, capturer or encoder is
// caught at the boundary, written to the library's log as an error from
// origin "ra.cpp" (ra_log_message; see set_log_callback), and kept: the
// next call on the Host or Helper it belongs to (the host whose backends
// they are) rethrows it, once (the first one kept wins until then). Where
// the C callback returns a code, the library gets RA_RESULT_BACKEND and
// reports RA_HOST_EVENT_BACKEND_ERROR. An exception thrown by the log
// callback itself cannot be logged (the library drops what its log
// callback logs): it goes to stderr, and the next set_log_callback,
// reset_log_callback or log_message rethrows it. Exceptions kept when the
// object is destroyed are lost (they were logged).
//
// Threads: as in ra.h — Host and Helper may be used from several threads;
// builders (options, backends, policies) from one at a time.
#ifndef RA_HPP
#define RA_HPP

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ra.h"
#include "ra/types.hpp"

namespace ra {

/// A failed call: the code and the library's message.
class Error : public std::runtime_error {
public:
    /// `detail` (empty: the code's standard message).
    Error(ra_result code, const std::string& detail)
        : std::runtime_error(detail.empty() ? std::string(ra_result_message(code)) : detail),
          code_(code) {}
    /// The ra_result.
    [[nodiscard]] ra_result code() const noexcept { return code_; }
    /// Its constant's name ("RA_RESULT_WRONG_PASSWORD").
    [[nodiscard]] const char* name() const noexcept { return ra_result_name(code_); }

protected:
    /// A message as given (no call into the library: it may be the wrong one).
    struct Verbatim {};
    Error(ra_result code, const std::string& message, Verbatim) : std::runtime_error(message), code_(code) {}

private:
    ra_result code_;
};

/// The loaded libra_ffi is not the version this wrapper was made for
/// (code RA_RESULT_UNSUPPORTED).
class IncompatibleLibrary : public Error {
public:
    /// `loaded`: what ra_version() said.
    explicit IncompatibleLibrary(const std::string& loaded)
        : Error(RA_RESULT_UNSUPPORTED,
                "incompatible libra_ffi: the loaded library is version " + loaded +
                    ", but this ra.hpp was made for version " + expected() + " (ra.h " RA_VERSION
                    "); it needs the same major version, and while that is 0 the same minor",
                Verbatim{}),
          loaded_(loaded) {}
    /// The loaded library's version ("99.0.0").
    [[nodiscard]] const std::string& loaded() const noexcept { return loaded_; }
    /// The version the wrapper needs ("0.1").
    [[nodiscard]] static std::string expected() {
        return std::to_string(RA_VERSION_MAJOR) + "." + std::to_string(RA_VERSION_MINOR);
    }

private:
    std::string loaded_;
};

/// Whether the loaded library (its ra_version()) is one this wrapper can
/// use: the same major version as ra.h, and while it is 0 the same minor.
[[nodiscard]] inline bool compatible_version(const std::string& loaded) {
    unsigned long major = 0, minor = 0;
    char* end = nullptr;
    major = std::strtoul(loaded.c_str(), &end, 10);
    if (end == loaded.c_str() || *end != '.') return false;
    const char* rest = end + 1;
    minor = std::strtoul(rest, &end, 10);
    if (end == rest) return false;
    return major == RA_VERSION_MAJOR && (major != 0 || minor == RA_VERSION_MINOR);
}

/// Throws ra::IncompatibleLibrary unless the loaded library is compatible
/// (checked once per process; every owning object's creation calls it).
inline void check_library_version() {
    static const std::string loaded = ra_version();
    static const bool ok = compatible_version(loaded);
    if (!ok) throw IncompatibleLibrary(loaded);
}

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
inline uint64_t ms64(std::chrono::milliseconds duration) {
    return duration.count() < 0 ? 0 : static_cast<uint64_t>(duration.count());
}
/// Makes a handle through `make(&raw)`, after the version check.
template <class T, auto Free, class Make>
Handle<T, Free> make(Make&& make_raw) {
    check_library_version();
    T* raw = nullptr;
    check(make_raw(&raw));
    return Handle<T, Free>(raw);
}

/// The exceptions callbacks threw, kept for the next call on their object.
class Failures {
public:
    /// Keeps `error` unless one is kept already.
    void keep(std::exception_ptr error) noexcept {
        std::lock_guard<std::mutex> guard(lock_);
        if (!kept_) kept_ = std::move(error);
    }
    /// Rethrows (and forgets) the kept exception, if any.
    void rethrow() {
        std::exception_ptr error;
        {
            std::lock_guard<std::mutex> guard(lock_);
            error = std::exchange(kept_, nullptr);
        }
        if (error) std::rethrow_exception(error);
    }

private:
    std::mutex lock_;
    std::exception_ptr kept_;
};
using SharedFailures = std::shared_ptr<Failures>;

/// The current exception's message.
inline std::string what_of(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "an exception that is not a std::exception";
    }
}

/// Inside a catch block at the C boundary: keeps the current exception in
/// `failures` and writes it to the library's log.
inline void caught(Failures* failures, const char* where) noexcept {
    try {
        std::exception_ptr error = std::current_exception();
        if (failures) failures->keep(error);
        std::string line = std::string("exception in the C++ ") + where + ": " + what_of(error);
        ra_log_message(RA_LOG_ERROR, "ra.cpp", line.c_str());
    } catch (...) {
        // Out of memory while reporting: the exception stays kept if it could be.
    }
}

/// Runs `body` at the C boundary: an exception becomes RA_RESULT_BACKEND.
template <class F>
ra_result guarded(Failures* failures, const char* where, F&& body) noexcept {
    try {
        return body();
    } catch (...) {
        caught(failures, where);
        return RA_RESULT_BACKEND;
    }
}
}  // namespace detail

/// Waits forever in next_event.
inline constexpr std::chrono::milliseconds forever{RA_TIMEOUT_INFINITE};

/// The version of the loaded library.
[[nodiscard]] inline std::string version() { return ra_version(); }

/// Receives the library's log: level (RA_LOG_*), where it came from
/// ("ra_core::…", or an application's origin), the message. Called on any
/// engine thread, possibly several at once: be thread-safe and quick, and
/// call no blocking ra function.
using LogSink = std::function<void(uint32_t level, const std::string& target, const std::string& message)>;

namespace detail {
struct LogState {
    std::mutex lock;
    std::vector<std::unique_ptr<LogSink>> sinks;  // every sink ever set: one may still be running
    Failures failures;
};
inline LogState& log_state() {
    static LogState* state = new LogState();  // never destroyed: engine threads may log at exit
    return *state;
}
inline void log_trampoline(void* user_data, uint32_t level, const char* target, const char* message) noexcept {
    try {
        (*static_cast<LogSink*>(user_data))(level, str(target), str(message));
    } catch (...) {
        // The library drops what is logged from inside its log callback.
        log_state().failures.keep(std::current_exception());
        std::fprintf(stderr, "ra.cpp: exception in the C++ log callback: %s\n",
                     what_of(std::current_exception()).c_str());
    }
}
}  // namespace detail

/// Sends the library's log messages up to `max_level` (RA_LOG_ERROR…
/// RA_LOG_TRACE) to `sink`, replacing any earlier one (which is kept alive
/// until the program ends: a call may still be running). An empty sink or
/// RA_LOG_OFF stops logging. Rethrows an exception the previous sink threw.
inline void set_log_callback(LogSink sink, uint32_t max_level = RA_LOG_INFO) {
    check_library_version();
    auto& state = detail::log_state();
    state.failures.rethrow();
    std::lock_guard<std::mutex> guard(state.lock);
    if (!sink || max_level == RA_LOG_OFF) {
        check(ra_set_log_callback(nullptr, nullptr, RA_LOG_OFF));
        return;
    }
    auto owned = std::make_unique<LogSink>(std::move(sink));
    check(ra_set_log_callback(&detail::log_trampoline, owned.get(), max_level));
    state.sinks.push_back(std::move(owned));
}

/// Stops logging (as set_log_callback with an empty sink).
inline void reset_log_callback() { set_log_callback(nullptr, RA_LOG_OFF); }

/// Writes `message` into the library's log at `level` (RA_LOG_ERROR…), as
/// coming from `origin`; the log sink gets it as its target.
inline void log_message(uint32_t level, const std::string& message, const std::string& origin = "app") {
    detail::log_state().failures.rethrow();
    check(ra_log_message(level, origin.c_str(), message.c_str()));
}

/// The USB HID usage (keyboard page) of a key by name ("a", "enter",
/// "ctrl", "f5"; case-insensitive), for RA_INPUT_KEY events.
[[nodiscard]] inline uint32_t key_from_name(const std::string& name) {
    uint32_t key = 0;
    check(ra_key_from_name(name.c_str(), &key));
    return key;
}

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

class Host;

/// The host's backends: built-ins, or written in C++ (Injector, Capturer,
/// Encoder). Host::invite (or the code flows) moves them into the host.
class HostBackends {
public:
    /// The defaults: synthetic pattern, OpenH264, input dropped.
    HostBackends()
        : handle_(detail::make<ra_host_backends, ra_host_backends_free>(
              [](ra_host_backends** out) { return ra_host_backends_new(out); })) {}
    /// The built-in test pattern: `width`×`height` at `frame_rate` fps.
    HostBackends& synthetic_capturer(uint32_t width, uint32_t height, double frame_rate) {
        check(ra_host_backends_use_synthetic_capturer(handle_.get(), width, height, frame_rate));
        return *this;
    }
    /// The real screen of X display `display` (nullptr: $DISPLAY), opened when the session starts.
    HostBackends& screen_capturer(const char* display = nullptr) {
        check(ra_host_backends_use_screen_capturer(handle_.get(), display));
        return *this;
    }
    /// A capturer written in C++; the library owns it from here on and
    /// destroys it on its own thread.
    HostBackends& capturer(std::unique_ptr<Capturer> capturer) {
        auto* owned = new CapturerHolder{std::move(capturer), failures_, {}, {}, {}, {}};
        ra_capturer_callbacks table{};
        table.user_data = owned;
        table.displays = &CapturerHolder::displays;
        table.select = &CapturerHolder::select;
        table.next_frame = &CapturerHolder::next_frame;
        table.invalidate = &CapturerHolder::invalidate;
        table.destroy = &destroy<CapturerHolder>;
        table.cursor = &CapturerHolder::cursor;
        adopt(owned, ra_host_backends_set_capturer(handle_.get(), &table));
        return *this;
    }
    /// The built-in OpenH264 encoder (the default).
    HostBackends& openh264_encoder() {
        check(ra_host_backends_use_openh264_encoder(handle_.get()));
        return *this;
    }
    /// An encoder written in C++ (H.264 Annex B); owned as capturer().
    HostBackends& encoder(std::unique_ptr<Encoder> encoder) {
        auto* owned = new EncoderHolder{std::move(encoder), failures_, {}};
        ra_encoder_callbacks table{};
        table.user_data = owned;
        table.encode = &EncoderHolder::encode;
        table.set_bitrate = &EncoderHolder::set_bitrate;
        table.destroy = &destroy<EncoderHolder>;
        adopt(owned, ra_host_backends_set_encoder(handle_.get(), &table));
        return *this;
    }
    /// Drops the helper's input (the default).
    HostBackends& null_injector() {
        check(ra_host_backends_use_null_injector(handle_.get()));
        return *this;
    }
    /// Prints the helper's input to standard output, one JSON object per line.
    HostBackends& log_injector() {
        check(ra_host_backends_use_log_injector(handle_.get()));
        return *this;
    }
    /// Real input into X display `display` (nullptr: $DISPLAY), under a grant only.
    HostBackends& system_injector(const char* display = nullptr) {
        check(ra_host_backends_use_system_injector(handle_.get(), display));
        return *this;
    }
    /// An injector written in C++; owned as capturer().
    HostBackends& injector(Injector injector) {
        auto* owned = new InjectorHolder{std::move(injector), failures_};
        ra_injector_callbacks table{};
        table.user_data = owned;
        table.inject = &InjectorHolder::inject;
        table.release_all = &InjectorHolder::release_all;
        table.destroy = &destroy<InjectorHolder>;
        adopt(owned, ra_host_backends_set_injector(handle_.get(), &table));
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
    /// The C handle.
    [[nodiscard]] ra_host_backends* get() const noexcept { return handle_.get(); }

private:
    friend class Host;
    template <class Holder>
    static void destroy(void* user_data) noexcept {
        delete static_cast<Holder*>(user_data);
    }
    template <class Holder>
    void adopt(Holder* owned, ra_result result) {
        if (result != RA_RESULT_OK) {
            delete owned;  // ownership stays with the caller on failure
            check(result);
        }
    }

    struct InjectorHolder {
        Injector injector;
        detail::SharedFailures failures;
        static ra_result inject(void* user_data, const ra_input_event* event) noexcept {
            auto* self = static_cast<InjectorHolder*>(user_data);
            return detail::guarded(self->failures.get(), "injector", [&] {
                return self->injector.inject ? self->injector.inject(*event) : RA_RESULT_OK;
            });
        }
        static ra_result release_all(void* user_data) noexcept {
            auto* self = static_cast<InjectorHolder*>(user_data);
            return detail::guarded(self->failures.get(), "injector", [&] {
                return self->injector.release_all ? self->injector.release_all() : RA_RESULT_OK;
            });
        }
    };

    struct CapturerHolder {
        std::unique_ptr<Capturer> capturer;
        detail::SharedFailures failures;
        CapturedFrame frame;                    // kept until the next call
        std::vector<Display> display_list;      // kept until the next call
        std::vector<ra_display_info> c_displays;
        std::optional<CursorUpdate> update;

        static ra_result displays(void* user_data, const ra_display_info** out, size_t* count) noexcept {
            auto* self = static_cast<CapturerHolder*>(user_data);
            return detail::guarded(self->failures.get(), "capturer", [&] {
                self->display_list = self->capturer->displays();
                self->c_displays.clear();
                for (const auto& d : self->display_list) {
                    self->c_displays.push_back({d.id, d.name.c_str(), d.bounds, uint8_t{d.primary}});
                }
                *out = self->c_displays.data();
                *count = self->c_displays.size();
                return RA_RESULT_OK;
            });
        }
        static ra_result select(void* user_data, uint32_t display) noexcept {
            auto* self = static_cast<CapturerHolder*>(user_data);
            return detail::guarded(self->failures.get(), "capturer", [&] {
                return self->capturer->select(display) ? RA_RESULT_OK : RA_RESULT_INVALID_ARGUMENT;
            });
        }
        static ra_result next_frame(void* user_data, uint32_t timeout_ms, ra_frame* out) noexcept {
            auto* self = static_cast<CapturerHolder*>(user_data);
            return detail::guarded(self->failures.get(), "capturer", [&] {
                auto frame = self->capturer->next_frame(std::chrono::milliseconds(timeout_ms));
                if (!frame) return RA_RESULT_TIMEOUT;
                self->frame = std::move(*frame);
                const CapturedFrame& f = self->frame;
                *out = ra_frame{f.data,           f.len,          f.width,
                                f.height,         f.stride,       f.damage.empty() ? nullptr : f.damage.data(),
                                f.damage.size(),  f.captured_at_us, f.display};
                return RA_RESULT_OK;
            });
        }
        static void invalidate(void* user_data) noexcept {
            auto* self = static_cast<CapturerHolder*>(user_data);
            (void)detail::guarded(self->failures.get(), "capturer", [&] {
                self->capturer->invalidate();
                return RA_RESULT_OK;
            });
        }
        static ra_result cursor(void* user_data, ra_cursor_update* out) noexcept {
            auto* self = static_cast<CapturerHolder*>(user_data);
            return detail::guarded(self->failures.get(), "capturer", [&] {
                self->update = self->capturer->cursor();
                if (!self->update) return RA_RESULT_TIMEOUT;
                *out = ra_cursor_update{self->update->x, self->update->y, uint8_t{self->update->visible},
                                        self->update->shape};
                return RA_RESULT_OK;
            });
        }
    };

    struct EncoderHolder {
        std::unique_ptr<Encoder> encoder;
        detail::SharedFailures failures;
        Encoded last;  // kept until the next call
        static ra_result encode(void* user_data, const ra_frame* frame, uint8_t force_keyframe,
                                ra_encoded_frame* out) noexcept {
            auto* self = static_cast<EncoderHolder*>(user_data);
            return detail::guarded(self->failures.get(), "encoder", [&] {
                self->last = self->encoder->encode(*frame, force_keyframe != 0);
                *out = ra_encoded_frame{self->last.bytes.data(), self->last.bytes.size(),
                                        uint8_t{self->last.keyframe}};
                return RA_RESULT_OK;
            });
        }
        static void set_bitrate(void* user_data, uint32_t bits_per_second) noexcept {
            auto* self = static_cast<EncoderHolder*>(user_data);
            (void)detail::guarded(self->failures.get(), "encoder", [&] {
                self->encoder->set_bitrate(bits_per_second);
                return RA_RESULT_OK;
            });
        }
    };

    detail::Handle<ra_host_backends, ra_host_backends_free> handle_;
    detail::SharedFailures failures_ = std::make_shared<detail::Failures>();
};

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

/// A helper event. Strings are copied; a frame's pixels are borrowed from
/// the event, so they live as long as this object (or the callback call).
class HelperEvent {
public:
    /// RA_HELPER_EVENT_*; unknown numbers mean "other".
    [[nodiscard]] uint32_t kind() const noexcept { return data_.kind; }
    /// Every field, as the C struct (pointers valid as long as this object).
    [[nodiscard]] const ra_helper_event_data& data() const noexcept { return data_; }
    /// The picture (RA_HELPER_EVENT_FRAME), BGRA.
    [[nodiscard]] const ra_frame& frame() const noexcept { return data_.frame; }
    /// Chat message or clipboard text.
    [[nodiscard]] std::string text() const { return detail::str(data_.text); }
    /// The reason's snake_case name.
    [[nodiscard]] std::string reason_name() const { return detail::str(data_.reason_name); }
    /// For a person.
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

/// A helper's live session. Destroying it ends the session and tells the
/// host. Every call first rethrows an exception its event callback threw.
class Helper {
public:
    /// Receives helper events, frames included, on the helper's callback thread.
    using Callback = std::function<void(const HelperEvent&)>;

    /// Connects and waits until the host lets the helper in.
    [[nodiscard]] static Helper accept(const Invitation& invitation, const std::string& password,
                                       const AcceptOptions& options) {
        return Helper(detail::make<ra_helper, ra_helper_free>(
            [&](ra_helper** out) { return ra_helper_accept(invitation.get(), password.c_str(), options.get(), out); }));
    }
    /// As above, with the defaults and the name `name`.
    [[nodiscard]] static Helper accept(const Invitation& invitation, const std::string& password,
                                       const std::string& name = "ra helper") {
        return accept(invitation, password, AcceptOptions().name(name));
    }
    /// Easy Connect: connects with the code the host read out and waits
    /// until the host lets the helper in.
    [[nodiscard]] static Helper easy_connect(const BrokerOptions& broker, const std::string& code,
                                             const std::string& name = "ra helper") {
        AcceptOptions options;
        options.name(name);
        return Helper(detail::make<ra_helper, ra_helper_free>(
            [&](ra_helper** out) { return ra_helper_easy_connect(broker.get(), code.c_str(), options.get(), out); }));
    }
    /// Quick Assist: registers a code to read to the host (defined below).
    [[nodiscard]] static AssistOffer assist(const BrokerOptions& broker, const std::string& name = "ra helper");
    /// The next event (frames included), or nullopt after `timeout`. Throws
    /// ra::Error with RA_RESULT_CLOSED once the session is over.
    [[nodiscard]] std::optional<HelperEvent> next_event(std::chrono::milliseconds timeout) {
        ra_helper_event* raw = nullptr;
        ra_result r = ra_helper_next_event(live(), detail::ms(timeout), &raw);
        if (r == RA_RESULT_TIMEOUT) return std::nullopt;
        check(r);
        return HelperEvent(raw, nullptr);
    }
    /// Events, frames included, go to `callback` (frames borrowed for the call).
    void on_event(Callback callback) {
        auto holder = callback ? std::make_unique<Holder>(Holder{std::move(callback), failures_}) : nullptr;
        check(ra_helper_set_event_callback(live(), holder ? &trampoline : nullptr, holder.get()));
        callback_ = std::move(holder);
    }
    /// Asks for control (answer: RA_HELPER_EVENT_CONTROL_GRANTED or _DENIED).
    void request_control() { check(ra_helper_request_control(live())); }
    /// Gives control back.
    void release_control() { check(ra_helper_release_control(live())); }
    /// Sends input (under a control grant).
    void send_input(const std::vector<ra_input_event>& events) {
        check(ra_helper_send_input(live(), events.data(), events.size()));
    }
    /// Sends a chat message.
    void chat(const std::string& text) { check(ra_helper_chat(live(), text.c_str())); }
    /// Shows a pointer mark (RA_POINTER_*) at (x, y) on the host's screen; needs no control.
    void pointer(int32_t x, int32_t y, uint32_t kind = RA_POINTER_LASER) {
        check(ra_helper_pointer(live(), x, y, kind));
    }
    /// Asks the host to capture another display (or RA_DISPLAY_ALL).
    void select_display(uint32_t display) { check(ra_helper_select_display(live(), display)); }
    /// Asks the host for a whole picture.
    void request_keyframe() { check(ra_helper_request_keyframe(live())); }
    /// Ends the session.
    void end() { check(ra_helper_end(live())); }
    /// Sends the helper's clipboard text (while the host shares it).
    void send_clipboard(const std::string& text) { check(ra_helper_send_clipboard(live(), text.c_str())); }
    /// The host's name.
    [[nodiscard]] std::string host_name() const {
        char* text = nullptr;
        check(ra_helper_get_host_name(live(), &text));
        return detail::take(text);
    }
    /// RA_PATH_DIRECT, or RA_PATH_RELAYED through the broker's relay.
    [[nodiscard]] uint32_t path() const {
        uint32_t path = RA_PATH_UNKNOWN;
        check(ra_helper_get_path(live(), &path));
        return path;
    }
    /// RA_CONTROL_*.
    [[nodiscard]] uint32_t control_state() const {
        uint32_t state = RA_CONTROL_NONE;
        check(ra_helper_get_control_state(live(), &state));
        return state;
    }
    /// The session's statistics (never blocks).
    [[nodiscard]] SessionStats stats() const {
        ra_session_stats s = RA_SIZED(ra_session_stats);
        check(ra_helper_get_stats(live(), &s));
        return SessionStats::from(s);
    }
    /// The C handle.
    [[nodiscard]] ra_helper* get() const noexcept { return handle_.get(); }

    Helper(Helper&&) noexcept = default;             ///< moves the session
    Helper& operator=(Helper&&) noexcept = default;  ///< frees the old session first
    ~Helper() { handle_.reset(); }                   ///< frees the helper before its callback

private:
    friend class AssistOffer;
    struct Holder {
        Callback callback;
        detail::SharedFailures failures;
    };
    explicit Helper(detail::Handle<ra_helper, ra_helper_free> handle) : handle_(std::move(handle)) {}
    ra_helper* live() const {
        if (failures_) failures_->rethrow();
        return handle_.get();
    }
    static void trampoline(void* user_data, const ra_helper_event* event) noexcept {
        auto* holder = static_cast<Holder*>(user_data);
        try {
            holder->callback(HelperEvent(nullptr, event));
        } catch (...) {
            detail::caught(holder->failures.get(), "helper event callback");
        }
    }
    // The handle first: moving or destroying frees the old session (and
    // stops its callback thread) before the callback it calls goes away.
    detail::Handle<ra_helper, ra_helper_free> handle_;
    detail::SharedFailures failures_ = std::make_shared<detail::Failures>();
    std::unique_ptr<Holder> callback_;
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
        return Helper(detail::Handle<ra_helper, ra_helper_free>(raw));
    }
    /// The C handle.
    [[nodiscard]] ra_assist_offer* get() const noexcept { return handle_.get(); }

private:
    friend class Helper;
    explicit AssistOffer(detail::Handle<ra_assist_offer, ra_assist_offer_free> handle) : handle_(std::move(handle)) {}
    detail::Handle<ra_assist_offer, ra_assist_offer_free> handle_;
};

inline AssistOffer Helper::assist(const BrokerOptions& broker, const std::string& name) {
    AcceptOptions options;
    options.name(name);
    return AssistOffer(detail::make<ra_assist_offer, ra_assist_offer_free>(
        [&](ra_assist_offer** out) { return ra_helper_assist(broker.get(), options.get(), out); }));
}

}  // namespace ra

#endif
