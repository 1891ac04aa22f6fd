/* Panics never cross the boundary: one injected into an export comes back as
 * RA_RESULT_PANIC, and one injected on the path that calls a C backend comes
 * back as an RA_HOST_EVENT_BACKEND_ERROR carrying RA_RESULT_PANIC. The log
 * callback hears about the latter. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>

#include "check.h"

typedef struct {
    ra_display_info display;
    int displays_calls;
    int destroyed;
} capturer_state;

static ra_result cap_displays(void *user_data, const ra_display_info **displays, size_t *count) {
    capturer_state *state = user_data;
    state->displays_calls++;
    *displays = &state->display;
    *count = 1;
    return RA_RESULT_OK;
}

static ra_result cap_next_frame(void *user_data, uint32_t timeout_ms, ra_frame *frame) {
    (void)user_data;
    (void)timeout_ms;
    (void)frame;
    return RA_RESULT_TIMEOUT;
}

static void cap_destroy(void *user_data) { ((capturer_state *)user_data)->destroyed++; }

typedef struct {
    pthread_mutex_t lock;
    int warnings_from_ra;
    int from_app; /* ra_log_message's line, under its own origin */
} log_state;

static void on_log(void *user_data, uint32_t level, const char *target, const char *message) {
    log_state *state = user_data;
    if (level <= RA_LOG_WARN && strncmp(target, "ra_ffi", 6) == 0 && strstr(message, "panic")) {
        pthread_mutex_lock(&state->lock);
        state->warnings_from_ra++;
        pthread_mutex_unlock(&state->lock);
    }
    if (level == RA_LOG_ERROR && strcmp(target, "ra.test") == 0 &&
        strcmp(message, "a callback threw: boom") == 0) {
        pthread_mutex_lock(&state->lock);
        state->from_app++;
        pthread_mutex_unlock(&state->lock);
    }
}

int main(void) {
    /* In an export. */
    ra_policy *policy = NULL;
    CHECK_OK(ra_debug_inject_panic(RA_PANIC_NEXT_CALL));
    CHECK_RESULT(ra_policy_new(&policy), RA_RESULT_PANIC);
    CHECK(policy == NULL);
    CHECK(strstr(ra_last_error_message(), "panic injected") != NULL);
    /* Once only: the library keeps working. */
    CHECK_OK(ra_policy_new(&policy));
    CHECK_OK(ra_policy_free(policy));

    log_state log;
    memset(&log, 0, sizeof log);
    pthread_mutex_init(&log.lock, NULL);
    CHECK_OK(ra_set_log_callback(on_log, &log, RA_LOG_WARN));

    /* An application's own line reaches the callback synchronously, under
     * its origin; one above the callback's level does not. */
    CHECK_OK(ra_log_message(RA_LOG_ERROR, "ra.test", "a callback threw: boom"));
    CHECK_OK(ra_log_message(RA_LOG_DEBUG, "ra.test", "a callback threw: boom"));
    pthread_mutex_lock(&log.lock);
    CHECK(log.from_app == 1);
    pthread_mutex_unlock(&log.lock);

    /* On the path into a C capturer (its displays callback, during invite). */
    capturer_state capturer;
    memset(&capturer, 0, sizeof capturer);
    capturer.display.name = "panic display";
    capturer.display.bounds.width = 64;
    capturer.display.bounds.height = 64;
    ra_capturer_callbacks table = {&capturer,   cap_displays, NULL, cap_next_frame,
                                   NULL,        cap_destroy,  NULL};
    ra_host_backends *backends = NULL;
    CHECK_OK(ra_host_backends_new(&backends));
    CHECK_OK(ra_host_backends_set_capturer(backends, &table));
    ra_invite_options *options = NULL;
    CHECK_OK(ra_invite_options_new(&options));
    CHECK_OK(ra_invite_options_set_listen(options, "127.0.0.1:0"));
    CHECK_OK(ra_debug_inject_panic(RA_PANIC_NEXT_CALLBACK));
    ra_host *host = NULL;
    CHECK_OK(ra_host_invite(options, backends, &host));
    REQUIRE(host != NULL);

    ra_host_event *event = NULL;
    CHECK_OK(ra_host_next_event(host, 10000, &event));
    ra_host_event_data data = RA_SIZED(ra_host_event_data);
    CHECK_OK(ra_host_event_get_data(event, &data));
    CHECK(data.kind == RA_HOST_EVENT_BACKEND_ERROR);
    CHECK(data.backend == RA_BACKEND_CAPTURER);
    CHECK_RESULT(data.backend_result, RA_RESULT_PANIC);
    CHECK(data.description != NULL && strstr(data.description, "panic") != NULL);
    CHECK_OK(ra_host_event_free(event));

    /* The log callback ran on this path, synchronously with the report. */
    CHECK_OK(ra_set_log_callback(NULL, NULL, RA_LOG_OFF));
    pthread_mutex_lock(&log.lock);
    CHECK(log.warnings_from_ra >= 1);
    pthread_mutex_unlock(&log.lock);

    CHECK_OK(ra_host_free(host));
    CHECK(capturer.destroyed == 1);
    CHECK_OK(ra_host_backends_free(backends));
    CHECK_OK(ra_invite_options_free(options));
    pthread_mutex_destroy(&log.lock);
    return summary();
}
