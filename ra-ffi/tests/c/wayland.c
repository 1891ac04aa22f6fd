/* A host sharing a Wayland desktop through the C API: the headless GNOME
 * desktop run.sh started (one 640x480 virtual monitor; WAYLAND_DISPLAY,
 * XDG_RUNTIME_DIR and the desktop's own session bus set, no DISPLAY). The
 * real-screen backends for the session's own display (NULL) pick Wayland by
 * themselves, one mutter remote-desktop session for the capturer and the
 * injector (RA_WAYLAND_API_MUTTER: no dialog in a test).
 *
 * Checked: an unknown API number is refused; the host's first event says
 * the desk is limited (no panic key on Wayland: the one asked for is left
 * out, not an error); the helper is offered the virtual monitor and
 * decodes pictures of its size; input sent under a grant is injected (no
 * backend error); after a revoke nothing more is injected. That the input
 * reaches a Wayland client, and the pictures match a PipeWire screenshot,
 * is checked by the Rust tests of the same backends (ra-core, ra-capture). */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "kit.h"

#define MONITOR_WIDTH 640
#define MONITOR_HEIGHT 480

int main(void) {
    REQUIRE(getenv("WAYLAND_DISPLAY") != NULL && getenv("DISPLAY") == NULL);

    ra_invite_options *options = NULL;
    CHECK_OK(ra_invite_options_new(&options));
    CHECK_OK(ra_invite_options_set_listen(options, "127.0.0.1:0"));
    ra_host_backends *backends = NULL;
    CHECK_OK(ra_host_backends_new(&backends));
    CHECK_RESULT(ra_host_backends_set_wayland_api(backends, 7), RA_RESULT_INVALID_ARGUMENT);
    CHECK_OK(ra_host_backends_set_wayland_api(backends, RA_WAYLAND_API_MUTTER));
    CHECK_OK(ra_host_backends_use_screen_capturer(backends, NULL));
    CHECK_OK(ra_host_backends_use_system_injector(backends, NULL));
    /* Asked for as on X11: there is no way to watch it on Wayland. */
    CHECK_OK(ra_host_backends_set_panic_key(backends, NULL, NULL));
    ra_host *host = NULL;
    CHECK_OK(ra_host_invite(options, backends, &host));
    ra_host_backends_free(backends);
    ra_invite_options_free(options);
    REQUIRE(host != NULL);

    /* Said at the start, never silently. */
    ra_host_event *event = NULL;
    ra_host_event_data hd = RA_SIZED(ra_host_event_data);
    CHECK_OK(ra_host_next_event(host, WAIT_MS, &event));
    REQUIRE(event != NULL);
    CHECK_OK(ra_host_event_get_data(event, &hd));
    CHECK(hd.kind == RA_HOST_EVENT_DESK_LIMITED);
    CHECK(hd.text != NULL && strstr(hd.text, "Wayland") != NULL);
    printf("desk limited: %s\n", hd.text ? hd.text : "(none)");
    ra_host_event_free(event);

    uint64_t conn = 0;
    ra_helper *helper = helper_joins(host, &conn);
    REQUIRE(helper != NULL);

    /* The helper is offered the desktop's monitor, and sees it. */
    ra_helper_event *hevent = NULL;
    ra_helper_event_data d = RA_SIZED(ra_helper_event_data);
    CHECK(wait_helper(helper, RA_HELPER_EVENT_DISPLAYS, &d, &hevent));
    REQUIRE(hevent != NULL);
    CHECK(d.displays_len == 1);
    if (d.displays_len == 1) {
        CHECK(d.displays[0].bounds.width == MONITOR_WIDTH && d.displays[0].bounds.height == MONITOR_HEIGHT);
    }
    ra_helper_event_free(hevent);
    CHECK(wait_helper(helper, RA_HELPER_EVENT_FRAME, &d, &hevent));
    REQUIRE(hevent != NULL);
    printf("decoded a %ux%u picture of the Wayland desktop\n", d.frame.width, d.frame.height);
    CHECK(d.frame.width == MONITOR_WIDTH && d.frame.height == MONITOR_HEIGHT);
    ra_helper_event_free(hevent);

    /* Input under a grant goes into the desktop's session. */
    CHECK(helper_gets_control(host, helper, conn));
    ra_input_event click[] = {
        {RA_INPUT_POINTER_MOVE, 320, 240, 0, 0, 0, NULL},
        {RA_INPUT_BUTTON, 0, 0, RA_BUTTON_LEFT, 0, 1, NULL},
        {RA_INPUT_BUTTON, 0, 0, RA_BUTTON_LEFT, 0, 0, NULL},
        {RA_INPUT_TEXT, 0, 0, 0, 0, 0, "ok"},
    };
    CHECK_OK(ra_helper_send_input(helper, click, 4));
    ra_session_stats hs = RA_SIZED(ra_session_stats);
    struct timespec deadline = monotonic_after(WAIT_MS);
    do {
        CHECK_OK(ra_host_get_stats(host, &hs));
        if (hs.input_events_injected >= 4) {
            break;
        }
        struct timespec tick = {0, 20 * 1000 * 1000};
        nanosleep(&tick, NULL); /* polling a counter: no event says "injected" */
    } while (!passed(deadline));
    printf("injected %llu input events into the Wayland session\n",
           (unsigned long long)hs.input_events_injected);
    CHECK(hs.input_events_injected >= 4);

    /* Revoked: what is sent afterwards is not injected. */
    CHECK_OK(ra_host_revoke(host));
    CHECK(wait_helper(helper, RA_HELPER_EVENT_CONTROL_REVOKED, &d, &hevent));
    ra_helper_event_free(hevent);
    uint64_t before = hs.input_events_injected;
    ra_input_event late = {RA_INPUT_POINTER_MOVE, 10, 10, 0, 0, 0, NULL};
    ra_helper_send_input(helper, &late, 1); /* refused or dropped: either way not injected */
    CHECK_OK(ra_helper_chat(helper, "after the revoke"));
    CHECK(wait_host(host, RA_HOST_EVENT_CHAT, &hd, &event)); /* the input, sent first, was handled */
    ra_host_event_free(event);
    CHECK_OK(ra_host_get_stats(host, &hs));
    CHECK(hs.input_events_injected == before);

    CHECK_OK(ra_helper_free(helper));
    CHECK_OK(ra_host_free(host));
    return summary();
}
