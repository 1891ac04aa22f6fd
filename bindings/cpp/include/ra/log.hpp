// ra/log.hpp — the library's log: set_log_callback, reset_log_callback,
// log_message, and the bridge that calls a C++ LogSink from the library's
// threads. Include "ra.hpp", which includes this file.
#ifndef RA_LOG_HPP
#define RA_LOG_HPP

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "ra.h"
#include "ra/error.hpp"

namespace ra {

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

}  // namespace ra

#endif
