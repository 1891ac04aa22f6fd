/* A full host <-> helper session over loopback through the C API: a C
 * capturer (with the pointer) and a C injector on the host; invite, a wrong
 * password, accept, approve, frames (polled and by callback), the pointer's
 * shape, control, input, chat, the clipboard both ways, pause, revoke, end,
 * and every destroy callback called once. Then the short-code flows through
 * the ra-broker that run.sh started (RA_TEST_BROKER,
 * RA_TEST_BROKER_FINGERPRINT): Easy Connect (a wrong code, an unknown code,
 * the right one) and Quick Assist. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "kit.h"

#define WIDTH 320u
#define HEIGHT 240u

/* ---------- a C capturer: a solid colour, paced to ~50 fps ---------- */

/* The pointer it reports: an 8x6 shape with its hotspot at (3, 2). */
#define CURSOR_W 8u
#define CURSOR_H 6u
#define CURSOR_X 123
#define CURSOR_Y 45

enum { CURSOR_NONE, CURSOR_GOOD, CURSOR_BAD };

typedef struct {
    uint8_t pixels[WIDTH * HEIGHT * 4];
    ra_display_info display;
    int destroyed;
    int frames;
    pthread_mutex_t lock; /* the pointer fields, shared with the test */
    int cursor_pending;   /* CURSOR_*: what the next cursor call reports */
    int cursor_reports;
    uint8_t shape[CURSOR_W * CURSOR_H * 4]; /* premultiplied BGRA */
} capturer_state;

static const uint8_t COLOUR[4] = {200, 120, 40, 255}; /* B, G, R, A */

static ra_result cap_displays(void *user_data, const ra_display_info **displays, size_t *count) {
    capturer_state *state = user_data;
    *displays = &state->display;
    *count = 1;
    return RA_RESULT_OK;
}

static ra_result cap_next_frame(void *user_data, uint32_t timeout_ms, ra_frame *frame) {
    capturer_state *state = user_data;
    /* Pacing, as a real capturer waits for the screen to change. */
    struct timespec pace = {0, (long)(timeout_ms < 20 ? timeout_ms : 20) * 1000000L};
    nanosleep(&pace, NULL);
    frame->data = state->pixels;
    frame->len = sizeof state->pixels;
    frame->width = WIDTH;
    frame->height = HEIGHT;
    frame->stride = WIDTH * 4;
    frame->damage = NULL; /* the whole picture */
    frame->damage_len = 0;
    frame->captured_at_us = 0; /* now */
    frame->display = 0;
    state->frames++;
    return RA_RESULT_OK;
}

static void cap_destroy(void *user_data) { ((capturer_state *)user_data)->destroyed++; }

/* Reports the pointer when the test asks for it (a move with a new shape),
 * or an invalid shape (a hotspot outside it). */
static ra_result cap_cursor(void *user_data, ra_cursor_update *update) {
    capturer_state *state = user_data;
    pthread_mutex_lock(&state->lock);
    int pending = state->cursor_pending;
    state->cursor_pending = CURSOR_NONE;
    if (pending != CURSOR_NONE) {
        state->cursor_reports++;
    }
    pthread_mutex_unlock(&state->lock);
    if (pending == CURSOR_NONE) {
        return RA_RESULT_TIMEOUT; /* nothing changed */
    }
    update->x = CURSOR_X;
    update->y = CURSOR_Y;
    update->visible = 1;
    update->shape.pixels = state->shape;
    update->shape.len = sizeof state->shape;
    update->shape.width = CURSOR_W;
    update->shape.height = CURSOR_H;
    update->shape.hot_x = pending == CURSOR_GOOD ? 3 : CURSOR_W;
    update->shape.hot_y = 2;
    return RA_RESULT_OK;
}

static void move_cursor(capturer_state *state, int what) {
    pthread_mutex_lock(&state->lock);
    state->cursor_pending = what;
    pthread_mutex_unlock(&state->lock);
}


/* ---------- frames by callback ---------- */

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int frames;
    int bad;
} frame_counter;

static void on_helper_event(void *user_data, const ra_helper_event *event) {
    frame_counter *counter = user_data;
    ra_helper_event_data data = RA_SIZED(ra_helper_event_data);
    if (ra_helper_event_get_data(event, &data) != RA_RESULT_OK) {
        return;
    }
    if (data.kind != RA_HELPER_EVENT_FRAME) {
        return;
    }
    pthread_mutex_lock(&counter->lock);
    if (data.frame.width != WIDTH || data.frame.height != HEIGHT || data.frame.data == NULL) {
        counter->bad++;
    }
    counter->frames++;
    pthread_cond_broadcast(&counter->changed);
    pthread_mutex_unlock(&counter->lock);
}

static int close_to(uint8_t a, uint8_t b) { return (a > b ? a - b : b - a) <= 12; }

static void code_flows(void);

/* The event's data read as a program built against an older header (shorter
 * struct) and a newer one (longer) would: the library writes no byte past
 * the size the caller declares, and says how much it wrote. */
static void check_struct_size(const ra_host_event *event, const ra_host_event_data *full) {
    union {
        ra_host_event_data data;
        unsigned char bytes[sizeof(ra_host_event_data)];
    } older;
    memset(&older, 0xAB, sizeof older);
    const size_t declared = offsetof(ra_host_event_data, helper_name) + sizeof(const char *);
    older.data.struct_size = declared;
    CHECK_OK(ra_host_event_get_data(event, &older.data));
    CHECK(older.data.struct_size == declared);
    CHECK(older.data.kind == full->kind && older.data.connection == full->connection);
    CHECK(strcmp(older.data.helper_name, full->helper_name) == 0);
    size_t changed = 0;
    for (size_t i = declared; i < sizeof older.bytes; i++) {
        changed += older.bytes[i] != 0xAB;
    }
    CHECK(changed == 0);

    struct {
        ra_host_event_data data;
        uint64_t appended_later;
    } newer;
    memset(&newer, 0, sizeof newer);
    newer.data.struct_size = sizeof newer;
    newer.appended_later = 42;
    CHECK_OK(ra_host_event_get_data(event, &newer.data));
    CHECK(newer.data.struct_size == sizeof(ra_host_event_data));
    CHECK(newer.data.connection == full->connection && newer.appended_later == 42);

    ra_host_event_data unset;
    memset(&unset, 0, sizeof unset);
    CHECK_RESULT(ra_host_event_get_data(event, &unset), RA_RESULT_INVALID_ARGUMENT);
    CHECK(unset.kind == 0 && strstr(ra_last_error_message(), "sizeof(ra_host_event_data)") != NULL);
}

