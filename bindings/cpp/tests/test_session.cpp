// The C++ wrapper end to end: a host with a C++ injector, a helper taking
// frames through a callback, control, input, revoke, end, and errors as
// exceptions; Easy Connect through the ra-broker run.sh started
// (RA_TEST_BROKER, RA_TEST_BROKER_FINGERPRINT). Then the rest of the C API:
// the version check, the log, keys, policy files, invitation files and
// mailto, the accept timeouts, the audit log, closing an invitation, a
// verified helper's countersigned receipt and its checks (RA_TEST_ORG), a C++
// capturer and a C++ encoder (raw H.264 I_PCM) whose pixels reach the
// helper, keyframes on request, the pointer mark, stats, the log and null
// injectors, and exceptions thrown in every kind of callback.
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "h264_pcm.hpp"
#include "kit.hpp"

static LogRecorder logs;

/// An exception of the tests' own, thrown in callbacks.
struct Thrown : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Calls `f` and checks it throws Thrown with `text` in its message.
template <class F>
static void expect_thrown(F&& f, const std::string& text) {
    try {
        f();
        CHECK(!"the callback's exception was not rethrown");
    } catch (const Thrown& e) {
        CHECK(std::string(e.what()).find(text) != std::string::npos);
    }
}

static void original_session() {
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

    // A resume ticket: refused by the default policy; once allowed, the
    // helper is offered it.
    const std::vector<uint8_t> ticket_key(32, 9);
    const std::string ticket_path = "/tmp/ra-cpp-ticket-" + std::to_string(getpid());
    expect_error([&] { host.issue_resume_ticket(ticket_key, 10min, ticket_path); }, RA_RESULT_POLICY);
    auto tickets = ra::Policy::from_toml("allow_resume_tickets = true");
    host.set_policy(tickets);
    host.issue_resume_ticket(ticket_key, 10min, ticket_path);
    CHECK(wait_helper(*helper, RA_HELPER_EVENT_RESUME_OFFERED).data().expires_in_ms == 600000);
    CHECK(request.resumes.empty());

    helper->chat("bye");
    CHECK(wait_host(host, RA_HOST_EVENT_CHAT).text == "bye");
    // The default policy keeps the clipboard closed.
    expect_error([&] { host.set_clipboard_sharing(true); }, RA_RESULT_POLICY);
    expect_error([&] { helper->send_clipboard("nope"); }, RA_RESULT_NOT_NOW);
    host.end();
    // Both sides get the same consent receipt, just before the end.
    auto receipt = wait_helper(*helper, RA_HELPER_EVENT_RECEIPT);
    const std::string receipt_text = receipt.data().text ? receipt.data().text : "";
    CHECK(receipt_text.rfind("{\"receipt\":\"ra-consent-receipt-1\"", 0) == 0);
    CHECK(receipt.data().countersigned == 0);
    auto ended = wait_helper(*helper, RA_HELPER_EVENT_ENDED);
    CHECK(ended.data().reason == RA_END_HOST_ENDED);
    auto host_receipt = wait_host(host, RA_HOST_EVENT_RECEIPT);
    CHECK(host_receipt.text == receipt_text && !host_receipt.countersigned);
    CHECK(wait_host(host, RA_HOST_EVENT_ENDED).reason_name == "host_ended");
    helper.reset();

    // After a restart the ticket re-opens the session (nobody comes back
    // here: the helper was told goodbye), once.
    {
        ra::Host gone = std::move(host);
    }
    ra::InviteOptions resuming;
    resuming.policy(tickets);
    ra::HostBackends again;
    again.synthetic_capturer(320, 240, 30);
    {
        ra::Host reopened = ra::Host::resume_from_ticket(ticket_path, ticket_key, resuming, again);
        expect_error([&] { (void)reopened.invitation(); }, RA_RESULT_INVALID_STATE);
    }
    ra::HostBackends more;
    expect_error([&] { (void)ra::Host::resume_from_ticket(ticket_path, ticket_key, resuming, more); },
                 RA_RESULT_TICKET_USED);
    std::remove((ticket_path + ".used").c_str());

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

        // An invitation whose one address answers nothing (as behind a NAT):
        // the helper finds the host through the invitation's rendezvous.
        ra::HostBackends far_backends;
        far_backends.synthetic_capturer(320, 240, 15);
        ra::InviteOptions far_options;
        far_options.host_name("C++ NAT host").listen("127.0.0.1:0").add_address("127.0.0.1:9");
        far_options.rendezvous(broker);
        ra::Host far_host = ra::Host::invite(far_options, far_backends);
        std::optional<ra::Helper> far_helper;
        ra_result far_result = RA_RESULT_OK;
        std::thread reaching([&] {
            try {
                ra::AcceptOptions quick;
                quick.name("C++ far helper").connect_timeout(std::chrono::milliseconds(500));
                far_helper.emplace(ra::Helper::accept(
                    ra::Invitation::from_token(far_host.invitation().token()), far_host.password(), quick));
            } catch (const ra::Error& e) {
                far_result = e.code();
            }
        });
        auto far_asked = wait_host(far_host, RA_HOST_EVENT_CONNECTION_REQUEST);
        CHECK(far_asked.helper_name == "C++ far helper");
        far_host.approve(far_asked.connection);
        reaching.join();
        CHECK(far_result == RA_RESULT_OK && far_helper.has_value());
        if (far_helper) {
            CHECK(wait_helper(*far_helper, RA_HELPER_EVENT_FRAME).frame().width == 320);
            far_helper.reset();
        }
    }
}

