/* What the C session tests share: a C injector that records what it is
 * given, bounded waits for injections and events, and a helper that accepts
 * an invitation on a thread of its own. Include after check.h, with
 * _POSIX_C_SOURCE 200809L defined. */
#ifndef RA_TEST_KIT_H
#define RA_TEST_KIT_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "check.h"

/* Upper bounds for waits; generous so slow runs (valgrind) still pass. */
#define WAIT_MS 30000u

/* ---------- a C injector that records what it is given ---------- */

#define MAX_RECORDED 64
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    ra_input_event events[MAX_RECORDED];
    char texts[MAX_RECORDED][32];
    int count;
    int release_all;
    int destroyed;
} injector_state;

static inline ra_result inj_inject(void *user_data, const ra_input_event *event) {
    injector_state *state = user_data;
    pthread_mutex_lock(&state->lock);
    if (state->count < MAX_RECORDED) {
        state->events[state->count] = *event;
        if (event->text) {
            snprintf(state->texts[state->count], sizeof state->texts[0], "%s", event->text);
        }
        state->events[state->count].text = NULL; /* only valid during the call */
        state->count++;
    }
    pthread_cond_broadcast(&state->changed);
    pthread_mutex_unlock(&state->lock);
    return RA_RESULT_OK;
}

static inline ra_result inj_release_all(void *user_data) {
    injector_state *state = user_data;
    pthread_mutex_lock(&state->lock);
    state->release_all++;
    pthread_cond_broadcast(&state->changed);
    pthread_mutex_unlock(&state->lock);
    return RA_RESULT_OK;
}

static inline void inj_destroy(void *user_data) { ((injector_state *)user_data)->destroyed++; }

