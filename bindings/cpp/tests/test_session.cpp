// The C++ wrapper end to end: a host with a C++ injector, a helper taking
// frames through a callback, control, input, revoke, end, and errors as
// exceptions; then Easy Connect through the ra-broker run.sh started
// (RA_TEST_BROKER, RA_TEST_BROKER_FINGERPRINT).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

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

template <class F>
static void expect_error(F&& f, ra_result code) {
    try {
        f();
        CHECK(!"no exception");
    } catch (const ra::Error& e) {
        CHECK(e.code() == code);
        CHECK(std::string(e.what()).size() > 0);
    }
}

/// Takes host events until one of `kind`.
static ra::HostEvent wait_host(ra::Host& host, uint32_t kind) {
    for (;;) {
        auto event = host.next_event(30s);
        if (!event) throw std::runtime_error("timed out waiting for a host event");
        if (event->kind == kind) return *event;
    }
}

static ra::HelperEvent wait_helper(ra::Helper& helper, uint32_t kind) {
    for (;;) {
        auto event = helper.next_event(30s);
        if (!event) throw std::runtime_error("timed out waiting for a helper event");
        if (event->kind() == kind) return std::move(*event);
    }
}

int main() {
    try {
        // Errors are exceptions with the code and the message.
        expect_error([] { (void)ra::Invitation::from_token("not a token"); },
                     RA_RESULT_INVALID_INVITATION);
        expect_error([] { (void)ra::Policy::from_toml("bogus = 1"); }, RA_RESULT_INVALID_POLICY);
        CHECK(ra::version() == RA_VERSION);

        // The desk is the library's: a bad combination is refused, and a
        // display nobody serves stops the session from starting.
        {
            ra::HostBackends desk;
            expect_error([&] { desk.panic_key(nullptr, "ctrl+alt"); }, RA_RESULT_INVALID_ARGUMENT);
            desk.panic_key(":4095").local_user_wins(1500, ":4095").system_clipboard(":4095");
            ra::InviteOptions options;
            options.listen("127.0.0.1:0");
            expect_error([&] { (void)ra::Host::invite(options, desk); }, RA_RESULT_BACKEND);
            // Likewise the real screen and input of a display nobody serves.
            ra::HostBackends real;
            real.screen_capturer(":4095").system_injector(":4095");
            expect_error([&] { (void)ra::Host::invite(options, real); }, RA_RESULT_BACKEND);
        }

        std::mutex lock;
        std::condition_variable changed;
        std::vector<ra_input_event> injected;
        int releases = 0;
        ra::HostBackends backends;
        backends.synthetic_capturer(320, 240, 30).injector(ra::Injector{
            [&](const ra_input_event& event) {
                std::lock_guard<std::mutex> guard(lock);
                injected.push_back(event);
                changed.notify_all();
                return RA_RESULT_OK;
            },
            [&] {
                std::lock_guard<std::mutex> guard(lock);
                ++releases;
                changed.notify_all();
                return RA_RESULT_OK;
            }});
        ra::InviteOptions options;
        options.host_name("C++ host").listen("127.0.0.1:0");
        ra::Host host = ra::Host::invite(options, backends);
        auto token = host.invitation().token();
        auto password = host.password();

        std::optional<ra::Helper> helper;
        std::thread accepting([&] {
            helper.emplace(ra::Helper::accept(ra::Invitation::from_token(token), password, "C++ helper"));
        });
        auto request = wait_host(host, RA_HOST_EVENT_CONNECTION_REQUEST);
        CHECK(request.helper_name == "C++ helper");
        host.approve(request.connection);
        accepting.join();
        CHECK(helper.has_value());

        // Frames through a callback, pixels borrowed for the call.
        std::atomic<int> frames{0};
        std::atomic<bool> frame_ok{true};
        helper->on_event([&](const ra::HelperEvent& event) {
            if (event.kind() == RA_HELPER_EVENT_FRAME) {
                const ra_frame& f = event.frame();
                if (f.width != 320 || f.height != 240 || f.data == nullptr) frame_ok = false;
                if (event.copy_pixels().size() != 320u * 240u * 4u) frame_ok = false;
                std::lock_guard<std::mutex> guard(lock);
                ++frames;
                changed.notify_all();
            }
        });
        {
            std::unique_lock<std::mutex> guard(lock);
            CHECK(changed.wait_for(guard, 30s, [&] { return frames >= 2; }));
        }
        helper->on_event(nullptr);
        CHECK(frame_ok);

        helper->request_control();
        auto asked = wait_host(host, RA_HOST_EVENT_CONTROL_REQUESTED);
        host.grant_control(asked.connection);
        (void)wait_helper(*helper, RA_HELPER_EVENT_CONTROL_GRANTED);
        CHECK(helper->control_state() == RA_CONTROL_GRANTED);
        helper->send_input({{RA_INPUT_POINTER_MOVE, 5, 6, 0, 0, 0, nullptr},
                            {RA_INPUT_KEY, 0, 0, 0, 0x04, 1, nullptr}});
        {
            std::unique_lock<std::mutex> guard(lock);
            CHECK(changed.wait_for(guard, 30s, [&] { return injected.size() >= 2; }));
            CHECK(injected.size() == 2 && injected[0].x == 5 && injected[1].key == 0x04);
        }

        // The local user is busy: what the helper holds is released.
        host.local_input_seen(60000);
        {
            std::unique_lock<std::mutex> guard(lock);
            CHECK(changed.wait_for(guard, 30s, [&] { return releases >= 1; }));
        }
        host.revoke_panic_key();
        auto revoked = wait_helper(*helper, RA_HELPER_EVENT_CONTROL_REVOKED);
        CHECK(revoked.reason_name() == "panic_key");
        {
            std::unique_lock<std::mutex> guard(lock);
            CHECK(changed.wait_for(guard, 30s, [&] { return releases >= 2; }));
        }
        expect_error([&] { helper->send_input({{RA_INPUT_POINTER_MOVE, 1, 1, 0, 0, 0, nullptr}}); },
                     RA_RESULT_NOT_CONTROLLING);

        helper->chat("bye");
        CHECK(wait_host(host, RA_HOST_EVENT_CHAT).text == "bye");
        // The default policy keeps the clipboard closed.
        expect_error([&] { host.set_clipboard_sharing(true); }, RA_RESULT_POLICY);
        expect_error([&] { helper->send_clipboard("nope"); }, RA_RESULT_NOT_NOW);
        host.end();
        auto ended = wait_helper(*helper, RA_HELPER_EVENT_ENDED);
        CHECK(ended.data().reason == RA_END_HOST_ENDED);
        helper.reset();

        // Easy Connect: the host gets a code, the helper types it.
        const char* address = std::getenv("RA_TEST_BROKER");
        const char* fingerprint = std::getenv("RA_TEST_BROKER_FINGERPRINT");
        CHECK(address != nullptr && fingerprint != nullptr);
        if (address && fingerprint) {
            ra::BrokerOptions broker(address);
            broker.fingerprint(fingerprint).bind("127.0.0.1:0");
            // "Verify the firewall": the library's checks and verdict.
            ra::Diagnosis diagnosis = ra::diagnose(broker);
            CHECK(diagnosis.ok && diagnosis.verdict.rfind("ready: ", 0) == 0);
            CHECK(diagnosis.checks.size() >= 4 && diagnosis.checks[1].name == "broker" &&
                  diagnosis.checks[1].ok);
            ra::HostBackends code_backends;
            code_backends.synthetic_capturer(320, 240, 15);
            ra::InviteOptions code_options;
            code_options.host_name("C++ code host");
            ra::Host code_host = ra::Host::easy_connect(broker, code_options, code_backends);
            auto info = code_host.code_info();
            CHECK(info.code.size() == 15 && info.path == RA_PATH_UNKNOWN);
            std::optional<ra::Helper> code_helper;
            ra_result typing_result = RA_RESULT_OK;
            std::thread typing([&] {
                try {
                    code_helper.emplace(ra::Helper::easy_connect(broker, info.code, "C++ code helper"));
                } catch (const ra::Error& e) {
                    typing_result = e.code();
                }
            });
            auto asked = wait_host(code_host, RA_HOST_EVENT_CONNECTION_REQUEST);
            CHECK(asked.helper_name == "C++ code helper");
            code_host.approve(asked.connection);
            typing.join();
            CHECK(typing_result == RA_RESULT_OK && code_helper.has_value());
            if (code_helper) {
                CHECK(code_helper->path() == RA_PATH_DIRECT);
                auto frame = wait_helper(*code_helper, RA_HELPER_EVENT_FRAME);
                CHECK(frame.frame().width == 320 && frame.frame().height == 240);
                code_helper->end();
                CHECK(wait_host(code_host, RA_HOST_EVENT_ENDED).reason_name == "helper_ended");
                code_helper.reset();
            }
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "unexpected exception: %s\n", e.what());
        ++failed;
    }
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
