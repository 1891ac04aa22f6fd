// Both roles in one C++ program: a host that approves everything and a
// helper that takes three frames. Build:
//   c++ -std=c++17 -Iinclude -I../../include examples/two_roles.cpp -L../../target/debug -lra_ffi
#include <cstdio>
#include <thread>

#include "ra.hpp"

using namespace std::chrono_literals;

int main() try {
    ra::HostBackends backends;  // synthetic screen, OpenH264, input dropped
    ra::InviteOptions options;
    options.host_name("C++ example").listen("127.0.0.1:0");
    ra::Host host = ra::Host::invite(options, backends);
    host.on_event([&host](const ra::HostEvent& event) {
        std::printf("host: %s\n", event.description.c_str());
        if (event.kind == RA_HOST_EVENT_CONNECTION_REQUEST) host.approve(event.connection);
    });

    auto invitation = host.invitation();
    ra::Helper helper = ra::Helper::accept(invitation, host.password());
    for (int frames = 0; frames < 3;) {
        auto event = helper.next_event(10s);
        if (event && event->kind() == RA_HELPER_EVENT_FRAME) {
            ++frames;
            std::printf("helper: frame %ux%u\n", event->frame().width, event->frame().height);
        }
    }
    helper.end();
    return 0;
} catch (const ra::Error& e) {
    std::fprintf(stderr, "%s: %s\n", e.name(), e.what());
    return 1;
}