/* `ms` from now on `clock`. */
static inline struct timespec clock_after(clockid_t clock, unsigned ms) {
    struct timespec t;
    clock_gettime(clock, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* A deadline for pthread_cond_timedwait (which uses the realtime clock). */
static inline struct timespec deadline_after(unsigned ms) { return clock_after(CLOCK_REALTIME, ms); }

/* A deadline for `passed`. */
static inline struct timespec monotonic_after(unsigned ms) { return clock_after(CLOCK_MONOTONIC, ms); }

/* Waits until the injector saw `count` events and `releases` release_alls. */
static inline int wait_injected(injector_state *state, int count, int releases) {
    struct timespec deadline = deadline_after(WAIT_MS);
    int ok = 1;
    pthread_mutex_lock(&state->lock);
    while (ok && (state->count < count || state->release_all < releases)) {
        ok = pthread_cond_timedwait(&state->changed, &state->lock, &deadline) == 0;
    }
    ok = state->count >= count && state->release_all >= releases;
    pthread_mutex_unlock(&state->lock);
    return ok;
}

/* ---------- event helpers ---------- */

/* Whether the monotonic clock has passed `deadline`. */
static inline int passed(struct timespec deadline) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > deadline.tv_sec ||
           (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec);
}

/* Takes host events until one of `kind`, for at most WAIT_MS in all (other
 * events, frames above all, must not keep a wait alive). */
static inline int wait_host(ra_host *host, uint32_t kind, ra_host_event_data *out, ra_host_event **keep) {
    struct timespec deadline = monotonic_after(WAIT_MS);
    for (;;) {
        if (passed(deadline)) {
            fprintf(stderr, "no host event %u in %u ms\n", kind, WAIT_MS);
            return 0;
        }
        ra_host_event *event = NULL;
        ra_result r = ra_host_next_event(host, WAIT_MS, &event);
        if (r != RA_RESULT_OK) {
            fprintf(stderr, "waiting for host event %u: %s (%s)\n", kind, ra_result_name(r),
                    ra_last_error_message());
            return 0;
        }
        ra_host_event_data data = RA_SIZED(ra_host_event_data);
        if (ra_host_event_get_data(event, &data) != RA_RESULT_OK) {
            ra_host_event_free(event);
            return 0;
        }
        if (data.kind == kind) {
            *out = data;
            *keep = event; /* the caller frees it: `out` points into it */
            return 1;
        }
        ra_host_event_free(event);
    }
}

/* Takes helper events until one of `kind` (frames are skipped unless asked for). */
static inline int wait_helper(ra_helper *helper, uint32_t kind, ra_helper_event_data *out,
                       ra_helper_event **keep) {
    struct timespec deadline = monotonic_after(WAIT_MS);
    for (;;) {
        if (passed(deadline)) {
            fprintf(stderr, "no helper event %u in %u ms\n", kind, WAIT_MS);
            return 0;
        }
        ra_helper_event *event = NULL;
        ra_result r = ra_helper_next_event(helper, WAIT_MS, &event);
        if (r != RA_RESULT_OK) {
            fprintf(stderr, "waiting for helper event %u: %s (%s)\n", kind, ra_result_name(r),
                    ra_last_error_message());
            return 0;
        }
        ra_helper_event_data data = RA_SIZED(ra_helper_event_data);
        if (ra_helper_event_get_data(event, &data) != RA_RESULT_OK) {
            ra_helper_event_free(event);
            return 0;
        }
        if (data.kind == kind) {
            *out = data;
            *keep = event;
            return 1;
        }
        ra_helper_event_free(event);
    }
}

/* ---------- the helper connects on a thread of its own ---------- */

typedef struct {
    const char *token;
    const char *password;
    ra_helper *helper;
    ra_result result;
} accept_job;

static inline void *accept_thread(void *arg) {
    accept_job *job = arg;
    ra_invitation *invitation = NULL;
    job->result = ra_invitation_from_token(job->token, &invitation);
    if (job->result != RA_RESULT_OK) {
        return NULL;
    }
    ra_accept_options *options = NULL;
    ra_accept_options_new(&options);
    ra_accept_options_set_name(options, "C helper");
    job->result = ra_helper_accept(invitation, job->password, options, &job->helper);
    ra_accept_options_free(options);
    ra_invitation_free(invitation);
    return NULL;
}

/* A helper joins `host` through its invitation (token and password) on a
 * thread of its own while the host approves it; the helper, its connection
 * in `*conn`; NULL (with a CHECK failed) when it did not join. */
static inline ra_helper *helper_joins(ra_host *host, uint64_t *conn) {
    ra_invitation *invitation = NULL;
    char *token = NULL;
    char *password = NULL;
    CHECK_OK(ra_host_get_invitation(host, &invitation));
    CHECK_OK(ra_invitation_to_token(invitation, &token));
    CHECK_OK(ra_host_get_password(host, &password));
    accept_job job = {token, password, NULL, RA_RESULT_INTERNAL};
    pthread_t thread;
    ra_helper *helper = NULL;
    if (pthread_create(&thread, NULL, accept_thread, &job) == 0) {
        ra_host_event *event = NULL;
        ra_host_event_data hd = RA_SIZED(ra_host_event_data);
        int asked = wait_host(host, RA_HOST_EVENT_CONNECTION_REQUEST, &hd, &event);
        CHECK(asked);
        if (asked) {
            *conn = hd.connection;
            ra_host_event_free(event);
            CHECK_OK(ra_host_approve(host, *conn));
        }
        pthread_join(thread, NULL);
        CHECK_OK(job.result);
        helper = job.helper;
    }
    CHECK(helper != NULL);
    ra_string_free(token);
    ra_string_free(password);
    ra_invitation_free(invitation);
    return helper;
}

/* The helper asks for control and the host grants it; 1 once the helper
 * was told (CHECKs fail otherwise). */
static inline int helper_gets_control(ra_host *host, ra_helper *helper, uint64_t conn) {
    ra_host_event *event = NULL;
    ra_host_event_data hd = RA_SIZED(ra_host_event_data);
    ra_helper_event *hevent = NULL;
    ra_helper_event_data d = RA_SIZED(ra_helper_event_data);
    CHECK_OK(ra_helper_request_control(helper));
    int asked = wait_host(host, RA_HOST_EVENT_CONTROL_REQUESTED, &hd, &event);
    CHECK(asked);
    if (asked) {
        ra_host_event_free(event);
    }
    CHECK_OK(ra_host_grant_control(host, conn));
    int granted = wait_helper(helper, RA_HELPER_EVENT_CONTROL_GRANTED, &d, &hevent);
    CHECK(granted);
    if (granted) {
        ra_helper_event_free(hevent);
    }
    return granted;
}

/* ---------- the local user wins ---------- */

/* Sends `event` every 100 ms until the injector saw something new (at
 * most WAIT_MS): input the host holds back is dropped, not queued. */
static inline int send_until_injected(ra_helper *helper, injector_state *injector,
                                      const ra_input_event *event) {
    pthread_mutex_lock(&injector->lock);
    int before = injector->count;
    pthread_mutex_unlock(&injector->lock);
    struct timespec deadline = monotonic_after(WAIT_MS);
    int arrived = 0;
    while (!arrived && !passed(deadline)) {
        if (ra_helper_send_input(helper, event, 1) != RA_RESULT_OK) {
            return 0;
        }
        struct timespec step = deadline_after(100);
        pthread_mutex_lock(&injector->lock);
        while (injector->count == before &&
               pthread_cond_timedwait(&injector->changed, &injector->lock, &step) == 0) {
        }
        arrived = injector->count > before;
        pthread_mutex_unlock(&injector->lock);
    }
    return arrived;
}

/* Once the host holds the helper's input back: a move sent now is dropped,
 * and once the hold ends a later one passes. The input stream is ordered,
 * so once a later move arrived the first can no longer come. Whether the
 * injector saw exactly that. */
static inline int held_back_then_passes(ra_helper *helper, injector_state *injector) {
    pthread_mutex_lock(&injector->lock);
    int before = injector->count;
    pthread_mutex_unlock(&injector->lock);
    ra_input_event held_back = {RA_INPUT_POINTER_MOVE, 11, 11, 0, 0, 0, NULL};
    if (ra_helper_send_input(helper, &held_back, 1) != RA_RESULT_OK) {
        return 0;
    }
    ra_input_event later = {RA_INPUT_POINTER_MOVE, 22, 22, 0, 0, 0, NULL};
    int ok = send_until_injected(helper, injector, &later);
    pthread_mutex_lock(&injector->lock);
    for (int i = before; i < injector->count; i++) {
        ok = ok && injector->events[i].kind == RA_INPUT_POINTER_MOVE && injector->events[i].x == 22;
    }
    pthread_mutex_unlock(&injector->lock);
    return ok;
}

#endif
