// A C++ host sharing the real screen of the Xvfb run.sh started (DISPLAY)
// with the built-in screen capturer and system injector, and a C++ helper:
// the helper's first picture matches the screen (the witness, an X client
// painted over it, measures luma PSNR >= 35 dB); a click the helper sends
// reaches the witness once, where it was sent; the stats; a display that
// does not exist is a clear ra::Error (RA_RESULT_BACKEND).
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include <poll.h>
#include <sys/wait.h>

#include "kit.hpp"

/// The witness program (RA_TEST_WITNESS), driven through two pipes.
class Witness {
public:
    explicit Witness(const char* path) {
        int in[2], out[2];
        if (pipe(in) != 0 || pipe(out) != 0) throw std::runtime_error("pipe failed");
        pid_ = fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            dup2(in[0], STDIN_FILENO);
            dup2(out[1], STDOUT_FILENO);
            close(in[0]);
            close(in[1]);
            close(out[0]);
            close(out[1]);
            execl(path, path, static_cast<char*>(nullptr));
            _exit(127);
        }
        close(in[0]);
        close(out[1]);
        to_ = in[1];
        from_ = out[0];
    }
    ~Witness() {
        if (pid_ > 0) {
            send("quit");
            close(to_);
            // Bounded: the witness ends on quit or the end of stdin.
            int status = 0;
            auto deadline = std::chrono::steady_clock::now() + WAIT;
            while (waitpid(pid_, &status, WNOHANG) == 0) {
                if (std::chrono::steady_clock::now() >= deadline) {
                    kill(pid_, SIGKILL);
                    waitpid(pid_, &status, 0);
                    break;
                }
                std::string ignored;
                (void)line(ignored, 100ms);  // drains; waits on the pipe, not a sleep
            }
            close(from_);
        }
    }
    Witness(const Witness&) = delete;
    Witness& operator=(const Witness&) = delete;

    void send(const std::string& request) {
        std::string line = request + "\n";
        if (write(to_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
            throw std::runtime_error("cannot write to the witness");
        }
    }
    /// The next line, waiting at most `timeout`; false on timeout or end.
    bool line(std::string& out, std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            size_t newline = buffer_.find('\n');
            if (newline != std::string::npos) {
                out = buffer_.substr(0, newline);
                buffer_.erase(0, newline + 1);
                return true;
            }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return false;
            pollfd p{from_, POLLIN, 0};
            int ready = poll(&p, 1, static_cast<int>(left.count()));
            if (ready < 0 && errno == EINTR) continue;
            if (ready <= 0) return false;
            char chunk[512];
            ssize_t n = read(from_, chunk, sizeof chunk);
            if (n <= 0) return false;
            buffer_.append(chunk, static_cast<size_t>(n));
        }
    }
    /// Lines until one starting with `prefix` (others kept in `skipped`).
    bool wait_for(const std::string& prefix, std::string& found, std::vector<std::string>* skipped = nullptr) {
        auto deadline = std::chrono::steady_clock::now() + WAIT;
        std::string l;
        while (line(l, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()))) {
            if (l.rfind(prefix, 0) == 0) {
                found = l;
                return true;
            }
            if (skipped) skipped->push_back(l);
        }
        return false;
    }

private:
    pid_t pid_ = -1;
    int to_ = -1, from_ = -1;
    std::string buffer_;
};

