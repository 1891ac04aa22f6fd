/* A host sharing the real screen of the X display run.sh started (DISPLAY)
 * through the C API, with the built-in screen capturer and system injector,
 * and a helper in C: the helper's decoded picture matches the screen
 * (luma PSNR >= 35 dB against an X screenshot); a click the helper sends
 * reaches an X client on the host's screen at the position sent, as one
 * press and one release; a display that does not exist gives
 * RA_RESULT_BACKEND and a message, not a crash. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <poll.h>
#include <xcb/xcb.h>

#include "check.h"
#include "kit.h"

/* The test's X client: a window over the whole screen, painted with
 * coloured bands, that records the button events it receives. */
typedef struct {
    xcb_connection_t *conn;
    xcb_screen_t *screen;
    xcb_window_t window;
    int presses, releases;
    int16_t press_x, press_y, release_x, release_y;
    uint8_t button;
} client;

/* The next event, waiting up to `ms`; NULL on timeout. */
static xcb_generic_event_t *next_x_event(client *c, int ms) {
    xcb_generic_event_t *event = xcb_poll_for_event(c->conn);
    if (event) {
        return event;
    }
    struct pollfd fd = {xcb_get_file_descriptor(c->conn), POLLIN, 0};
    if (poll(&fd, 1, ms) <= 0) {
        return NULL;
    }
    return xcb_poll_for_event(c->conn);
}

static int client_open(client *c) {
    c->conn = xcb_connect(NULL, NULL);
    if (xcb_connection_has_error(c->conn)) {
        return 0;
    }
    c->screen = xcb_setup_roots_iterator(xcb_get_setup(c->conn)).data;
    c->window = xcb_generate_id(c->conn);
    uint32_t values[] = {c->screen->black_pixel, 1, /* override-redirect: no WM */
                         XCB_EVENT_MASK_EXPOSURE | XCB_EVENT_MASK_BUTTON_PRESS |
                             XCB_EVENT_MASK_BUTTON_RELEASE};
    xcb_create_window(c->conn, XCB_COPY_FROM_PARENT, c->window, c->screen->root, 0, 0,
                      c->screen->width_in_pixels, c->screen->height_in_pixels, 0,
                      XCB_WINDOW_CLASS_INPUT_OUTPUT, c->screen->root_visual,
                      XCB_CW_BACK_PIXEL | XCB_CW_OVERRIDE_REDIRECT | XCB_CW_EVENT_MASK, values);
    xcb_map_window(c->conn, c->window);
    xcb_flush(c->conn);
    /* Painted once it is on screen. */
    for (;;) {
        xcb_generic_event_t *event = next_x_event(c, WAIT_MS);
        if (!event) {
            return 0;
        }
        int exposed = (event->response_type & 0x7f) == XCB_EXPOSE;
        free(event);
        if (exposed) {
            break;
        }
    }
    static const uint32_t colours[] = {0x3060c0, 0xe0a020, 0x20a060, 0xf0f0f0, 0x802040};
    uint16_t width = c->screen->width_in_pixels, height = c->screen->height_in_pixels;
    xcb_gcontext_t gc = xcb_generate_id(c->conn);
    xcb_create_gc(c->conn, gc, c->window, 0, NULL);
    for (unsigned i = 0; i < 5; i++) {
        uint32_t colour = colours[i];
        xcb_change_gc(c->conn, gc, XCB_GC_FOREGROUND, &colour);
        xcb_rectangle_t band = {(int16_t)(i * width / 5), 0, (uint16_t)(width / 5 + 1), height};
        xcb_poly_fill_rectangle(c->conn, c->window, gc, 1, &band);
    }
    xcb_free_gc(c->conn, gc);
    /* Returns once the server has drawn it all. */
    free(xcb_get_input_focus_reply(c->conn, xcb_get_input_focus(c->conn), NULL));
    return 1;
}

/* Waits until a press and a release have arrived. */
static int wait_click(client *c) {
    struct timespec deadline = monotonic_after(WAIT_MS);
    while ((c->presses < 1 || c->releases < 1) && !passed(deadline)) {
        xcb_generic_event_t *event = next_x_event(c, 100);
        if (!event) {
            continue;
        }
        uint8_t type = event->response_type & 0x7f;
        if (type == XCB_BUTTON_PRESS) {
            xcb_button_press_event_t *press = (xcb_button_press_event_t *)event;
            c->presses++;
            c->press_x = press->event_x;
            c->press_y = press->event_y;
            c->button = press->detail;
        } else if (type == XCB_BUTTON_RELEASE) {
            xcb_button_release_event_t *release = (xcb_button_release_event_t *)event;
            c->releases++;
            c->release_x = release->event_x;
            c->release_y = release->event_y;
        }
        free(event);
    }
    return c->presses >= 1 && c->releases >= 1;
}

