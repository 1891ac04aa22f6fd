// ra/helper.hpp — the helper's side: Helper (a live session and its
// HelperEvents), AssistOffer (a Quick Assist code waiting for a host), and
// key_from_name for the input it sends. Include "ra.hpp", which includes
// this file.
#ifndef RA_HELPER_HPP
#define RA_HELPER_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ra.h"
#include "ra/broker.hpp"
#include "ra/error.hpp"
#include "ra/invitation.hpp"
#include "ra/types.hpp"

namespace ra {

/// The USB HID usage (keyboard page) of a key by name ("a", "enter",
/// "ctrl", "f5"; case-insensitive), for RA_INPUT_KEY events.
[[nodiscard]] inline uint32_t key_from_name(const std::string& name) {
    uint32_t key = 0;
    check(ra_key_from_name(name.c_str(), &key));
    return key;
}

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
    /// Asks for control of only `scopes` (RA_SCOPE_* bits); the host may give less.
    void request_control_scopes(uint32_t scopes) {
        check(ra_helper_request_control_scopes(live(), scopes));
    }
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
