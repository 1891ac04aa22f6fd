// ra/backends.hpp — HostBackends: the host's built-in backends, and the
// bridges that let the library call an Injector, Capturer or Encoder written
// in C++ (exceptions kept for the host, as ra.hpp describes). Include
// "ra.hpp", which includes this file.
#ifndef RA_BACKENDS_HPP
#define RA_BACKENDS_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "ra.h"
#include "ra/error.hpp"
#include "ra/types.hpp"

namespace ra {

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
    /// The real screen, opened when the session starts: X display `display`,
    /// or with nullptr the session's own (on a Wayland desktop its PipeWire
    /// streams, through a session opened as wayland_api() says; else $DISPLAY).
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
    /// Real input, under a grant only: into X display `display`, or with
    /// nullptr the session's own (on Wayland through the capturer's session;
    /// the host then hears RA_HOST_EVENT_DESK_LIMITED: no panic key there).
    HostBackends& system_injector(const char* display = nullptr) {
        check(ra_host_backends_use_system_injector(handle_.get(), display));
        return *this;
    }
    /// How the real-screen backends open their session on a Wayland desktop:
    /// RA_WAYLAND_API_PORTAL (the default: the desktop's dialog asks) or
    /// RA_WAYLAND_API_MUTTER (GNOME's own API, no dialog).
    HostBackends& wayland_api(uint32_t api) {
        check(ra_host_backends_set_wayland_api(handle_.get(), api));
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

}  // namespace ra

#endif