/* Luma PSNR of a decoded BGRA frame against the screen (BGRX from GetImage). */
static double psnr_against_screen(client *c, const ra_frame *frame) {
    xcb_get_image_reply_t *image = xcb_get_image_reply(
        c->conn,
        xcb_get_image(c->conn, XCB_IMAGE_FORMAT_Z_PIXMAP, c->screen->root, 0, 0, (uint16_t)frame->width,
                      (uint16_t)frame->height, ~0u),
        NULL);
    if (!image) {
        return 0.0;
    }
    const uint8_t *screen = xcb_get_image_data(image);
    double sum = 0.0;
    for (uint32_t y = 0; y < frame->height; y++) {
        for (uint32_t x = 0; x < frame->width; x++) {
            const uint8_t *a = &frame->data[y * frame->stride + x * 4];
            const uint8_t *b = &screen[(y * frame->width + x) * 4];
            double la = 0.114 * a[0] + 0.587 * a[1] + 0.299 * a[2];
            double lb = 0.114 * b[0] + 0.587 * b[1] + 0.299 * b[2];
            sum += (la - lb) * (la - lb);
        }
    }
    free(image);
    double mse = sum / ((double)frame->width * frame->height);
    return mse == 0.0 ? INFINITY : 10.0 * log10(255.0 * 255.0 / mse);
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

    client x;
    memset(&x, 0, sizeof x);
    REQUIRE(client_open(&x));

    ra_host *host = NULL;
    CHECK_OK(invite_real(NULL, &host));
    REQUIRE(host != NULL);
    ra_invitation *invitation = NULL;
    char *token = NULL;
    char *password = NULL;
    CHECK_OK(ra_host_get_invitation(host, &invitation));
    CHECK_OK(ra_invitation_to_token(invitation, &token));
    CHECK_OK(ra_host_get_password(host, &password));
    accept_job job = {token, password, NULL, RA_RESULT_INTERNAL};
    pthread_t thread;
    REQUIRE(pthread_create(&thread, NULL, accept_thread, &job) == 0);
    ra_host_event *event = NULL;
    ra_host_event_data hd = RA_SIZED(ra_host_event_data);
    CHECK(wait_host(host, RA_HOST_EVENT_CONNECTION_REQUEST, &hd, &event));
    REQUIRE(event != NULL);
    uint64_t conn = hd.connection;
    ra_host_event_free(event);
    CHECK_OK(ra_host_approve(host, conn));
    pthread_join(thread, NULL);
    CHECK_OK(job.result);
    ra_helper *helper = job.helper;
    REQUIRE(helper != NULL);

    /* The picture is the screen. */
    ra_helper_event *hevent = NULL;
    ra_helper_event_data d = RA_SIZED(ra_helper_event_data);
    CHECK(wait_helper(helper, RA_HELPER_EVENT_FRAME, &d, &hevent));
    REQUIRE(hevent != NULL);
    CHECK(d.frame.width == x.screen->width_in_pixels && d.frame.height == x.screen->height_in_pixels);
    double psnr = psnr_against_screen(&x, &d.frame);
    printf("decoded picture vs the screen: luma PSNR %.1f dB\n", psnr);
    CHECK(psnr >= 35.0);
    ra_helper_event_free(hevent);

    /* A click by the helper reaches the X client where it was sent. */
    CHECK_OK(ra_helper_request_control(helper));
    CHECK(wait_host(host, RA_HOST_EVENT_CONTROL_REQUESTED, &hd, &event));
    ra_host_event_free(event);
    CHECK_OK(ra_host_grant_control(host, conn));
    CHECK(wait_helper(helper, RA_HELPER_EVENT_CONTROL_GRANTED, &d, &hevent));
    ra_helper_event_free(hevent);
    ra_input_event click[] = {
        {RA_INPUT_POINTER_MOVE, 123, 87, 0, 0, 0, NULL},
        {RA_INPUT_BUTTON, 0, 0, RA_BUTTON_LEFT, 0, 1, NULL},
        {RA_INPUT_BUTTON, 0, 0, RA_BUTTON_LEFT, 0, 0, NULL},
    };
    CHECK_OK(ra_helper_send_input(helper, click, 3));
    CHECK(wait_click(&x));
    CHECK(x.presses == 1 && x.releases == 1 && x.button == 1);
    CHECK(abs(x.press_x - 123) <= 1 && abs(x.press_y - 87) <= 1);
    CHECK(abs(x.release_x - 123) <= 1 && abs(x.release_y - 87) <= 1);

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
    ra_string_free(token);
    ra_string_free(password);
    ra_invitation_free(invitation);
    xcb_disconnect(x.conn);
    return summary();
}