int main() {
    std::string dir;
    try {
        const char* witness_path = std::getenv("RA_TEST_WITNESS");
        CHECK(std::getenv("DISPLAY") != nullptr && witness_path != nullptr);
        if (!witness_path) return summary();

        // A display nobody serves: a clear error, no host.
        {
            ra::HostBackends nowhere;
            nowhere.screen_capturer(":4095").system_injector(":4095");
            ra::InviteOptions options;
            options.listen("127.0.0.1:0");
            try {
                (void)ra::Host::invite(options, nowhere);
                CHECK(!"a host on a display that does not exist");
            } catch (const ra::Error& e) {
                CHECK(e.code() == RA_RESULT_BACKEND);
                CHECK(std::string(e.what()).find(":4095") != std::string::npos);
                std::printf("display :4095: %s: %s\n", e.name(), e.what());
            }
        }

        Witness witness(witness_path);
        std::string ready;
        CHECK(witness.wait_for("ready ", ready));
        unsigned width = 0, height = 0;
        CHECK(std::sscanf(ready.c_str(), "ready %u %u", &width, &height) == 2 && width > 0 && height > 0);

        ra::HostBackends backends;
        backends.screen_capturer().system_injector();
        ra::InviteOptions options;
        options.host_name("C++ screen host").listen("127.0.0.1:0");
        ra::Host host = ra::Host::invite(options, backends);
        std::optional<ra::Helper> helper;
        std::thread accepting([&] {
            helper.emplace(ra::Helper::accept(ra::Invitation::from_token(host.invitation().token()), host.password(),
                                              "C++ screen helper"));
        });
        auto request = wait_host(host, RA_HOST_EVENT_CONNECTION_REQUEST);
        host.approve(request.connection);
        accepting.join();

        // The picture is the screen.
        auto frame = wait_helper(*helper, RA_HELPER_EVENT_FRAME);
        CHECK(frame.frame().width == width && frame.frame().height == height);
        dir = temp_dir();
        std::string path = dir + "/frame.bgra";
        auto pixels = frame.copy_pixels();
        std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(pixels.data()),
                                                    static_cast<std::streamsize>(pixels.size()));
        witness.send("psnr " + path + " " + std::to_string(frame.frame().width) + " " +
                     std::to_string(frame.frame().height));
        std::string answer;
        double psnr = 0;
        CHECK(witness.wait_for("psnr ", answer) && std::sscanf(answer.c_str(), "psnr %lf", &psnr) == 1);
        std::printf("decoded picture vs the screen: luma PSNR %.1f dB\n", psnr);
        CHECK(psnr >= 35.0);

        // A click by the helper reaches the witness where it was sent.
        helper->request_control();
        host.grant_control(wait_host(host, RA_HOST_EVENT_CONTROL_REQUESTED).connection);
        (void)wait_helper(*helper, RA_HELPER_EVENT_CONTROL_GRANTED);
        helper->send_input({{RA_INPUT_POINTER_MOVE, 123, 87, 0, 0, 0, nullptr},
                            {RA_INPUT_BUTTON, 0, 0, RA_BUTTON_LEFT, 0, 1, nullptr},
                            {RA_INPUT_BUTTON, 0, 0, RA_BUTTON_LEFT, 0, 0, nullptr}});
        std::string press, release;
        std::vector<std::string> other;
        CHECK(witness.wait_for("press ", press, &other));
        CHECK(witness.wait_for("release ", release, &other));
        unsigned button = 0, rbutton = 0;
        int x = 0, y = 0, rx = 0, ry = 0;
        CHECK(std::sscanf(press.c_str(), "press %u %d %d", &button, &x, &y) == 3);
        CHECK(std::sscanf(release.c_str(), "release %u %d %d", &rbutton, &rx, &ry) == 3);
        std::printf("witness: %s, %s\n", press.c_str(), release.c_str());
        CHECK(button == 1 && rbutton == 1 && std::abs(x - 123) <= 1 && std::abs(y - 87) <= 1 &&
              std::abs(rx - 123) <= 1 && std::abs(ry - 87) <= 1);
        CHECK(other.empty());  // nothing between: exactly one press, then one release

        // The stats.
        auto hs = host.stats();
        auto ps = helper->stats();
        std::printf("host: rtt %lld us, %llu bytes sent, %llu frames sent; helper: %llu bytes received, "
                    "%llu frames decoded\n",
                    static_cast<long long>(hs.rtt.count()), static_cast<unsigned long long>(hs.bytes_sent),
                    static_cast<unsigned long long>(hs.frames_sent),
                    static_cast<unsigned long long>(ps.bytes_received),
                    static_cast<unsigned long long>(ps.frames_decoded));
        CHECK(hs.bytes_sent > 0 && hs.frames_sent >= 1);
        CHECK(hs.rtt > std::chrono::microseconds(0) && hs.rtt < std::chrono::milliseconds(500));
        CHECK(ps.frames_decoded >= 1 && ps.bytes_received > 0);
        CHECK(hs.input_events_injected >= 2 && ps.input_events_sent == 3);

        helper->end();
        (void)wait_host(host, RA_HOST_EVENT_ENDED);
        // No second click came after the first pair.
        std::string extra;
        while (witness.line(extra, 0ms)) CHECK(extra.rfind("press", 0) != 0 && extra.rfind("release", 0) != 0);
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