int main(void) {
    capturer_state capturer;
    memset(&capturer, 0, sizeof capturer);
    for (size_t i = 0; i < WIDTH * HEIGHT; i++) {
        memcpy(&capturer.pixels[i * 4], COLOUR, 4);
    }
    pthread_mutex_init(&capturer.lock, NULL);
    for (size_t i = 0; i < CURSOR_W * CURSOR_H; i++) {
        /* Every third pixel transparent (all zero, premultiplied); the others
         * opaque and all different. */
        uint8_t *p = &capturer.shape[i * 4];
        if (i % 3 != 0) {
            p[0] = (uint8_t)(i * 5);
            p[1] = (uint8_t)(255 - i);
            p[2] = (uint8_t)i;
            p[3] = 255;
        }
    }
    capturer.display.id = 0;
    capturer.display.name = "C display";
    capturer.display.bounds.width = WIDTH;
    capturer.display.bounds.height = HEIGHT;
    capturer.display.primary = 1;

    injector_state injector;
    memset(&injector, 0, sizeof injector);
    pthread_mutex_init(&injector.lock, NULL);
    pthread_cond_init(&injector.changed, NULL);

    /* Host: options, backends written in C, invite. */
    ra_invite_options *options = NULL;
    CHECK_OK(ra_invite_options_new(&options));
    CHECK_OK(ra_invite_options_set_host_name(options, "C host"));
    CHECK_OK(ra_invite_options_set_listen(options, "127.0.0.1:0"));
    CHECK_OK(ra_invite_options_set_lifetime_ms(options, 600000));
    ra_policy *clipboard_on = NULL;
    CHECK_OK(ra_policy_from_toml("allow_clipboard = true", &clipboard_on));
    CHECK_OK(ra_invite_options_set_policy(options, clipboard_on));

    ra_host_backends *backends = NULL;
    CHECK_OK(ra_host_backends_new(&backends));
    ra_capturer_callbacks capture_table = {&capturer,   cap_displays, NULL, cap_next_frame,
                                           NULL,        cap_destroy,  cap_cursor};
    CHECK_OK(ra_host_backends_set_capturer(backends, &capture_table));
    ra_injector_callbacks inject_table = {&injector, inj_inject, inj_release_all, inj_destroy};
    CHECK_OK(ra_host_backends_set_injector(backends, &inject_table));

    ra_host *host = NULL;
    CHECK_OK(ra_host_invite(options, backends, &host));
    REQUIRE(host != NULL);
    /* The builder gave its backends to the host: a second use is refused. */
    ra_host *second = NULL;
    CHECK_RESULT(ra_host_invite(options, backends, &second), RA_RESULT_INVALID_STATE);
    CHECK(second == NULL);
    CHECK_OK(ra_host_backends_free(backends));
    CHECK_OK(ra_invite_options_free(options));
    CHECK(capturer.destroyed == 0);

    ra_invitation *invitation = NULL;
    char *token = NULL;
    char *password = NULL;
    CHECK_OK(ra_host_get_invitation(host, &invitation));
    CHECK_OK(ra_invitation_to_token(invitation, &token));
    CHECK_OK(ra_host_get_password(host, &password));
    REQUIRE(token != NULL && password != NULL);
    CHECK(strncmp(token, "ra1-", 4) == 0);
    CHECK(strlen(password) == 15); /* XXXX-XXXX-XXXXX */
    ra_invitation_info info = RA_SIZED(ra_invitation_info);
    CHECK_OK(ra_invitation_get_info(invitation, &info));
    CHECK(strcmp(info.host_name, "C host") == 0);
    CHECK(info.address_count == 1);
    uint16_t port = 0;
    CHECK_OK(ra_host_get_port(host, &port));
    CHECK(port != 0);
    char *email = NULL;
    const char *to[] = {"helper@example.com"};
    CHECK_OK(ra_invitation_to_email(invitation, "host@example.com", to, 1, NULL, &email));
    CHECK(email != NULL && strstr(email, "ra1-") != NULL && strstr(email, password) == NULL);
    CHECK_OK(ra_string_free(email));

    /* A wrong password is refused, and the host hears about it. */
    accept_job wrong = {token, "AAAA-AAAA-AAAA0", NULL, RA_RESULT_OK};
    pthread_t thread;
    REQUIRE(pthread_create(&thread, NULL, accept_thread, &wrong) == 0);
    ra_host_event *event = NULL;
    ra_host_event_data hd = RA_SIZED(ra_host_event_data);
    CHECK(wait_host(host, RA_HOST_EVENT_AUTH_FAILED, &hd, &event));
    if (event) {
        CHECK(hd.attempts == 1);
        CHECK(strncmp(hd.peer, "127.0.0.1:", 10) == 0);
        ra_host_event_free(event);
    }
    pthread_join(thread, NULL);
    CHECK_RESULT(wrong.result, RA_RESULT_WRONG_PASSWORD);
    CHECK(wrong.helper == NULL);

    /* The right password, but the host says no; the invitation stays open. */
    accept_job denied = {token, password, NULL, RA_RESULT_INTERNAL};
    REQUIRE(pthread_create(&thread, NULL, accept_thread, &denied) == 0);
    CHECK(wait_host(host, RA_HOST_EVENT_CONNECTION_REQUEST, &hd, &event));
    REQUIRE(event != NULL);
    CHECK_OK(ra_host_deny(host, hd.connection));
    ra_host_event_free(event);
    pthread_join(thread, NULL);
    CHECK_RESULT(denied.result, RA_RESULT_DENIED);
    CHECK(denied.helper == NULL);

    /* Again: the host approves. */
    accept_job job = {token, password, NULL, RA_RESULT_INTERNAL};
    REQUIRE(pthread_create(&thread, NULL, accept_thread, &job) == 0);
    CHECK(wait_host(host, RA_HOST_EVENT_CONNECTION_REQUEST, &hd, &event));
    REQUIRE(event != NULL);
    CHECK(strcmp(hd.helper_name, "C helper") == 0);
    uint64_t conn = hd.connection;
    check_struct_size(event, &hd);
    ra_host_event_free(event);
    CHECK_OK(ra_host_approve(host, conn));
    CHECK_RESULT(ra_host_approve(host, conn), RA_RESULT_NOT_NOW);
    pthread_join(thread, NULL);
    CHECK_OK(job.result);
    ra_helper *helper = job.helper;
    REQUIRE(helper != NULL);
    CHECK(wait_host(host, RA_HOST_EVENT_CONNECTED, &hd, &event));
    ra_host_event_free(event);

    char *host_name = NULL;
    CHECK_OK(ra_helper_get_host_name(helper, &host_name));
    CHECK(host_name && strcmp(host_name, "C host") == 0);
    ra_string_free(host_name);
    uint32_t path = 99;
    CHECK_OK(ra_helper_get_path(helper, &path));
    CHECK(path == RA_PATH_DIRECT);
    ra_code_info no_code = {sizeof(ra_code_info), NULL, 7, 7};
    CHECK_RESULT(ra_host_get_code_info(host, &no_code), RA_RESULT_INVALID_STATE);
    CHECK(no_code.code == NULL && no_code.expires_at_unix == 7);

    /* Displays, then a frame: BGRA of the capturer's colour. */
    ra_helper_event *hevent = NULL;
    ra_helper_event_data d = RA_SIZED(ra_helper_event_data);
    CHECK(wait_helper(helper, RA_HELPER_EVENT_DISPLAYS, &d, &hevent));
    if (hevent) {
        CHECK(d.displays_len == 1 && strcmp(d.displays[0].name, "C display") == 0);
        CHECK(d.displays[0].bounds.width == WIDTH && d.displays[0].primary == 1);
        ra_helper_event_free(hevent);
    }
    CHECK(wait_helper(helper, RA_HELPER_EVENT_FRAME, &d, &hevent));
    REQUIRE(hevent != NULL);
    CHECK(d.frame.width == WIDTH && d.frame.height == HEIGHT);
    CHECK(d.frame.stride >= WIDTH * 4);
    CHECK(d.frame.len >= d.frame.stride * (HEIGHT - 1) + WIDTH * 4);
    CHECK(d.frame.damage_len >= 1);
    for (size_t i = 0; i < d.frame.damage_len; i++) {
        ra_rect r = d.frame.damage[i];
        CHECK(r.x >= 0 && r.y >= 0 && r.x + (int32_t)r.width <= (int32_t)WIDTH &&
              r.y + (int32_t)r.height <= (int32_t)HEIGHT);
    }
    CHECK(d.seq >= 1 && d.encoded_bytes > 0);
    static uint8_t copy[WIDTH * HEIGHT * 4];
    CHECK_RESULT(ra_frame_copy(&d.frame, copy, 16, WIDTH * 4), RA_RESULT_BUFFER_TOO_SMALL);
    CHECK_OK(ra_frame_copy(&d.frame, copy, sizeof copy, WIDTH * 4));
    const uint8_t *centre = &copy[((HEIGHT / 2) * WIDTH + WIDTH / 2) * 4];
    CHECK(close_to(centre[0], COLOUR[0]) && close_to(centre[1], COLOUR[1]) &&
          close_to(centre[2], COLOUR[2]));
    ra_helper_event_free(hevent);
    ra_session_stats stats = RA_SIZED(ra_session_stats);
    CHECK_OK(ra_helper_get_stats(helper, &stats));
    CHECK(stats.frames_decoded >= 1 && stats.bytes_received > 0 && stats.rtt_us > 0);
    CHECK_OK(ra_host_get_stats(host, &stats));
    CHECK(stats.frames_sent >= 1 && stats.bytes_sent > 0 && stats.rtt_us > 0);

    /* The pointer: a move with a new shape reaches the helper byte for byte;
     * an invalid shape is the capturer's failure, reported to the host. */
    move_cursor(&capturer, CURSOR_GOOD);
    CHECK(wait_helper(helper, RA_HELPER_EVENT_CURSOR, &d, &hevent));
    if (hevent) {
        CHECK(d.cursor.x == CURSOR_X && d.cursor.y == CURSOR_Y && d.cursor.visible == 1);
        CHECK(d.cursor.shape.width == CURSOR_W && d.cursor.shape.height == CURSOR_H);
        CHECK(d.cursor.shape.hot_x == 3 && d.cursor.shape.hot_y == 2);
        CHECK(d.cursor.shape.len == sizeof capturer.shape);
        CHECK(d.cursor.shape.pixels != NULL &&
              memcmp(d.cursor.shape.pixels, capturer.shape, sizeof capturer.shape) == 0);
        CHECK(d.description != NULL && strncmp(d.description, "Cursor", 6) == 0);
        ra_helper_event_free(hevent);
    }
    move_cursor(&capturer, CURSOR_BAD);
    CHECK(wait_host(host, RA_HOST_EVENT_BACKEND_ERROR, &hd, &event));
    if (event) {
        CHECK(hd.backend == RA_BACKEND_CAPTURER && hd.backend_result == RA_RESULT_BACKEND);
        CHECK(strstr(hd.description, "hotspot") != NULL);
        ra_host_event_free(event);
    }
    pthread_mutex_lock(&capturer.lock);
    CHECK(capturer.cursor_reports == 2);
    pthread_mutex_unlock(&capturer.lock);

    /* Frames through the callback; polling is refused meanwhile. */
    frame_counter counter;
    memset(&counter, 0, sizeof counter);
    pthread_mutex_init(&counter.lock, NULL);
    pthread_cond_init(&counter.changed, NULL);
    CHECK_OK(ra_helper_set_event_callback(helper, on_helper_event, &counter));
    CHECK_RESULT(ra_helper_next_event(helper, 0, &hevent), RA_RESULT_INVALID_STATE);
    {
        struct timespec deadline = deadline_after(WAIT_MS);
        pthread_mutex_lock(&counter.lock);
        while (counter.frames < 3 &&
               pthread_cond_timedwait(&counter.changed, &counter.lock, &deadline) == 0) {
        }
        CHECK(counter.frames >= 3 && counter.bad == 0);
        pthread_mutex_unlock(&counter.lock);
    }
    CHECK_OK(ra_helper_set_event_callback(helper, NULL, NULL));

    /* Selecting a display (the only one, already shown) and asking for a
     * whole picture: accepted, the host told, and the pictures keep coming. */
    CHECK_OK(ra_helper_select_display(helper, 0));
    CHECK(wait_host(host, RA_HOST_EVENT_DISPLAY_SELECTED, &hd, &event));
    if (event) {
        CHECK(hd.connection == conn && hd.display == 0);
        ra_host_event_free(event);
    }
    CHECK_OK(ra_helper_request_keyframe(helper));
    CHECK(wait_helper(helper, RA_HELPER_EVENT_FRAME, &d, &hevent));
    ra_helper_event_free(hevent);
    /* A policy that shares display 0 only: asking for another is refused,
     * and the host told. */
    ra_policy *display_0 = NULL;
    CHECK_OK(ra_policy_from_toml("allow_clipboard = true\nallowed_displays = [0]", &display_0));
    CHECK_OK(ra_host_set_policy(host, display_0));
    CHECK_OK(ra_policy_free(display_0));
    CHECK_OK(ra_helper_select_display(helper, 1));
    CHECK(wait_host(host, RA_HOST_EVENT_DISPLAY_REFUSED, &hd, &event));
    if (event) {
        CHECK(hd.connection == conn && hd.display == 1);
        ra_host_event_free(event);
    }
    CHECK(wait_helper(helper, RA_HELPER_EVENT_FRAME, &d, &hevent));
    ra_helper_event_free(hevent);

    /* A redaction mask: the helper is told where it is, and the pixels
     * there come out black while the rest keeps its colour. */
    ra_rect secret = {80, 60, 96, 64};
    CHECK_OK(ra_host_set_redactions(host, &secret, 1));
    /* The host application hears the mask it set, in desktop coordinates. */
    CHECK(wait_host(host, RA_HOST_EVENT_REDACTIONS_CHANGED, &hd, &event));
    if (event) {
        CHECK(hd.redactions_len == 1 && hd.redactions != NULL);
        if (hd.redactions_len == 1 && hd.redactions) {
            CHECK(hd.redactions[0].x == 80 && hd.redactions[0].width == 96);
        }
        CHECK(hd.text != NULL && hd.text[0] == '\0');
        ra_host_event_free(event);
    }
    CHECK(wait_helper(helper, RA_HELPER_EVENT_REDACTIONS, &d, &hevent));
    if (hevent) {
        CHECK(d.redactions_len == 1 && d.redactions != NULL);
        if (d.redactions_len == 1 && d.redactions) {
            CHECK(d.redactions[0].x == 80 && d.redactions[0].y == 60);
            CHECK(d.redactions[0].width == 96 && d.redactions[0].height == 64);
        }
        ra_helper_event_free(hevent);
    }
    int masked = 0;
    for (int i = 0; i < 60 && !masked; i++) {
        if (!wait_helper(helper, RA_HELPER_EVENT_FRAME, &d, &hevent)) {
            break;
        }
        const uint8_t *inside = d.frame.data + (size_t)92 * d.frame.stride + 128 * 4;
        const uint8_t *outside = d.frame.data + (size_t)10 * d.frame.stride + 10 * 4;
        masked = inside[0] < 24 && inside[1] < 24 && inside[2] < 24 &&
                 close_to(outside[0], COLOUR[0]) && close_to(outside[2], COLOUR[2]);
        ra_helper_event_free(hevent);
    }
    CHECK(masked);
    ra_rect empty = {0, 0, 0, 5};
    CHECK_RESULT(ra_host_set_redactions(host, &empty, 1), RA_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(ra_host_set_redactions(host, NULL, 1), RA_RESULT_NULL_POINTER);
    CHECK_OK(ra_host_set_redactions(host, NULL, 0));
    CHECK(wait_helper(helper, RA_HELPER_EVENT_REDACTIONS, &d, &hevent));
    if (hevent) {
        CHECK(d.redactions_len == 0 && d.redactions == NULL);
        ra_helper_event_free(hevent);
    }

    /* Control: asked and denied, asked again, granted, used. */
    uint32_t state = 99;
    CHECK_OK(ra_helper_get_control_state(helper, &state));
    CHECK(state == RA_CONTROL_NONE);
    ra_input_event early = {RA_INPUT_POINTER_MOVE, 1, 1, 0, 0, 0, NULL};
    CHECK_RESULT(ra_helper_send_input(helper, &early, 1), RA_RESULT_NOT_CONTROLLING);
    CHECK_OK(ra_helper_request_control(helper));
    CHECK(wait_host(host, RA_HOST_EVENT_CONTROL_REQUESTED, &hd, &event));
    ra_host_event_free(event);
    CHECK_OK(ra_host_deny_control(host, conn));
    CHECK(wait_helper(helper, RA_HELPER_EVENT_CONTROL_DENIED, &d, &hevent));
    if (hevent) {
        CHECK(d.reason_name != NULL && strcmp(d.reason_name, "by_user") == 0);
        ra_helper_event_free(hevent);
    }
    CHECK_RESULT(ra_helper_send_input(helper, &early, 1), RA_RESULT_NOT_CONTROLLING);
    CHECK(helper_gets_control(host, helper, conn));
    CHECK_OK(ra_helper_get_control_state(helper, &state));
    CHECK(state == RA_CONTROL_GRANTED);

    uint32_t key_a = 0;
    CHECK_OK(ra_key_from_name("a", &key_a));
    CHECK(key_a == 0x04);
    ra_input_event input[] = {
        {RA_INPUT_POINTER_MOVE, 10, 20, 0, 0, 0, NULL},
        {RA_INPUT_BUTTON, 0, 0, RA_BUTTON_LEFT, 0, 1, NULL},
        {RA_INPUT_BUTTON, 0, 0, RA_BUTTON_LEFT, 0, 0, NULL},
        {RA_INPUT_KEY, 0, 0, 0, key_a, 1, NULL},
        {RA_INPUT_WHEEL, 0, 120, 0, 0, 0, NULL},
        {RA_INPUT_TEXT, 0, 0, 0, 0, 0, "h\xc3\xa9llo"},
    };
    ra_input_event bad_input = {RA_INPUT_BUTTON, 0, 0, 42, 0, 1, NULL};
    CHECK_RESULT(ra_helper_send_input(helper, &bad_input, 1), RA_RESULT_INVALID_ARGUMENT);
    CHECK_OK(ra_helper_send_input(helper, input, sizeof input / sizeof input[0]));
    CHECK(wait_injected(&injector, 6, 0));
    pthread_mutex_lock(&injector.lock);
    CHECK(injector.count == 6);
    CHECK(injector.events[0].kind == RA_INPUT_POINTER_MOVE && injector.events[0].x == 10 &&
          injector.events[0].y == 20);
    CHECK(injector.events[1].kind == RA_INPUT_BUTTON && injector.events[1].pressed == 1 &&
          injector.events[1].button == RA_BUTTON_LEFT);
    CHECK(injector.events[2].kind == RA_INPUT_BUTTON && injector.events[2].pressed == 0);
    CHECK(injector.events[3].kind == RA_INPUT_KEY && injector.events[3].key == 0x04);
    CHECK(injector.events[4].kind == RA_INPUT_WHEEL && injector.events[4].y == 120);
    CHECK(injector.events[5].kind == RA_INPUT_TEXT && strcmp(injector.texts[5], "h\xc3\xa9llo") == 0);
    int releases_before = injector.release_all;
    pthread_mutex_unlock(&injector.lock);

    /* The local user wins: after "local input seen" the helper's input is
     * held back (dropped, never replayed) and what it holds is released;
     * once the hold ends its input passes again. The input stream is
     * ordered, so once a later move arrived the held-back one cannot come. */
    CHECK_OK(ra_host_local_input_seen(host, 1500));
    CHECK(wait_injected(&injector, 6, releases_before + 1));
    CHECK(held_back_then_passes(helper, &injector));
    pthread_mutex_lock(&injector.lock);
    releases_before = injector.release_all;
    pthread_mutex_unlock(&injector.lock);

    /* A scoped, time-boxed grant: the helper asks for the pointer only, the
     * host offers everything for a minute and gives what was asked; a key is
     * then dropped, a move injected. */
    CHECK_OK(ra_host_revoke(host));
    CHECK(wait_helper(helper, RA_HELPER_EVENT_CONTROL_REVOKED, &d, &hevent));
    ra_helper_event_free(hevent);
    CHECK_RESULT(ra_helper_request_control_scopes(helper, 0), RA_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(ra_helper_request_control_scopes(helper, 8), RA_RESULT_INVALID_ARGUMENT);
    CHECK_OK(ra_helper_request_control_scopes(helper, RA_SCOPE_POINTER));
    CHECK(wait_host(host, RA_HOST_EVENT_CONTROL_REQUESTED, &hd, &event));
    if (event) {
        CHECK(hd.scopes == RA_SCOPE_POINTER);
        ra_host_event_free(event);
    }
    CHECK_RESULT(ra_host_grant_control_with(host, conn, 0, 0), RA_RESULT_INVALID_ARGUMENT);
    CHECK_OK(ra_host_grant_control_with(host, conn, RA_SCOPE_ALL, 60000));
    CHECK(wait_host(host, RA_HOST_EVENT_CONTROL_GRANTED, &hd, &event));
    if (event) {
        CHECK(hd.scopes == RA_SCOPE_POINTER && hd.expires_at_ms > 1700000000000ull);
        ra_host_event_free(event);
    }
    CHECK(wait_helper(helper, RA_HELPER_EVENT_CONTROL_GRANTED, &d, &hevent));
    if (hevent) {
        CHECK(d.scopes == RA_SCOPE_POINTER && d.expires_in_ms == 60000);
        ra_helper_event_free(hevent);
    }
    pthread_mutex_lock(&injector.lock);
    int scoped_before = injector.count;
    releases_before = injector.release_all;
    pthread_mutex_unlock(&injector.lock);
    ra_input_event key_then_move[] = {
        {RA_INPUT_KEY, 0, 0, 0, key_a, 1, NULL},
        {RA_INPUT_POINTER_MOVE, 5, 6, 0, 0, 0, NULL},
    };
    CHECK_OK(ra_helper_send_input(helper, key_then_move, 2));
    /* The input stream is ordered: once the move arrived, the key was dropped. */
    CHECK(wait_injected(&injector, scoped_before + 1, releases_before));
    pthread_mutex_lock(&injector.lock);
    CHECK(injector.count == scoped_before + 1);
    CHECK(injector.events[scoped_before].kind == RA_INPUT_POINTER_MOVE &&
          injector.events[scoped_before].x == 5);
    pthread_mutex_unlock(&injector.lock);
    /* Back to a grant of everything for what follows. */
    CHECK_OK(ra_host_revoke(host));
    CHECK(wait_helper(helper, RA_HELPER_EVENT_CONTROL_REVOKED, &d, &hevent));
    ra_helper_event_free(hevent);
    CHECK(wait_injected(&injector, scoped_before + 1, releases_before + 1));
    releases_before += 1;
    CHECK(helper_gets_control(host, helper, conn));

    /* Chat both ways. */
    CHECK_OK(ra_helper_chat(helper, "hello from C"));
    CHECK(wait_host(host, RA_HOST_EVENT_CHAT, &hd, &event));
    if (event) {
        CHECK(strcmp(hd.text, "hello from C") == 0);
        ra_host_event_free(event);
    }
    CHECK_OK(ra_host_chat(host, "hi helper"));
    CHECK(wait_helper(helper, RA_HELPER_EVENT_CHAT, &d, &hevent));
    if (hevent) {
        CHECK(strcmp(d.text, "hi helper") == 0);
        ra_helper_event_free(hevent);
    }

    /* The clipboard: refused by a policy without it, then shared both ways
     * while the host shares it, and refused again once it stops. */
    ra_policy *clipboard_off = NULL;
    CHECK_OK(ra_policy_new(&clipboard_off));
    CHECK_OK(ra_host_set_policy(host, clipboard_off));
    CHECK_RESULT(ra_host_set_clipboard_sharing(host, 1), RA_RESULT_POLICY);
    CHECK_OK(ra_host_set_policy(host, clipboard_on));
    CHECK_RESULT(ra_host_send_clipboard(host, "too early"), RA_RESULT_NOT_NOW);
    CHECK_RESULT(ra_helper_send_clipboard(helper, "too early"), RA_RESULT_NOT_NOW);
    CHECK_OK(ra_host_set_clipboard_sharing(host, 1));
    CHECK(wait_host(host, RA_HOST_EVENT_CLIPBOARD_SHARING, &hd, &event));
    if (event) {
        CHECK(hd.enabled == 1 && hd.connection == conn);
        ra_host_event_free(event);
    }
    CHECK(wait_helper(helper, RA_HELPER_EVENT_CLIPBOARD_SHARING, &d, &hevent));
    if (hevent) {
        CHECK(d.enabled == 1);
        ra_helper_event_free(hevent);
    }
    CHECK_OK(ra_host_send_clipboard(host, "copied on the host \xe2\x9c\x93"));
    CHECK(wait_helper(helper, RA_HELPER_EVENT_CLIPBOARD, &d, &hevent));
    if (hevent) {
        CHECK(strcmp(d.text, "copied on the host \xe2\x9c\x93") == 0);
        ra_helper_event_free(hevent);
    }
    CHECK_OK(ra_helper_send_clipboard(helper, "copied on the helper"));
    CHECK(wait_host(host, RA_HOST_EVENT_CLIPBOARD, &hd, &event));
    if (event) {
        CHECK(strcmp(hd.text, "copied on the helper") == 0 && hd.connection == conn);
        ra_host_event_free(event);
    }
    static char too_long[RA_MAX_CLIPBOARD_BYTES + 2];
    memset(too_long, 'x', sizeof too_long - 1);
    CHECK_RESULT(ra_host_send_clipboard(host, too_long), RA_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(ra_helper_send_clipboard(helper, too_long), RA_RESULT_INVALID_ARGUMENT);
    CHECK_OK(ra_host_set_clipboard_sharing(host, 0));
    CHECK(wait_host(host, RA_HOST_EVENT_CLIPBOARD_SHARING, &hd, &event));
    if (event) {
        CHECK(hd.enabled == 0);
        ra_host_event_free(event);
    }
    CHECK(wait_helper(helper, RA_HELPER_EVENT_CLIPBOARD_SHARING, &d, &hevent));
    if (hevent) {
        CHECK(d.enabled == 0);
        ra_helper_event_free(hevent);
    }
    CHECK_RESULT(ra_helper_send_clipboard(helper, "too late"), RA_RESULT_NOT_NOW);
    CHECK_OK(ra_policy_free(clipboard_off));

    /* Revoke: the helper hears it, the injector releases everything. */
    CHECK_OK(ra_host_revoke(host));
    CHECK(wait_helper(helper, RA_HELPER_EVENT_CONTROL_REVOKED, &d, &hevent));
    if (hevent) {
        CHECK(d.reason == RA_REVOKE_BY_USER && strcmp(d.reason_name, "by_user") == 0);
        ra_helper_event_free(hevent);
    }
    CHECK(wait_injected(&injector, 6, releases_before + 1));
    CHECK_RESULT(ra_helper_send_input(helper, input, 1), RA_RESULT_NOT_CONTROLLING);
    CHECK(wait_host(host, RA_HOST_EVENT_CONTROL_REVOKED, &hd, &event));
    ra_host_event_free(event);

    /* Pause and resume. */
    CHECK_OK(ra_host_pause(host));
    CHECK(wait_helper(helper, RA_HELPER_EVENT_PAUSED, &d, &hevent));
    ra_helper_event_free(hevent);
    CHECK_OK(ra_host_resume(host));
    CHECK(wait_helper(helper, RA_HELPER_EVENT_RESUMED, &d, &hevent));
    ra_helper_event_free(hevent);

    /* A resume ticket: off in this policy; once on, the helper is offered it. */
    static const uint8_t ticket_key[32] = {42, 1, 2, 3};
    char ticket_path[64];
    char ticket_used[80];
    snprintf(ticket_path, sizeof ticket_path, "/tmp/ra-c-ticket-%d", (int)getpid());
    snprintf(ticket_used, sizeof ticket_used, "%s.used", ticket_path);
    CHECK_RESULT(ra_host_issue_resume_ticket(host, ticket_key, 32, 600000, ticket_path),
                 RA_RESULT_POLICY);
    ra_policy *tickets = NULL;
    CHECK_OK(ra_policy_from_toml("allow_clipboard = true\nallow_resume_tickets = true", &tickets));
    CHECK_OK(ra_host_set_policy(host, tickets));
    CHECK_OK(ra_host_issue_resume_ticket(host, ticket_key, 32, 600000, ticket_path));
    CHECK(wait_helper(helper, RA_HELPER_EVENT_RESUME_OFFERED, &d, &hevent));
    if (hevent) {
        CHECK(d.expires_in_ms == 600000);
        ra_helper_event_free(hevent);
    }

    /* The host ends the session: the helper gets the session's consent
     * receipt, learns why, then the events close. */
    CHECK_OK(ra_host_end(host));
    static const char RECEIPT_START[] = "{\"receipt\":\"ra-consent-receipt-1\"";
    char *helper_receipt = NULL;
    CHECK(wait_helper(helper, RA_HELPER_EVENT_RECEIPT, &d, &hevent));
    if (hevent) {
        CHECK(d.text && strncmp(d.text, RECEIPT_START, strlen(RECEIPT_START)) == 0);
        CHECK(d.countersigned == 0); /* no identity to countersign with */
        if (d.text) {
            size_t len = strlen(d.text) + 1;
            helper_receipt = malloc(len);
            if (helper_receipt) memcpy(helper_receipt, d.text, len);
        }
        ra_helper_event_free(hevent);
    }
    CHECK(wait_helper(helper, RA_HELPER_EVENT_ENDED, &d, &hevent));
    if (hevent) {
        CHECK(d.reason == RA_END_HOST_ENDED);
        ra_helper_event_free(hevent);
    }
    ra_result r;
    do {
        hevent = NULL;
        r = ra_helper_next_event(helper, WAIT_MS, &hevent);
        ra_helper_event_free(hevent);
    } while (r == RA_RESULT_OK);
    CHECK_RESULT(r, RA_RESULT_CLOSED);
    /* The host holds the same receipt, just before the end. */
    CHECK(wait_host(host, RA_HOST_EVENT_RECEIPT, &hd, &event));
    if (event) {
        CHECK(hd.connection == conn && hd.countersigned == 0);
        CHECK(hd.text && helper_receipt && strcmp(hd.text, helper_receipt) == 0);
        ra_host_event_free(event);
    }
    free(helper_receipt);
    CHECK(wait_host(host, RA_HOST_EVENT_ENDED, &hd, &event));
    if (event) {
        CHECK(hd.reason == RA_END_HOST_ENDED && hd.connection == conn);
        ra_host_event_free(event);
    }
    CHECK_RESULT(ra_helper_request_control(helper), RA_RESULT_SESSION_CLOSED);

    CHECK_OK(ra_helper_free(helper));
    CHECK_OK(ra_host_free(host));
    CHECK(capturer.destroyed == 1);

    /* After a restart the ticket re-opens the session (no helper comes back
     * here: it was told goodbye), once; not with another key, not without
     * the policy. */
    ra_invite_options *resume_options = NULL;
    CHECK_OK(ra_invite_options_new(&resume_options));
    ra_host *reopened = NULL;
    CHECK_RESULT(ra_host_resume_from_ticket(ticket_path, ticket_key, 32, resume_options, NULL,
                                            &reopened),
                 RA_RESULT_POLICY);
    CHECK_OK(ra_invite_options_set_policy(resume_options, tickets));
    CHECK_OK(ra_host_resume_from_ticket(ticket_path, ticket_key, 32, resume_options, NULL,
                                        &reopened));
    REQUIRE(reopened != NULL);
    ra_invitation *none = NULL;
    CHECK_RESULT(ra_host_get_invitation(reopened, &none), RA_RESULT_INVALID_STATE);
    CHECK_OK(ra_host_free(reopened));
    reopened = NULL;
    CHECK_RESULT(ra_host_resume_from_ticket(ticket_path, ticket_key, 32, resume_options, NULL,
                                            &reopened),
                 RA_RESULT_TICKET_USED);
    CHECK(reopened == NULL);
    CHECK_OK(ra_invite_options_free(resume_options));
    CHECK_OK(ra_policy_free(tickets));
    unlink(ticket_used);
    CHECK(injector.destroyed == 1);
    CHECK(capturer.frames > 0);
    CHECK_OK(ra_string_free(token));
    CHECK_OK(ra_string_free(password));
    CHECK_OK(ra_invitation_free(invitation));
    CHECK_OK(ra_policy_free(clipboard_on));
    pthread_mutex_destroy(&counter.lock);
    pthread_cond_destroy(&counter.changed);
    pthread_mutex_destroy(&injector.lock);
    pthread_cond_destroy(&injector.changed);
    pthread_mutex_destroy(&capturer.lock);

    code_flows();
    return summary();
}

/* ---------- the short-code flows through a real broker ---------- */

/* A host with the synthetic test pattern, through Easy Connect. */
static ra_host *easy_connect_host(const ra_broker_options *broker, const char *name) {
    ra_invite_options *options = NULL;
    ra_host_backends *backends = NULL;
    ra_host *host = NULL;
    CHECK_OK(ra_invite_options_new(&options));
    CHECK_OK(ra_invite_options_set_host_name(options, name));
    CHECK_OK(ra_host_backends_new(&backends));
    CHECK_OK(ra_host_backends_use_synthetic_capturer(backends, WIDTH, HEIGHT, 15));
    CHECK_OK(ra_host_easy_connect(broker, options, backends, &host));
    ra_host_backends_free(backends);
    ra_invite_options_free(options);
    return host;
}

typedef struct {
    const ra_broker_options *broker;
    const char *code;
    const ra_accept_options *options;
    ra_helper *helper;
    ra_result result;
} easy_connect_job;

static void *easy_connect_thread(void *arg) {
    easy_connect_job *job = arg;
    job->result = ra_helper_easy_connect(job->broker, job->code, job->options, &job->helper);
    return NULL;
}

/* A frame of the synthetic pattern reaches the helper. */
static void check_frame(ra_helper *helper) {
    ra_helper_event *event = NULL;
    ra_helper_event_data d = RA_SIZED(ra_helper_event_data);
    CHECK(wait_helper(helper, RA_HELPER_EVENT_FRAME, &d, &event));
    if (event) {
        CHECK(d.frame.width == WIDTH && d.frame.height == HEIGHT && d.frame.data != NULL);
        ra_helper_event_free(event);
    }
}

static void code_flows(void) {
    const char *address = getenv("RA_TEST_BROKER");
    const char *fingerprint = getenv("RA_TEST_BROKER_FINGERPRINT");
    if (!address || !fingerprint) {
        fprintf(stderr, "RA_TEST_BROKER and RA_TEST_BROKER_FINGERPRINT are not set: "
                        "run this test through ra-ffi/tests/run.sh, which starts ra-broker\n");
    }
    ENSURE(address && fingerprint);
    ra_broker_options *broker = NULL;
    CHECK_OK(ra_broker_options_new(address, &broker));
    CHECK_OK(ra_broker_options_set_fingerprint(broker, fingerprint));
    CHECK_OK(ra_broker_options_set_bind(broker, "127.0.0.1:0"));
    ENSURE(broker != NULL);

    /* "Verify the firewall" against the broker: the library's checks and
     * verdict, as ra-host diagnose prints them. */
    ra_diagnosis *diagnosis = NULL;
    CHECK_OK(ra_diagnose(broker, &diagnosis));
    ENSURE(diagnosis != NULL);
    uint8_t ready = 0;
    const char *verdict = NULL;
    CHECK_OK(ra_diagnosis_get_verdict(diagnosis, &ready, &verdict));
    CHECK(ready == 1 && verdict != NULL && strncmp(verdict, "ready: ", 7) == 0);
    size_t checks = 0;
    CHECK_OK(ra_diagnosis_get_check_count(diagnosis, &checks));
    CHECK(checks >= 4);
    int broker_answered = 0;
    for (size_t i = 0; i < checks; i++) {
        ra_diagnosis_check check = RA_SIZED(ra_diagnosis_check);
        CHECK_OK(ra_diagnosis_get_check(diagnosis, i, &check));
        if (strcmp(check.name, "broker") == 0) {
            broker_answered = check.ok == 1 && strstr(check.detail, " answered in ") != NULL;
        }
    }
    CHECK(broker_answered);
    ra_diagnosis_check past = RA_SIZED(ra_diagnosis_check);
    CHECK_RESULT(ra_diagnosis_get_check(diagnosis, checks, &past), RA_RESULT_INVALID_ARGUMENT);
    CHECK_OK(ra_diagnosis_free(diagnosis));

    ra_accept_options *accept = NULL;
    CHECK_OK(ra_accept_options_new(&accept));
    CHECK_OK(ra_accept_options_set_name(accept, "C code helper"));

    ra_host_event *event = NULL;
    ra_host_event_data hd = RA_SIZED(ra_host_event_data);
    ra_helper_event *hevent = NULL;
    ra_helper_event_data d = RA_SIZED(ra_helper_event_data);
    ra_code_info info = RA_SIZED(ra_code_info);
    ra_helper *none = NULL;

    /* Easy Connect with a wrong secret half: the helper hears "wrong code",
     * the host a failed attempt. (On a host of its own: the broker holds a
     * code back until the host reports the failed attempt.) */
    ra_host *decoy = easy_connect_host(broker, "C decoy host");
    ENSURE(decoy != NULL);
    CHECK_OK(ra_host_get_code_info(decoy, &info));
    ENSURE(info.code != NULL && strlen(info.code) == 15);
    char wrong[16];
    snprintf(wrong, sizeof wrong, "%.8s%s", info.code,
             strcmp(info.code + 8, "000-000") == 0 ? "111-111" : "000-000");
    CHECK_RESULT(ra_helper_easy_connect(broker, wrong, accept, &none), RA_RESULT_WRONG_CODE);
    CHECK(none == NULL);
    CHECK(wait_host(decoy, RA_HOST_EVENT_AUTH_FAILED, &hd, &event));
    if (event) {
        CHECK(hd.attempts == 1);
        ra_host_event_free(event);
    }
    CHECK_OK(ra_host_free(decoy));
    /* A code nobody registered gets the uniform answer. */
    CHECK_RESULT(ra_helper_easy_connect(broker, "000-000-000-000", accept, &none),
                 RA_RESULT_CODE_UNAVAILABLE);
    CHECK(none == NULL);

    /* Easy Connect: the host reads its code out, the helper types it
     * (lower case, spaces for dashes), the host lets it in. */
    ra_host *host = easy_connect_host(broker, "C code host");
    ENSURE(host != NULL);
    CHECK_OK(ra_host_get_code_info(host, &info));
    ENSURE(info.code != NULL && strlen(info.code) == 15);
    CHECK(info.code[3] == '-' && info.code[7] == '-' && info.code[11] == '-');
    CHECK(info.path == RA_PATH_UNKNOWN);
    CHECK(info.expires_at_unix > (int64_t)time(NULL) &&
          info.expires_at_unix <= (int64_t)time(NULL) + 601);
    ra_invitation *no_invitation = NULL;
    char *no_password = NULL;
    uint16_t no_port = 0;
    CHECK_RESULT(ra_host_get_invitation(host, &no_invitation), RA_RESULT_INVALID_STATE);
    CHECK_RESULT(ra_host_get_password(host, &no_password), RA_RESULT_INVALID_STATE);
    CHECK_RESULT(ra_host_get_port(host, &no_port), RA_RESULT_INVALID_STATE);
    CHECK(no_invitation == NULL && no_password == NULL && no_port == 0);
    char typed[16];
    for (size_t i = 0; i < 16; i++) {
        char c = info.code[i];
        typed[i] = c == '-' ? ' ' : (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    easy_connect_job job = {broker, typed, accept, NULL, RA_RESULT_INTERNAL};
    pthread_t thread;
    ENSURE(pthread_create(&thread, NULL, easy_connect_thread, &job) == 0);
    CHECK(wait_host(host, RA_HOST_EVENT_CONNECTION_REQUEST, &hd, &event));
    if (event) {
        CHECK(strcmp(hd.helper_name, "C code helper") == 0);
        CHECK_OK(ra_host_approve(host, hd.connection));
        ra_host_event_free(event);
    }
    pthread_join(thread, NULL);
    CHECK_OK(job.result);
    ra_helper *helper = job.helper;
    if (helper) {
        uint32_t path = 99;
        CHECK_OK(ra_helper_get_path(helper, &path));
        CHECK(path == RA_PATH_DIRECT); /* loopback: the direct path works */
        char *name = NULL;
        CHECK_OK(ra_helper_get_host_name(helper, &name));
        CHECK(name && strcmp(name, "C code host") == 0);
        ra_string_free(name);
        check_frame(helper);
        CHECK_OK(ra_helper_chat(helper, "typed the code"));
        CHECK(wait_host(host, RA_HOST_EVENT_CHAT, &hd, &event));
        if (event) {
            CHECK(strcmp(hd.text, "typed the code") == 0);
            ra_host_event_free(event);
        }
        CHECK_OK(ra_helper_end(helper));
        CHECK(wait_host(host, RA_HOST_EVENT_ENDED, &hd, &event));
        if (event) {
            CHECK(hd.reason == RA_END_HELPER_ENDED);
            ra_host_event_free(event);
        }
        CHECK_OK(ra_helper_free(helper));
    }
    CHECK_OK(ra_host_free(host));

    /* Quick Assist: the helper gets a code and reads it out, the host types
     * it and lets the helper in. One thread does both sides. */
    ra_assist_offer *offer = NULL;
    CHECK_OK(ra_helper_assist(broker, accept, &offer));
    ENSURE(offer != NULL);
    ra_code_info offered = RA_SIZED(ra_code_info);
    CHECK_OK(ra_assist_offer_get_code_info(offer, &offered));
    CHECK(offered.code != NULL && strlen(offered.code) == 15 && offered.path == RA_PATH_UNKNOWN);
    CHECK_RESULT(ra_assist_offer_wait(offer, 0, &none), RA_RESULT_TIMEOUT);
    CHECK(none == NULL);
    ra_invite_options *options = NULL;
    ra_host_backends *backends = NULL;
    CHECK_OK(ra_invite_options_new(&options));
    CHECK_OK(ra_invite_options_set_host_name(options, "C joining host"));
    CHECK_OK(ra_host_backends_new(&backends));
    CHECK_OK(ra_host_backends_use_synthetic_capturer(backends, WIDTH, HEIGHT, 15));
    host = NULL;
    CHECK_OK(ra_host_join(broker, offered.code, options, backends, &host));
    ra_host_backends_free(backends);
    ra_invite_options_free(options);
    if (host) {
        CHECK_OK(ra_host_get_code_info(host, &info));
        CHECK(strcmp(info.code, offered.code) == 0 && info.path == RA_PATH_DIRECT);
        CHECK(wait_host(host, RA_HOST_EVENT_CONNECTION_REQUEST, &hd, &event));
        if (event) {
            CHECK(strcmp(hd.helper_name, "C code helper") == 0);
            CHECK_OK(ra_host_approve(host, hd.connection));
            ra_host_event_free(event);
        }
        helper = NULL;
        CHECK_OK(ra_assist_offer_wait(offer, WAIT_MS, &helper));
        CHECK_RESULT(ra_assist_offer_wait(offer, 0, &none), RA_RESULT_INVALID_STATE);
        if (helper) {
            uint32_t path = 99;
            CHECK_OK(ra_helper_get_path(helper, &path));
            CHECK(path == RA_PATH_DIRECT);
            check_frame(helper);
            CHECK_OK(ra_host_end(host));
            CHECK(wait_helper(helper, RA_HELPER_EVENT_ENDED, &d, &hevent));
            if (hevent) {
                CHECK(d.reason == RA_END_HOST_ENDED);
                ra_helper_event_free(hevent);
            }
            CHECK_OK(ra_helper_free(helper));
        }
        CHECK_OK(ra_host_free(host));
    }
    CHECK_OK(ra_assist_offer_free(offer));
    CHECK_OK(ra_accept_options_free(accept));
    CHECK_OK(ra_broker_options_free(broker));
}