static void basics(const std::string& dir) {
    // The version check: this library is the one ra.h describes.
    ra::check_library_version();
    CHECK(ra::compatible_version(RA_VERSION));
    CHECK(ra::compatible_version(std::to_string(RA_VERSION_MAJOR) + "." + std::to_string(RA_VERSION_MINOR) + ".99"));
    CHECK(!ra::compatible_version(std::to_string(RA_VERSION_MAJOR) + "." + std::to_string(RA_VERSION_MINOR + 1) + ".0"));
    CHECK(!ra::compatible_version("99.0.0") && !ra::compatible_version("garbage") && !ra::compatible_version(""));
    CHECK(ra::IncompatibleLibrary("99.0.0").code() == RA_RESULT_UNSUPPORTED);

    // The log: engine lines and the application's own, under its origin;
    // an exception in the sink is kept and rethrown by the next log call.
    logs.install(RA_LOG_INFO);
    ra::log_message(RA_LOG_WARN, "hello from the C++ test", "ra.cpp.test");
    CHECK(logs.seen("ra.cpp.test", "hello from the C++ test"));
    ra::log_message(RA_LOG_DEBUG, "too detailed", "ra.cpp.test");
    CHECK(!logs.seen("ra.cpp.test", "too detailed"));
    ra::log_message(RA_LOG_ERROR, "please throw in the sink", "ra.cpp.test");
    try {
        ra::log_message(RA_LOG_INFO, "after the throw", "ra.cpp.test");
        CHECK(!"the sink's exception was not rethrown");
    } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()) == "the sink threw on purpose");
    }
    ra::log_message(RA_LOG_INFO, "after the rethrow", "ra.cpp.test");
    CHECK(logs.seen("ra.cpp.test", "after the rethrow") && !logs.seen("ra.cpp.test", "after the throw"));
    expect_error([] { ra::log_message(RA_LOG_OFF, "no level"); }, RA_RESULT_INVALID_ARGUMENT);

    // Keys by name.
    CHECK(ra::key_from_name("a") == 0x04);
    CHECK(ra::key_from_name("ENTER") == 0x28);
    expect_error([] { (void)ra::key_from_name("no such key"); }, RA_RESULT_INVALID_ARGUMENT);

    // A policy file.
    std::string path = dir + "/policy.toml";
    std::ofstream(path) << "allow_clipboard = true\nallow_control = false\n";
    auto settings = ra::Policy::load(path).settings();
    CHECK(settings.allow_clipboard == 1 && settings.allow_control == 0 && settings.allow_assistance == 1);
    expect_error([&] { (void)ra::Policy::load(dir + "/missing.toml"); }, RA_RESULT_IO);
}

/// A host with the synthetic pattern on loopback.
static ra::Host synthetic_host(const std::string& name, ra::InviteOptions& options) {
    ra::HostBackends backends;
    backends.synthetic_capturer(160, 128, 15);
    options.host_name(name).listen("127.0.0.1:0");
    return ra::Host::invite(options, backends);
}

static void invitations(const std::string& dir) {
    ra::InviteOptions options;
    ra::Host host = synthetic_host("C++ invitation host", options);
    ra::Invitation invitation = host.invitation();
    uint16_t port = host.port();
    CHECK(port != 0);
    // The file's contents parse back into the same invitation.
    std::string contents = invitation.file_string();
    CHECK(!contents.empty());
    ra::Invitation parsed = ra::Invitation::parse(contents);
    CHECK(parsed.token() == invitation.token());
    auto info = parsed.info();
    CHECK(info.host_name == "C++ invitation host" && info.address_count == 1);
    CHECK(info.session_id.size() >= 16 && info.expires_at_unix > info.created_at_unix);
    expect_error([] { (void)ra::Invitation::parse("not an invitation"); }, RA_RESULT_INVALID_INVITATION);
    invitation.save(dir + "/saved.rainv");
    CHECK(ra::Invitation::load(dir + "/saved.rainv").token() == invitation.token());
    // mailto: the recipient and the token, never the password.
    std::string mailto = invitation.mailto({"helper@example.com"});
    CHECK(mailto.rfind("mailto:helper@example.com", 0) == 0);
    CHECK(mailto.find("ra1-") != std::string::npos && mailto.find(host.password()) == std::string::npos);
    CHECK(invitation.email("host@example.com", {"helper@example.com"}, "Help me").find("Help me") !=
          std::string::npos);

    // The approval timeout: nobody answers, the helper gives up.
    ra::AcceptOptions impatient;
    impatient.name("impatient helper").approval_timeout(700ms);
    auto started = std::chrono::steady_clock::now();
    expect_error([&] { (void)ra::Helper::accept(invitation, host.password(), impatient); }, RA_RESULT_DENIED);
    CHECK(std::chrono::steady_clock::now() - started < 10s);
    CHECK(wait_host(host, RA_HOST_EVENT_CONNECTION_REQUEST).helper_name == "impatient helper");

    // Closing the invitation: the host hears it, a later helper is refused.
    host.close_invitation();
    CHECK(wait_host(host, RA_HOST_EVENT_INVITATION_CLOSED).reason == RA_CLOSE_BY_HOST);
    ra::AcceptOptions quick;
    quick.connect_timeout(2s);
    try {
        (void)ra::Helper::accept(invitation, host.password(), quick);
        CHECK(!"accepted a closed invitation");
    } catch (const ra::Error& e) {
        std::printf("accepting a closed invitation: %s (%s)\n", e.name(), e.what());
        CHECK(e.code() == RA_RESULT_INVITATION_CLOSED);
    }

    // An invitation that lists only an address nobody answers at: the
    // connect timeout bounds the attempt.
    ra::InviteOptions elsewhere;
    elsewhere.add_address("127.0.0.1:9");
    ra::Host unreachable = synthetic_host("C++ elsewhere", elsewhere);
    ra::Invitation nowhere = unreachable.invitation();
    CHECK(nowhere.info().address_count == 1);
    ra::AcceptOptions brief;
    brief.connect_timeout(700ms);
    started = std::chrono::steady_clock::now();
    expect_error([&] { (void)ra::Helper::accept(nowhere, unreachable.password(), brief); }, RA_RESULT_UNREACHABLE);
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    std::printf("unreachable after %lld ms (connect timeout 700 ms)\n", static_cast<long long>(took.count()));
    CHECK(took < 4000ms);
}

