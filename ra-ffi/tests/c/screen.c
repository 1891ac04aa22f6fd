/* A host sharing the real screen of the X display run.sh started (DISPLAY)
 * through the C API, with the built-in screen capturer and system injector,
 * and a helper in C: the helper's decoded picture matches the screen
 * (luma PSNR >= 35 dB against an X screenshot); a click the helper sends
 * reaches an X client on the host's screen at the position sent, as one
 * press and one release; a display that does not exist gives
 * RA_RESULT_BACKEND and a message, not a crash. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "kit.h"
#include "xwindow.h"

/* The window's button events so far: waits until a press and a release
 * have arrived, counting each kind. */
typedef struct {
    int presses, releases;
    xwindow_button press, release;
} clicks;

static int wait_click(xwindow *w, clicks *c) {
    struct timespec deadline = monotonic_after(WAIT_MS);
    xwindow_button button;
    while ((c->presses < 1 || c->releases < 1) && !passed(deadline)) {
        if (!xwindow_next_button(w, 100, &button)) {
            continue;
        }
        if (button.pressed) {
            c->presses++;
            c->press = button;
        } else {
            c->releases++;
            c->release = button;
        }
    }
    return c->presses >= 1 && c->releases >= 1;
}

/* ra_host_invite with the real backends on `display`; the result code. */
static ra_result invite_real(const char *display, ra_host **out) {
    ra_invite_options *options = NULL;
    ra_invite_options_new(&options);
    ra_invite_options_set_listen(options, "127.0.0.1:0");
    ra_host_backends *backends = NULL;
    ra_host_backends_new(&backends);
    CHECK_OK(ra_host_backends_use_screen_capturer(backends, display));
    CHECK_OK(ra_host_backends_use_system_injector(backends, display));
    ra_result result = ra_host_invite(options, backends, out);
    ra_host_backends_free(backends);
    ra_invite_options_free(options);
    return result;
}

int main(void) {
    REQUIRE(getenv("DISPLAY") != NULL);

    /* A display nobody serves: a clear error, no host, no crash. */
    ra_host *nowhere = NULL;
    CHECK_RESULT(invite_real(":4095", &nowhere), RA_RESULT_BACKEND);
    CHECK(nowhere == NULL);
    CHECK(strstr(ra_last_error_message(), "cannot capture the screen of :4095") != NULL);

    xwindow x;
    memset(&x, 0, sizeof x);
    REQUIRE(xwindow_open(&x, WAIT_MS));

    ra_host *host = NULL;
    CHECK_OK(invite_real(NULL, &host));
    REQUIRE(host != NULL);
    uint64_t conn = 0;
    ra_helper *helper = helper_joins(host, &conn);
    REQUIRE(helper != NULL);

    /* The picture is the screen. */
    ra_helper_event *hevent = NULL;
    ra_helper_event_data d = RA_SIZED(ra_helper_event_data);
    CHECK(wait_helper(helper, RA_HELPER_EVENT_FRAME, &d, &hevent));
    REQUIRE(hevent != NULL);
    CHECK(d.frame.width == x.screen->width_in_pixels && d.frame.height == x.screen->height_in_pixels);
    double psnr = xwindow_psnr(&x, d.frame.data, d.frame.width, d.frame.height, d.frame.stride);
    printf("decoded picture vs the screen: luma PSNR %.1f dB\n", psnr);
    CHECK(psnr >= 35.0);
    ra_helper_event_free(hevent);

    /* A click by the helper reaches the X client where it was sent. */
    CHECK(helper_gets_control(host, helper, conn));
    ra_input_event click[] = {
        {RA_INPUT_POINTER_MOVE, 123, 87, 0, 0, 0, NULL},
        {RA_INPUT_BUTTON, 0, 0, RA_BUTTON_LEFT, 0, 1, NULL},
        {RA_INPUT_BUTTON, 0, 0, RA_BUTTON_LEFT, 0, 0, NULL},
    };
    CHECK_OK(ra_helper_send_input(helper, click, 3));
    clicks seen;
    memset(&seen, 0, sizeof seen);
    CHECK(wait_click(&x, &seen));
    CHECK(seen.presses == 1 && seen.releases == 1 && seen.press.button == 1);
    CHECK(abs(seen.press.x - 123) <= 1 && abs(seen.press.y - 87) <= 1);
    CHECK(abs(seen.release.x - 123) <= 1 && abs(seen.release.y - 87) <= 1);

    /* The stats: what crossed, what was encoded and decoded, a round trip
     * of loopback's size, the input both sides counted. */
    ra_session_stats hs = RA_SIZED(ra_session_stats);
    ra_session_stats ps = RA_SIZED(ra_session_stats);
    CHECK_OK(ra_host_get_stats(host, &hs));
    CHECK_OK(ra_helper_get_stats(helper, &ps));
    printf("host: rtt %llu us, %llu bytes sent, %llu frames sent, encode %llu us, "
           "%llu input injected; helper: %llu bytes received, %llu frames decoded, decode %llu us\n",
           (unsigned long long)hs.rtt_us, (unsigned long long)hs.bytes_sent,
           (unsigned long long)hs.frames_sent, (unsigned long long)hs.encode_us_mean,
           (unsigned long long)hs.input_events_injected, (unsigned long long)ps.bytes_received,
           (unsigned long long)ps.frames_decoded, (unsigned long long)ps.decode_us_mean);
    CHECK(hs.struct_size == sizeof hs && ps.struct_size == sizeof ps);
    CHECK(hs.bytes_sent > 0 && hs.bytes_received > 0 && hs.frames_sent >= 1);
    CHECK(hs.encode_us_mean > 0 && hs.target_bitrate > 0 && hs.target_frame_rate > 0.0);
    CHECK(hs.rtt_us > 0 && hs.rtt_us < 500000);
    CHECK(hs.input_events_injected >= 2); /* the moves may merge; both buttons not */
    CHECK(ps.bytes_received >= hs.frames_sent && ps.frames_decoded >= 1);
    CHECK(ps.decode_us_mean > 0 && ps.input_events_sent == 3);
    CHECK(ps.rtt_us > 0 && ps.rtt_us < 500000);

    CHECK_OK(ra_helper_free(helper));
    CHECK_OK(ra_host_free(host));
    xcb_disconnect(x.conn);
    return summary();
}
