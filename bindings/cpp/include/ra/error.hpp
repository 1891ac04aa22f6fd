// ra/error.hpp — errors and the version check of the ra wrapper (ra::Error,
// ra::IncompatibleLibrary, check_library_version, check, version), and the
// plumbing the other headers share: owning handles, string and timeout
// conversions (and ra::forever), and keeping the exceptions callbacks throw
// (the policy is described at the top of ra.hpp). Include "ra.hpp", which
// includes this file.
#ifndef RA_ERROR_HPP
#define RA_ERROR_HPP

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include "ra.h"

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

}  // namespace ra

#endif
