// What the C++ wrapper's tests share: CHECK counting, bounded waits for
// events, a log sink that records, a temporary directory.
#ifndef RA_CPP_TEST_KIT_HPP
#define RA_CPP_TEST_KIT_HPP

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include "ra.hpp"

using namespace std::chrono_literals;

static int passed = 0;
static int failed = 0;
#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (cond) {                                                                       \
            ++passed;                                                                     \
        } else {                                                                          \
            ++failed;                                                                     \
            std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                                 \
    } while (0)

/// Upper bound of every wait.
static constexpr auto WAIT = 30s;

template <class F>
static void expect_error(F&& f, ra_result code) {
    try {
        f();
        CHECK(!"no exception");
    } catch (const ra::Error& e) {
        if (e.code() != code) std::fprintf(stderr, "got %s: %s\n", e.name(), e.what());
        CHECK(e.code() == code);
        CHECK(std::string(e.what()).size() > 0);
    }
}

/// Takes host events until one of `kind`.
static ra::HostEvent wait_host(ra::Host& host, uint32_t kind) {
    auto deadline = std::chrono::steady_clock::now() + WAIT;
    while (std::chrono::steady_clock::now() < deadline) {
        auto event = host.next_event(1s);
        if (event && event->kind == kind) return *event;
    }
    throw std::runtime_error("timed out waiting for host event " + std::to_string(kind));
}

/// Takes helper events until one of `kind`.
static ra::HelperEvent wait_helper(ra::Helper& helper, uint32_t kind) {
    auto deadline = std::chrono::steady_clock::now() + WAIT;
    while (std::chrono::steady_clock::now() < deadline) {
        auto event = helper.next_event(1s);
        if (event && event->kind() == kind) return std::move(*event);
    }
    throw std::runtime_error("timed out waiting for helper event " + std::to_string(kind));
}

/// What the library logged, as the test's log sink received it.
struct LogLine {
    uint32_t level;
    std::string target, message;
};

class LogRecorder {
public:
    /// Installs the recording sink (max level `level`).
    void install(uint32_t level = RA_LOG_INFO) {
        ra::set_log_callback(
            [this](uint32_t lvl, const std::string& target, const std::string& message) {
                if (message.find("throw in the sink") != std::string::npos) {
                    throw std::runtime_error("the sink threw on purpose");
                }
                std::lock_guard<std::mutex> guard(lock_);
                lines_.push_back({lvl, target, message});
                changed_.notify_all();
            },
            level);
    }
    /// Waits until a line from `target` containing `text` arrived.
    bool wait(const std::string& target, const std::string& text) {
        std::unique_lock<std::mutex> guard(lock_);
        return changed_.wait_for(guard, WAIT, [&] { return find(target, text); });
    }
    /// Whether such a line arrived already.
    bool seen(const std::string& target, const std::string& text) {
        std::lock_guard<std::mutex> guard(lock_);
        return find(target, text);
    }
    /// How many lines arrived.
    size_t count() {
        std::lock_guard<std::mutex> guard(lock_);
        return lines_.size();
    }

private:
    bool find(const std::string& target, const std::string& text) const {
        for (const auto& l : lines_) {
            if (l.target == target && l.message.find(text) != std::string::npos) return true;
        }
        return false;
    }
    std::mutex lock_;
    std::condition_variable changed_;
    std::vector<LogLine> lines_;
};

/// A fresh temporary directory (removed by the caller's `cleanup`).
static std::string temp_dir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/ra_cpp_test.XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (!mkdtemp(buffer.data())) throw std::runtime_error("mkdtemp failed");
    return buffer.data();
}

static int summary() {
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}

#endif
