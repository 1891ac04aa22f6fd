/* The host's desk from C, on the X display run.sh started (DISPLAY): the
 * panic key and "the local user wins" are the library's, set on the
 * backends builder. The person at the desk is played by key events that
 * the X server takes for Xvfb's own keyboard (XTEST device events), the
 * closest thing to a physical device Xvfb offers: injected input (the
 * XTEST virtual devices) does not count as the local user.
 *
 * Checked: a bad combination is refused; a display that cannot be used
 * makes ra_host_invite fail with RA_RESULT_BACKEND (no crash); a key typed
 * at the desk holds the helper's input back (what it holds is released,
 * what it sends meanwhile is dropped, later input passes); the panic key
 * pressed at the desk is reported and takes control back from the helper. */
#define _POSIX_C_SOURCE 200809L
#include <xcb/xcb.h>
#include <xcb/xinput.h>
#include <xcb/xtest.h>

#include "check.h"
#include "kit.h"

/* X keycodes of the evdev keymap Xvfb uses. */
#define KEY_A 38
#define CONTROL_L 37
#define ALT_L 64
#define PAUSE 127

/* The desk: an X connection that fakes input from Xvfb's own keyboard. */
typedef struct {
    xcb_connection_t *conn;
    uint8_t first_event; /* XInputExtension's first event number */
    uint8_t keyboard;    /* the "Xvfb keyboard" device */
} desk;

static int desk_open(desk *d) {
    d->conn = xcb_connect(NULL, NULL);
    if (xcb_connection_has_error(d->conn)) {
        return 0;
    }
    const xcb_query_extension_reply_t *xi = xcb_get_extension_data(d->conn, &xcb_input_id);
    if (!xi || !xi->present) {
        return 0;
    }
    d->first_event = xi->first_event;
    xcb_input_xi_query_device_reply_t *devices = xcb_input_xi_query_device_reply(
        d->conn, xcb_input_xi_query_device(d->conn, XCB_INPUT_DEVICE_ALL), NULL);
    if (!devices) {
        return 0;
    }
    int found = 0;
    xcb_input_xi_device_info_iterator_t it = xcb_input_xi_query_device_infos_iterator(devices);
    for (; it.rem; xcb_input_xi_device_info_next(&it)) {
        const char *name = xcb_input_xi_device_info_name(it.data);
        int len = xcb_input_xi_device_info_name_length(it.data);
        if (len == 13 && memcmp(name, "Xvfb keyboard", 13) == 0) {
            d->keyboard = (uint8_t)it.data->deviceid;
            found = 1;
        }
    }
    free(devices);
    return found;
}

/* Presses (or releases) `keycode` on Xvfb's keyboard; returns once the X
 * server has processed it. */
static int desk_key(desk *d, uint8_t keycode, int pressed) {
    /* XInput 1 events: DeviceKeyPress is first_event + 1, release + 2. */
    uint8_t type = (uint8_t)(d->first_event + (pressed ? 1 : 2));
    xcb_void_cookie_t cookie =
        xcb_test_fake_input_checked(d->conn, type, keycode, XCB_CURRENT_TIME, XCB_NONE, 0, 0, d->keyboard);
    xcb_generic_error_t *error = xcb_request_check(d->conn, cookie);
    free(error);
    return error == NULL;
}

static void desk_combo(desk *d, const uint8_t *keys, int count) {
    for (int i = 0; i < count; i++) {
        CHECK(desk_key(d, keys[i], 1));
    }
    for (int i = count - 1; i >= 0; i--) {
        CHECK(desk_key(d, keys[i], 0));
    }
}

/* The injector's release_all count. */
static int releases(injector_state *injector) {
    pthread_mutex_lock(&injector->lock);
    int count = injector->release_all;
    pthread_mutex_unlock(&injector->lock);
    return count;
}

static ra_host *invite_with_desk(const char *display, injector_state *injector, ra_result *result) {
    ra_invite_options *options = NULL;
    ra_invite_options_new(&options);
    ra_invite_options_set_listen(options, "127.0.0.1:0");
    ra_host_backends *backends = NULL;
    ra_host_backends_new(&backends);
    ra_host_backends_use_synthetic_capturer(backends, 160, 120, 30);
    ra_injector_callbacks table = {injector, inj_inject, inj_release_all, inj_destroy};
    ra_host_backends_set_injector(backends, &table);
    CHECK_OK(ra_host_backends_set_panic_key(backends, display, NULL));
    CHECK_OK(ra_host_backends_set_local_user_wins_ms(backends, display, 1500));
    ra_host *host = NULL;
    *result = ra_host_invite(options, backends, &host);
    ra_host_backends_free(backends);
    ra_invite_options_free(options);
    return host;
}