/// The output of `command` (empty, and a failed CHECK, if it fails).
static std::string run(const std::string& command) {
    std::string output;
    FILE* pipe = popen(command.c_str(), "r");
    CHECK(pipe != nullptr);
    if (!pipe) return output;
    char buffer[512];
    size_t got;
    while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, got);
    CHECK(pclose(pipe) == 0);
    return output;
}

/// A new organisation (ra-org new) named `name`: its public key.
static std::string new_organisation(const std::string& org, const std::string& name, const std::string& path) {
    std::string output = run("'" + org + "' new --json --name '" + name + "' --out '" + path + "'");
    const std::string field = "\"public_key\":\"";
    auto start = output.find(field);
    if (start == std::string::npos) throw std::runtime_error("ra-org new printed no public_key: " + output);
    start += field.size();
    return output.substr(start, output.find('"', start) - start);
}

static std::string slurp(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

/// A verified helper (ra-org, as run.sh hands it over in RA_TEST_ORG) gets a
/// pointer-only grant; both sides keep the same countersigned receipt, which
/// ra::verify_receipt checks against the invitation and the organisation,
/// and the host's audit log checks with it; altered, they are refused.
static void verified_receipt(const std::string& dir) {
    const char* org = std::getenv("RA_TEST_ORG");
    CHECK(org != nullptr);
    if (!org) return;
    std::string org_key = new_organisation(org, "C++ IT", dir + "/org.key");
    std::string other_key = new_organisation(org, "Elsewhere", dir + "/other.key");
    run("'" + std::string(org) + "' issue --org '" + dir + "/org.key' --helper 'Jane Doe' --out '" + dir +
        "/jane.raid'");
    std::string identity = slurp(dir + "/jane.raid");
    CHECK(!identity.empty());

    ra::Policy policy = ra::Policy::from_toml("trusted_orgs = [\"" + org_key + "\"]\n");
    ra::InviteOptions options;
    options.policy(policy).audit_log(dir + "/audit.log");
    std::string receipt;
    std::optional<ra::Invitation> invitation;
    {
        ra::Host host = synthetic_host("C++ receipt host", options);
        invitation.emplace(host.invitation());
        auto token = host.invitation().token();
        auto password = host.password();
        std::optional<ra::Helper> helper;
        std::thread accepting([&] {
            ra::AcceptOptions accept;
            accept.name("jane").identity(identity);
            helper.emplace(ra::Helper::accept(ra::Invitation::from_token(token), password, accept));
        });
        auto request = wait_host(host, RA_HOST_EVENT_CONNECTION_REQUEST);
        CHECK(request.verified && request.organisation == "C++ IT" && request.verified_helper == "Jane Doe");
        CHECK(request.organisation_key == org_key);
        host.approve(request.connection);
        accepting.join();
        CHECK(helper.has_value());
        if (!helper) return;
        helper->request_control_scopes(RA_SCOPE_POINTER | RA_SCOPE_KEYBOARD);
        auto asked = wait_host(host, RA_HOST_EVENT_CONTROL_REQUESTED);
        host.grant_control_with(asked.connection, RA_SCOPE_POINTER, 10min);
        (void)wait_helper(*helper, RA_HELPER_EVENT_CONTROL_GRANTED);
        host.end();
        auto mine = wait_helper(*helper, RA_HELPER_EVENT_RECEIPT);
        CHECK(mine.data().countersigned == 1);
        receipt = mine.data().text ? mine.data().text : "";
        auto theirs = wait_host(host, RA_HOST_EVENT_RECEIPT);
        CHECK(theirs.countersigned && theirs.text == receipt);
        (void)wait_host(host, RA_HOST_EVENT_ENDED);
    }  // the host is gone: its audit log is complete

    std::string report = ra::verify_receipt(receipt, &*invitation, org_key);
    CHECK(report.find("\"helper\":\"Jane Doe\"") != std::string::npos);
    CHECK(report.find("\"countersigned\":true") != std::string::npos);
    CHECK(report.find("\"scopes\":\"pointer\"") != std::string::npos);
    std::string altered = receipt;
    altered[altered.size() / 2] = altered[altered.size() / 2] == 'A' ? 'B' : 'A';
    expect_error([&] { (void)ra::verify_receipt(altered); }, RA_RESULT_INVALID_RECEIPT);
    expect_error([&] { (void)ra::verify_receipt(receipt, nullptr, other_key); }, RA_RESULT_INVALID_RECEIPT);
    expect_error([&] { (void)ra::verify_receipt(receipt, nullptr, "raorg1-nope"); }, RA_RESULT_INVALID_ARGUMENT);

    CHECK(ra::verify_audit_log(dir + "/audit.log", receipt).find("\"lines\":") != std::string::npos);
    // Without the line that records the end: intact alone, short of the receipt.
    std::string log = slurp(dir + "/audit.log");
    auto ended = log.rfind('\n', log.find("\"event\":\"ended\""));
    std::ofstream(dir + "/cut.log", std::ios::binary) << log.substr(0, ended + 1);
    (void)ra::verify_audit_log(dir + "/cut.log");
    expect_error([&] { (void)ra::verify_audit_log(dir + "/cut.log", receipt); }, RA_RESULT_AUDIT_LOG_BROKEN);
    expect_error([&] { (void)ra::verify_audit_log(dir + "/missing.log"); }, RA_RESULT_IO);
}

/// The synthetic host has displays 0 and 1; a policy that shares display 1
/// alone: the helper is shown only it, asking for 0 is refused and the host
/// told, asking for 1 is obeyed and told.
static void shared_displays() {
    ra::Policy policy = ra::Policy::from_toml("allowed_displays = [1]\n");
    ra::InviteOptions options;
    options.policy(policy);
    ra::Host host = synthetic_host("C++ display host", options);
    auto token = host.invitation().token();
    auto password = host.password();
    std::optional<ra::Helper> helper;
    std::thread accepting(
        [&] { helper.emplace(ra::Helper::accept(ra::Invitation::from_token(token), password, "C++ helper")); });
    host.approve(wait_host(host, RA_HOST_EVENT_CONNECTION_REQUEST).connection);
    accepting.join();
    CHECK(helper.has_value());
    if (!helper) return;
    auto shown = wait_helper(*helper, RA_HELPER_EVENT_DISPLAYS);
    CHECK(shown.data().displays_len == 1 && shown.data().displays[0].id == 1 &&
          shown.data().selected_display == 1);
    helper->select_display(0);
    CHECK(wait_host(host, RA_HOST_EVENT_DISPLAY_REFUSED).display == 0);
    helper->select_display(1);
    CHECK(wait_host(host, RA_HOST_EVENT_DISPLAY_SELECTED).display == 1);
    // A redaction mask on display 1 (which starts at x = 160): the helper is
    // told where it lies in its picture.
    host.set_redactions({{170, 20, 40, 30}});
    auto changed = wait_host(host, RA_HOST_EVENT_REDACTIONS_CHANGED);
    CHECK(changed.redactions.size() == 1 && changed.redactions[0].x == 170 && changed.text.empty());
    auto mask = wait_helper(*helper, RA_HELPER_EVENT_REDACTIONS);
    CHECK(mask.data().redactions_len == 1 && mask.data().redactions[0].x == 10 &&
          mask.data().redactions[0].width == 40);
    expect_error([&] { host.set_redactions({{0, 0, 0, 1}}); }, RA_RESULT_INVALID_ARGUMENT);
    expect_error([&] { host.set_redacted_windows({""}); }, RA_RESULT_INVALID_ARGUMENT);
    host.set_redacted_windows({});
    helper->end();
}

// ---------- a C++ capturer and a C++ encoder ----------

static constexpr uint32_t W = 320, H = 240;

/// Four quadrants of colour (BGRA); a picture only when something changed
/// or the engine asked for one (invalidate).
class QuadrantCapturer : public ra::Capturer {
public:
    struct Shared {
        std::mutex lock;
        std::condition_variable changed;
        bool dirty = true;
        int frames = 0, invalidations = 0, cursor_reports = 0;
        bool throw_next = false, cursor_pending = false, destroyed = false;
        std::vector<uint8_t> shape = std::vector<uint8_t>(4 * 4 * 4, 0xFF);
    };
    static constexpr uint8_t COLOURS[4][4] = {
        {200, 120, 40, 255}, {40, 200, 120, 255}, {120, 40, 200, 255}, {90, 90, 90, 255}};

    explicit QuadrantCapturer(Shared& shared) : shared_(shared), pixels_(W * H * 4) {
        for (uint32_t y = 0; y < H; y++) {
            for (uint32_t x = 0; x < W; x++) {
                const uint8_t* c = COLOURS[(y >= H / 2) * 2 + (x >= W / 2)];
                std::copy(c, c + 4, &pixels_[(y * W + x) * 4]);
            }
        }
    }
    ~QuadrantCapturer() override {
        std::lock_guard<std::mutex> guard(shared_.lock);
        shared_.destroyed = true;
    }
    std::optional<ra::CapturedFrame> next_frame(std::chrono::milliseconds timeout) override {
        std::unique_lock<std::mutex> guard(shared_.lock);
        shared_.changed.wait_for(guard, timeout, [&] { return shared_.dirty || shared_.throw_next; });
        if (shared_.throw_next) {
            shared_.throw_next = false;
            throw Thrown("capturer failed on purpose");
        }
        if (!shared_.dirty) return std::nullopt;
        shared_.dirty = false;
        shared_.frames++;
        ra::CapturedFrame f;
        f.data = pixels_.data();
        f.len = pixels_.size();
        f.width = W;
        f.height = H;
        f.stride = W * 4;
        return f;
    }
    std::vector<ra::Display> displays() override {
        return {{0, "C++ display", ra_rect{0, 0, W, H}, true}};
    }
    void invalidate() override {
        std::lock_guard<std::mutex> guard(shared_.lock);
        shared_.dirty = true;
        shared_.invalidations++;
        shared_.changed.notify_all();
    }
    std::optional<ra::CursorUpdate> cursor() override {
        std::lock_guard<std::mutex> guard(shared_.lock);
        if (!shared_.cursor_pending) return std::nullopt;
        shared_.cursor_pending = false;
        shared_.cursor_reports++;
        ra::CursorUpdate u;
        u.x = 33;
        u.y = 44;
        u.shape = ra_cursor_shape{shared_.shape.data(), shared_.shape.size(), 4, 4, 1, 2};
        return u;
    }

private:
    Shared& shared_;
    std::vector<uint8_t> pixels_;
};

/// Raw I_PCM pictures; counts calls; throws when asked to.
class PcmEncoder : public ra::Encoder {
public:
    struct Shared {
        std::mutex lock;
        int calls = 0, forced = 0, bitrates = 0;
        bool threw = false;              // the last call threw
        int forced_after_throw = -1;     // the next call's force_keyframe (-1: none yet)
        bool throw_next = false, destroyed = false;
    };
    explicit PcmEncoder(Shared& shared) : shared_(shared) {}
    ~PcmEncoder() override {
        std::lock_guard<std::mutex> guard(shared_.lock);
        shared_.destroyed = true;
    }
    ra::Encoded encode(const ra_frame& frame, bool force_keyframe) override {
        {
            std::lock_guard<std::mutex> guard(shared_.lock);
            shared_.calls++;
            shared_.forced += force_keyframe;
            if (shared_.threw) {
                shared_.threw = false;
                shared_.forced_after_throw = force_keyframe;
            }
            if (shared_.throw_next) {
                shared_.throw_next = false;
                shared_.threw = true;
                throw Thrown("encoder failed on purpose");
            }
        }
        return {pcm::encode(frame, idr_++), true};
    }
    void set_bitrate(uint32_t) override {
        std::lock_guard<std::mutex> guard(shared_.lock);
        shared_.bitrates++;
    }

private:
    Shared& shared_;
    uint32_t idr_ = 0;
};

static bool close_to(uint8_t a, uint8_t b) { return (a > b ? a - b : b - a) <= 16; }

/// The helper's next frame after `after` (its seq).
static ra::HelperEvent next_frame(ra::Helper& helper, uint64_t after) {
    for (;;) {
        auto frame = wait_helper(helper, RA_HELPER_EVENT_FRAME);
        if (frame.data().seq > after) return frame;
    }
}

/// The picture changed: the capturer returns one.
static void capture_changes(QuadrantCapturer::Shared& capture) {
    std::lock_guard<std::mutex> guard(capture.lock);
    capture.dirty = true;
    capture.changed.notify_all();
}

static void custom_backends(const std::string& dir) {
    QuadrantCapturer::Shared capture;
    PcmEncoder::Shared encode;
    std::mutex lock;
    std::condition_variable changed;
    std::vector<ra_input_event> injected;
    std::string audit = dir + "/audit.jsonl";
    {
        ra::HostBackends backends;
        backends.capturer(std::make_unique<QuadrantCapturer>(capture))
            .encoder(std::make_unique<PcmEncoder>(encode))
            .injector(ra::Injector{[&](const ra_input_event& event) -> ra_result {
                                       if (event.kind == RA_INPUT_KEY) throw Thrown("injector failed on purpose");
                                       std::lock_guard<std::mutex> guard(lock);
                                       injected.push_back(event);
                                       changed.notify_all();
                                       return RA_RESULT_OK;
                                   },
                                   nullptr});
        ra::InviteOptions options;
        options.host_name("C++ backends host").listen("127.0.0.1:0").audit_log(audit);
        ra::Host host = ra::Host::invite(options, backends);
        std::optional<ra::Helper> helper;
        std::thread accepting([&] {
            helper.emplace(ra::Helper::accept(host.invitation(), host.password(), "C++ backends helper"));
        });
        host.approve(wait_host(host, RA_HOST_EVENT_CONNECTION_REQUEST).connection);
        accepting.join();
        CHECK(helper->host_name() == "C++ backends host");

        // The capturer's display list and its pixels, through the C++ encoder.
        auto displays = wait_helper(*helper, RA_HELPER_EVENT_DISPLAYS);
        CHECK(displays.data().displays_len == 1 &&
              std::string(displays.data().displays[0].name) == "C++ display" &&
              displays.data().displays[0].primary == 1);
        auto frame = wait_helper(*helper, RA_HELPER_EVENT_FRAME);
        CHECK(frame.frame().width == W && frame.frame().height == H);
        auto pixels = frame.copy_pixels();
        bool colours = true;
        for (int q = 0; q < 4; q++) {
            uint32_t x = (q % 2) * W / 2 + W / 4, y = (q / 2) * H / 2 + H / 4;
            const uint8_t* p = &pixels[(y * W + x) * 4];
            const uint8_t* c = QuadrantCapturer::COLOURS[q];
            if (!close_to(p[0], c[0]) || !close_to(p[1], c[1]) || !close_to(p[2], c[2])) {
                std::printf("quadrant %d: got %u %u %u, sent %u %u %u\n", q, p[0], p[1], p[2], c[0], c[1], c[2]);
                colours = false;
            }
        }
        CHECK(colours);
        {
            std::lock_guard<std::mutex> guard(encode.lock);
            CHECK(encode.calls >= 1 && encode.forced >= 1);
        }
        auto stats = helper->stats();
        CHECK(stats.frames_decoded >= 1 && stats.bytes_received > W * H && stats.decode_mean.count() > 0);
        auto hstats = host.stats();
        CHECK(hstats.frames_sent >= 1 && hstats.bytes_sent > W * H && hstats.encode_mean.count() > 0);

        // A keyframe on request: the idle capturer is asked for a picture
        // and the helper gets a new frame.
        int invalidations;
        {
            std::lock_guard<std::mutex> guard(capture.lock);
            invalidations = capture.invalidations;
        }
        helper->request_keyframe();
        auto again = next_frame(*helper, frame.data().seq);
        CHECK(again.frame().width == W);
        {
            std::lock_guard<std::mutex> guard(capture.lock);
            CHECK(capture.invalidations > invalidations);
        }

        // The pointer the capturer reports, shape and all.
        {
            std::lock_guard<std::mutex> guard(capture.lock);
            capture.cursor_pending = true;
            capture.dirty = true;
            capture.changed.notify_all();
        }
        auto cursor = wait_helper(*helper, RA_HELPER_EVENT_CURSOR);
        CHECK(cursor.cursor().x == 33 && cursor.cursor().y == 44 && cursor.cursor().visible == 1);
        CHECK(cursor.cursor().shape.width == 4 && cursor.cursor().shape.hot_y == 2);

        // The helper's pointer mark reaches the host.
        helper->pointer(50, 60, RA_POINTER_CLICK);
        auto mark = wait_host(host, RA_HOST_EVENT_POINTER);
        CHECK(mark.x == 50 && mark.y == 60 && mark.pointer_kind == RA_POINTER_CLICK);

        // The capturer throws: logged, rethrown by the host's next call,
        // reported as the capturer's failure.
        uint64_t seq = again.data().seq;
        {
            std::lock_guard<std::mutex> guard(capture.lock);
            capture.throw_next = true;
            capture.changed.notify_all();
        }
        CHECK(logs.wait("ra.cpp", "capturer failed on purpose"));
        expect_thrown([&] { (void)host.stats(); }, "capturer failed on purpose");
        auto failure = wait_host(host, RA_HOST_EVENT_BACKEND_ERROR);
        CHECK(failure.backend == RA_BACKEND_CAPTURER && failure.backend_result == RA_RESULT_BACKEND);
        // Video stays stopped after a capture failure until the helper asks
        // for a keyframe; then the same stream goes on (its count too).
        helper->request_keyframe();
        uint64_t resumed = wait_helper(*helper, RA_HELPER_EVENT_FRAME).data().seq;
        CHECK(resumed > seq);
        seq = resumed;

        // The encoder throws: likewise, and the engine asks for a keyframe
        // (the very next encode is forced).
        {
            std::lock_guard<std::mutex> guard(encode.lock);
            encode.throw_next = true;
        }
        capture_changes(capture);
        CHECK(logs.wait("ra.cpp", "encoder failed on purpose"));
        expect_thrown([&] { host.chat("after the encoder"); }, "encoder failed on purpose");
        failure = wait_host(host, RA_HOST_EVENT_BACKEND_ERROR);
        CHECK(failure.backend == RA_BACKEND_ENCODER && failure.backend_result == RA_RESULT_BACKEND);
        capture_changes(capture);  // the next picture is encoded as a keyframe
        // Frames encoded before the failure may still be on their way: wait
        // for one encoded after it.
        for (;;) {
            seq = next_frame(*helper, seq).data().seq;
            std::lock_guard<std::mutex> guard(encode.lock);
            if (encode.forced_after_throw != -1) {
                CHECK(encode.forced_after_throw == 1);
                break;
            }
        }

        // The injector throws on a key: the move before it was injected.
        helper->request_control();
        host.grant_control(wait_host(host, RA_HOST_EVENT_CONTROL_REQUESTED).connection);
        (void)wait_helper(*helper, RA_HELPER_EVENT_CONTROL_GRANTED);
        helper->send_input({{RA_INPUT_POINTER_MOVE, 7, 9, 0, 0, 0, nullptr},
                            {RA_INPUT_KEY, 0, 0, 0, ra::key_from_name("b"), 1, nullptr}});
        CHECK(logs.wait("ra.cpp", "injector failed on purpose"));
        expect_thrown([&] { (void)host.next_event(0ms); }, "injector failed on purpose");
        failure = wait_host(host, RA_HOST_EVENT_BACKEND_ERROR);
        CHECK(failure.backend == RA_BACKEND_INJECTOR && failure.backend_result == RA_RESULT_BACKEND);
        {
            std::lock_guard<std::mutex> guard(lock);
            CHECK(injected.size() == 1 && injected[0].x == 7 && injected[0].y == 9);
        }

        // Event callbacks that throw: the next call on their object rethrows.
        host.on_event([](const ra::HostEvent& e) {
            if (e.kind == RA_HOST_EVENT_CHAT) throw Thrown("host callback failed on " + e.text);
        });
        helper->chat("a chat");
        CHECK(logs.wait("ra.cpp", "host callback failed on a chat"));
        expect_thrown([&] { (void)host.port(); }, "host callback failed on a chat");
        host.on_event(nullptr);
        helper->on_event([](const ra::HelperEvent& e) {
            if (e.kind() == RA_HELPER_EVENT_CHAT) throw Thrown("helper callback failed on " + e.text());
        });
        host.chat("another chat");
        CHECK(logs.wait("ra.cpp", "helper callback failed on another chat"));
        expect_thrown([&] { (void)helper->path(); }, "helper callback failed on another chat");
        helper->on_event(nullptr);
        CHECK(helper->path() == RA_PATH_DIRECT);  // once only

        helper->end();
        CHECK(wait_host(host, RA_HOST_EVENT_ENDED).reason == RA_END_HELPER_ENDED);
    }
    // The host is gone: the library destroyed the C++ backends; the audit
    // log holds the session as JSON lines.
    CHECK(capture.destroyed && encode.destroyed);
    std::ifstream file(audit);
    std::string line, all;
    int lines = 0;
    bool json = true;
    while (std::getline(file, line)) {
        lines++;
        all += line;
        json = json && line.size() > 2 && line.front() == '{' && line.back() == '}';
    }
    std::printf("audit log: %d lines\n", lines);
    CHECK(lines >= 2 && json && all.find("C++ backends helper") != std::string::npos);
}

/// The built-in injectors and encoder, replacing C++ ones; the log
/// injector's JSON lines on standard output (a pipe here).
static void builtins() {
    PcmEncoder::Shared encode;
    bool injector_destroyed = false;
    struct Flag {
        bool& flag;
        ~Flag() { flag = true; }
    };
    auto flag = std::make_shared<Flag>(Flag{injector_destroyed});
    ra::HostBackends backends;
    backends.injector(ra::Injector{[flag](const ra_input_event&) { return RA_RESULT_OK; }, nullptr});
    flag.reset();
    backends.null_injector();
    CHECK(injector_destroyed);  // the C++ injector was dropped at once
    backends.encoder(std::make_unique<PcmEncoder>(encode)).openh264_encoder();
    CHECK(encode.destroyed);
    backends.synthetic_capturer(160, 128, 30).log_injector();
    ra::InviteOptions options;
    options.host_name("C++ log injector").listen("127.0.0.1:0");
    ra::Host host = ra::Host::invite(options, backends);
    std::optional<ra::Helper> helper;
    std::thread accepting([&] { helper.emplace(ra::Helper::accept(host.invitation(), host.password())); });
    host.approve(wait_host(host, RA_HOST_EVENT_CONNECTION_REQUEST).connection);
    accepting.join();
    auto frame = wait_helper(*helper, RA_HELPER_EVENT_FRAME);  // OpenH264 again
    CHECK(frame.frame().width == 160 && frame.frame().height == 128);
    helper->request_control();
    host.grant_control(wait_host(host, RA_HOST_EVENT_CONTROL_REQUESTED).connection);
    (void)wait_helper(*helper, RA_HELPER_EVENT_CONTROL_GRANTED);

    int pipe_fds[2];
    CHECK(pipe(pipe_fds) == 0);
    std::fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    dup2(pipe_fds[1], STDOUT_FILENO);
    helper->send_input({{RA_INPUT_POINTER_MOVE, 77, 66, 0, 0, 0, nullptr}});
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + WAIT;
    auto has_move = [&] {
        size_t at = out.find("\"move\"");
        return at != std::string::npos && out.find('\n', at) != std::string::npos;
    };
    while (!has_move() && std::chrono::steady_clock::now() < deadline) {
        pollfd p{pipe_fds[0], POLLIN, 0};
        if (poll(&p, 1, 1000) > 0) {
            char buffer[512];
            ssize_t n = read(pipe_fds[0], buffer, sizeof buffer);
            if (n > 0) out.append(buffer, static_cast<size_t>(n));
        }
    }
    dup2(saved, STDOUT_FILENO);
    close(saved);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    std::printf("log injector: %s", out.c_str());
    CHECK(has_move() && out.front() == '{' && out.find("\"x\":77") != std::string::npos &&
          out.find("\"y\":66") != std::string::npos);
    CHECK(host.stats().input_events_injected >= 1);
    helper->end();
}

/// Relays datagrams between one client and 127.0.0.1:`target` while not
/// dark: an outage the test switches on and off.
class DarkRelay {
public:
    explicit DarkRelay(uint16_t target) {
        front_ = bound_socket();
        back_ = bound_socket();
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        to.sin_port = htons(target);
        if (::connect(back_, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0)
            throw std::runtime_error("relay: connect");
        up_ = std::thread([this] { run(true); });
        down_ = std::thread([this] { run(false); });
    }
    ~DarkRelay() {
        stop_ = true;
        up_.join();
        down_.join();
        ::close(front_);
        ::close(back_);
    }
    DarkRelay(const DarkRelay&) = delete;
    DarkRelay& operator=(const DarkRelay&) = delete;
    /// "127.0.0.1:PORT" for the helper.
    std::string address() const {
        sockaddr_in a{};
        socklen_t len = sizeof a;
        getsockname(front_, reinterpret_cast<sockaddr*>(&a), &len);
        return "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    }
    std::atomic<bool> dark{false};

private:
    static int bound_socket() {
        int s = ::socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (s < 0 || ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
            throw std::runtime_error("relay: bind");
        return s;
    }
    void run(bool up) {
        std::vector<char> buffer(65536);
        while (!stop_) {
            pollfd p{up ? front_ : back_, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            if (up) {
                sockaddr_in from{};
                socklen_t len = sizeof from;
                ssize_t n = recvfrom(front_, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
                if (n <= 0) continue;
                {
                    std::lock_guard<std::mutex> guard(lock_);
                    client_ = from;
                    has_client_ = true;
                }
                if (!dark) (void)::send(back_, buffer.data(), static_cast<size_t>(n), 0);
            } else {
                ssize_t n = ::recv(back_, buffer.data(), buffer.size(), 0);
                if (n <= 0 || dark) continue;
                std::lock_guard<std::mutex> guard(lock_);
                if (has_client_)
                    (void)sendto(front_, buffer.data(), static_cast<size_t>(n), 0,
                                 reinterpret_cast<sockaddr*>(&client_), sizeof client_);
            }
        }
    }
    int front_ = -1, back_ = -1;
    std::atomic<bool> stop_{false};
    std::mutex lock_;
    sockaddr_in client_{};
    bool has_client_ = false;
    std::thread up_, down_;
};

/// An outage: both sides get CONNECTION_INTERRUPTED, then
/// CONNECTION_RESTORED with how long it was silent; the session goes on.
static void outage() {
    int probe = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    CHECK(::bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    getsockname(probe, reinterpret_cast<sockaddr*>(&a), &len);
    const uint16_t port = ntohs(a.sin_port);
    ::close(probe);
    DarkRelay relay(port);
    ra::HostBackends backends;
    backends.synthetic_capturer(160, 120, 30);
    ra::InviteOptions options;
    options.listen("127.0.0.1:" + std::to_string(port)).add_address(relay.address());
    ra::Host host = ra::Host::invite(options, backends);
    auto token = host.invitation().token();
    auto password = host.password();
    std::optional<ra::Helper> helper;
    std::thread accepting([&] { helper.emplace(ra::Helper::accept(ra::Invitation::from_token(token), password, "C++ helper")); });
    host.approve(wait_host(host, RA_HOST_EVENT_CONNECTION_REQUEST).connection);
    accepting.join();
    (void)wait_helper(*helper, RA_HELPER_EVENT_FRAME);
    relay.dark = true;
    (void)wait_host(host, RA_HOST_EVENT_CONNECTION_INTERRUPTED);
    (void)wait_helper(*helper, RA_HELPER_EVENT_CONNECTION_INTERRUPTED);
    relay.dark = false;
    CHECK(wait_host(host, RA_HOST_EVENT_CONNECTION_RESTORED).silent_ms >= 3000);
    CHECK(wait_helper(*helper, RA_HELPER_EVENT_CONNECTION_RESTORED).data().silent_ms >= 3000);
    (void)wait_helper(*helper, RA_HELPER_EVENT_FRAME);
    helper->chat("still here");
    CHECK(wait_host(host, RA_HOST_EVENT_CHAT).text == "still here");
}

int main() {
    std::string dir;
    try {
        dir = temp_dir();
        basics(dir);
        original_session();
        invitations(dir);
        verified_receipt(dir);
        shared_displays();
        custom_backends(dir);
        builtins();
        outage();
        ra::reset_log_callback();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "unexpected exception: %s\n", e.what());
        ++failed;
    }
    if (!dir.empty()) {
        std::string command = "rm -rf '" + dir + "'";
        CHECK(std::system(command.c_str()) == 0);
    }
    return summary();
}