int main(void) {
    desk d;
    memset(&d, 0, sizeof d);
    REQUIRE(getenv("DISPLAY") != NULL);
    REQUIRE(desk_open(&d));

    injector_state injector;
    memset(&injector, 0, sizeof injector);
    pthread_mutex_init(&injector.lock, NULL);
    pthread_cond_init(&injector.changed, NULL);

    /* What is refused: a combination that does not parse, and a display
     * nobody serves (at invite: the grab is tried when the session starts). */
    ra_host_backends *backends = NULL;
    CHECK_OK(ra_host_backends_new(&backends));
    CHECK_RESULT(ra_host_backends_set_panic_key(backends, NULL, "ctrl+nokey"),
                 RA_RESULT_INVALID_ARGUMENT);
    CHECK_OK(ra_host_backends_set_panic_key(backends, NULL, ""));
    CHECK_OK(ra_host_backends_set_local_user_wins_ms(backends, NULL, 0));
    CHECK_OK(ra_host_backends_use_system_clipboard(backends, NULL));
    CHECK_OK(ra_host_backends_free(backends));
    ra_result result = RA_RESULT_OK;
    injector_state unused;
    memset(&unused, 0, sizeof unused);
    ra_host *nowhere = invite_with_desk(":4095", &unused, &result);
    CHECK(nowhere == NULL);
    CHECK_RESULT(result, RA_RESULT_BACKEND);
    CHECK(strstr(ra_last_error_message(), "panic key") != NULL);

    /* A host whose desk is this display, and a helper in control. */
    ra_host *host = invite_with_desk(NULL, &injector, &result);
    CHECK_OK(result);
    REQUIRE(host != NULL);
    uint64_t conn = 0;
    ra_helper *helper = helper_joins(host, &conn);
    REQUIRE(helper != NULL);
    ra_host_event *event = NULL;
    ra_host_event_data hd = RA_SIZED(ra_host_event_data);

    /* The panic key pressed before any grant: reported, nothing to revoke. */
    const uint8_t panic[] = {CONTROL_L, ALT_L, PAUSE};
    desk_combo(&d, panic, 3);
    CHECK(wait_host(host, RA_HOST_EVENT_PANIC_KEY, &hd, &event));
    ra_host_event_free(event);

    CHECK(helper_gets_control(host, helper, conn));

    /* The helper holds a key down (once the desk's last keys no longer hold
     * its input back). */
    ra_input_event press = {RA_INPUT_KEY, 0, 0, 0, 0x04, 1, NULL};
    CHECK(send_until_injected(helper, &injector, &press));

    /* The person at the desk types: what the helper holds is released, and
     * its input is held back until the desk has been quiet for 1.5 s. */
    int before = releases(&injector);
    CHECK(desk_key(&d, KEY_A, 1));
    CHECK(desk_key(&d, KEY_A, 0));
    CHECK(wait_injected(&injector, 1, before + 1));
    CHECK(held_back_then_passes(helper, &injector));

    /* The panic key at the desk: control is taken back, both sides hear
     * why, and everything the helper held is released. */
    before = releases(&injector);
    desk_combo(&d, panic, 3);
    CHECK(wait_host(host, RA_HOST_EVENT_PANIC_KEY, &hd, &event));
    ra_host_event_free(event);
    CHECK(wait_host(host, RA_HOST_EVENT_CONTROL_REVOKED, &hd, &event));
    if (event) {
        CHECK(hd.reason == RA_REVOKE_PANIC_KEY && strcmp(hd.reason_name, "panic_key") == 0);
        ra_host_event_free(event);
    }
    ra_helper_event *hevent = NULL;
    ra_helper_event_data d2 = RA_SIZED(ra_helper_event_data);
    CHECK(wait_helper(helper, RA_HELPER_EVENT_CONTROL_REVOKED, &d2, &hevent));
    if (hevent) {
        CHECK(d2.reason == RA_REVOKE_PANIC_KEY);
        ra_helper_event_free(hevent);
    }
    CHECK(wait_injected(&injector, 1, before + 1));
    CHECK_RESULT(ra_helper_send_input(helper, &press, 1), RA_RESULT_NOT_CONTROLLING);

    CHECK_OK(ra_helper_free(helper));
    CHECK_OK(ra_host_free(host));
    CHECK(injector.destroyed == 1);
    xcb_disconnect(d.conn);
    return summary();
}
