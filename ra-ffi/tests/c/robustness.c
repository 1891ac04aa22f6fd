/* Every exported function called with NULL, garbage handles, handles of the
 * wrong type, freed handles, invalid UTF-8, unknown constants and bad
 * lengths: each returns an error code (never OK, never a crash), leaves its
 * out-param alone, and sets a last-error message. run.sh checks that every
 * function of ra.h is named in this file. The short-code functions also meet
 * a broker that does not answer, and the ra-broker run.sh started
 * (RA_TEST_BROKER, RA_TEST_BROKER_FINGERPRINT). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

/* Not a handle: 256 bytes of 0xA5, as uninitialised memory might hold. */
static unsigned char garbage[256];
#define G(type) ((type *)(void *)garbage)

static const char bad_utf8[] = {'a', (char)0xff, (char)0xfe, 0};

/* `call` must fail with `code` and leave a message for the thread. */
#define EXPECT(call, code)                                                               \
    do {                                                                                 \
        CHECK_RESULT(call, code);                                                        \
        CHECK(strlen(ra_last_error_message()) > 0);                                      \
    } while (0)

#define SENTINEL ((void *)0x1)

static void test_basics(void) {
    /* Names and messages for every code, and for unknown ones. */
    ra_result codes[] = {RA_RESULT_OK, RA_RESULT_TIMEOUT, RA_RESULT_NULL_POINTER,
                         RA_RESULT_PANIC, RA_RESULT_WRONG_PASSWORD};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        CHECK(strncmp(ra_result_name(codes[i]), "RA_RESULT_", 10) == 0);
        CHECK(strlen(ra_result_message(codes[i])) > 0);
    }
    CHECK(strcmp(ra_result_name(123456), "RA_RESULT_UNKNOWN") == 0);
    CHECK(strcmp(ra_result_message(123456), "unknown result code") == 0);
    CHECK(strcmp(ra_version(), RA_VERSION) == 0);
    CHECK(ra_last_error_message() != NULL);

    EXPECT(ra_string_free((char *)garbage), RA_RESULT_INVALID_HANDLE);
    CHECK_OK(ra_string_free(NULL));
    EXPECT(ra_set_log_callback(NULL, NULL, 99), RA_RESULT_INVALID_ARGUMENT);
    CHECK_OK(ra_set_log_callback(NULL, NULL, RA_LOG_OFF));
    EXPECT(ra_log_message(RA_LOG_WARN, "app", NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_log_message(RA_LOG_OFF, "app", "x"), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_log_message(99, NULL, "x"), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_log_message(RA_LOG_WARN, bad_utf8, "x"), RA_RESULT_INVALID_UTF8);
    CHECK_OK(ra_log_message(RA_LOG_ERROR, NULL, "nobody listens: nothing happens"));
    EXPECT(ra_debug_inject_panic(77), RA_RESULT_INVALID_ARGUMENT);

    uint32_t key = 7;
    EXPECT(ra_key_from_name(NULL, &key), RA_RESULT_NULL_POINTER);
    EXPECT(ra_key_from_name("a", NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_key_from_name(bad_utf8, &key), RA_RESULT_INVALID_UTF8);
    EXPECT(ra_key_from_name("no-such-key", &key), RA_RESULT_INVALID_ARGUMENT);
    CHECK(key == 7);
}

/* A log callback still running on another thread when it is replaced:
 * ra_set_log_callback waits for it, so once it returns the old user_data is
 * never used again (the application may free it). From inside the callback
 * it is refused: it would wait for itself. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int entered, finished;
    ra_result from_inside;
} slow_log;

static void slow_on_log(void *user_data, uint32_t level, const char *target, const char *message) {
    slow_log *log = user_data;
    (void)level, (void)target, (void)message;
    pthread_mutex_lock(&log->lock);
    int first = !log->entered;
    log->entered = 1;
    pthread_cond_broadcast(&log->changed);
    pthread_mutex_unlock(&log->lock);
    if (!first) {
        return;
    }
    /* Stay a while, so that the replacement is under way. */
    struct timespec pause = {0, 200 * 1000 * 1000};
    nanosleep(&pause, NULL);
    log->from_inside = ra_set_log_callback(NULL, NULL, RA_LOG_OFF);
    pthread_mutex_lock(&log->lock);
    log->finished = 1;
    pthread_mutex_unlock(&log->lock);
}

static void *log_one_line(void *arg) {
    (void)arg;
    ra_log_message(RA_LOG_WARN, "robustness", "a slow line");
    return NULL;
}

static void test_log_callback_replaced_while_running(void) {
    slow_log log = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, RA_RESULT_OK};
    CHECK_OK(ra_set_log_callback(slow_on_log, &log, RA_LOG_WARN));
    pthread_t thread;
    ENSURE(pthread_create(&thread, NULL, log_one_line, NULL) == 0);
    pthread_mutex_lock(&log.lock);
    while (!log.entered) {
        pthread_cond_wait(&log.changed, &log.lock);
    }
    pthread_mutex_unlock(&log.lock);
    CHECK_OK(ra_set_log_callback(NULL, NULL, RA_LOG_OFF));
    pthread_mutex_lock(&log.lock);
    CHECK(log.finished == 1); /* it waited for the running call */
    pthread_mutex_unlock(&log.lock);
    pthread_join(thread, NULL);
    CHECK(log.from_inside == RA_RESULT_WRONG_THREAD);
}

static void test_policy(void) {
    ra_policy *p = SENTINEL;
    EXPECT(ra_policy_new(NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_policy_from_toml(NULL, &p), RA_RESULT_NULL_POINTER);
    EXPECT(ra_policy_from_toml("allow_control = true", NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_policy_from_toml(bad_utf8, &p), RA_RESULT_INVALID_UTF8);
    EXPECT(ra_policy_from_toml("no_such_key = 1", &p), RA_RESULT_INVALID_POLICY);
    EXPECT(ra_policy_from_toml("approval_timeout = \"0s\"", &p), RA_RESULT_INVALID_POLICY);
    EXPECT(ra_policy_load(NULL, &p), RA_RESULT_NULL_POINTER);
    EXPECT(ra_policy_load("/nonexistent/policy.toml", &p), RA_RESULT_IO);
    EXPECT(ra_policy_load(bad_utf8, &p), RA_RESULT_INVALID_UTF8);
    CHECK(p == SENTINEL);

    char *text = SENTINEL;
    ra_policy_settings settings = RA_SIZED(ra_policy_settings);
    EXPECT(ra_policy_to_toml(NULL, &text), RA_RESULT_NULL_POINTER);
    EXPECT(ra_policy_to_toml(G(ra_policy), &text), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_policy_get(NULL, &settings), RA_RESULT_NULL_POINTER);
    EXPECT(ra_policy_get(G(ra_policy), &settings), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_policy_set(NULL, &settings), RA_RESULT_NULL_POINTER);
    EXPECT(ra_policy_set(G(ra_policy), &settings), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_policy_free(G(ra_policy)), RA_RESULT_INVALID_HANDLE);
    CHECK(text == SENTINEL);
    CHECK_OK(ra_policy_free(NULL));

    ra_policy *policy = NULL;
    CHECK_OK(ra_policy_new(&policy));
    EXPECT(ra_policy_to_toml(policy, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_policy_get(policy, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_policy_set(policy, NULL), RA_RESULT_NULL_POINTER);
    ra_policy_settings unsized;
    memset(&unsized, 0, sizeof unsized);
    EXPECT(ra_policy_get(policy, &unsized), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_policy_set(policy, &unsized), RA_RESULT_INVALID_ARGUMENT);
    CHECK_OK(ra_policy_get(policy, &settings));
    CHECK(settings.allow_assistance == 1 && settings.allow_control == 1);
    CHECK(settings.max_invitation_lifetime_ms == 6u * 3600u * 1000u);
    ra_policy_settings zero = settings;
    zero.max_invitation_lifetime_ms = 0;
    EXPECT(ra_policy_set(policy, &zero), RA_RESULT_INVALID_POLICY);
    /* Resume tickets: off by default, at most 15 minutes. */
    CHECK(settings.allow_resume_tickets == 0);
    CHECK(settings.max_resume_ticket_lifetime_ms == 15u * 60u * 1000u);
    ra_policy_settings long_tickets = settings;
    long_tickets.max_resume_ticket_lifetime_ms = 16u * 60u * 1000u;
    EXPECT(ra_policy_set(policy, &long_tickets), RA_RESULT_INVALID_POLICY);
    settings.allow_control = 0;
    CHECK_OK(ra_policy_set(policy, &settings));
    CHECK_OK(ra_policy_to_toml(policy, &text));
    CHECK(text != SENTINEL && strstr(text, "allow_control = false") != NULL);
    CHECK_OK(ra_string_free(text));
    EXPECT(ra_string_free(text), RA_RESULT_INVALID_HANDLE); /* twice */

    /* A handle of another type, and a freed one. */
    EXPECT(ra_invitation_free((ra_invitation *)(void *)policy), RA_RESULT_INVALID_HANDLE);
    CHECK_OK(ra_policy_free(policy));
    EXPECT(ra_policy_free(policy), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_policy_get(policy, &settings), RA_RESULT_INVALID_HANDLE);
}

static void test_invitation(void) {
    ra_invitation *inv = SENTINEL;
    const uint8_t junk[] = "version = 99\n";
    EXPECT(ra_invitation_load(NULL, &inv), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invitation_load("/tmp/x.rainv", NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invitation_load(bad_utf8, &inv), RA_RESULT_INVALID_UTF8);
    EXPECT(ra_invitation_load("/nonexistent/x.rainv", &inv), RA_RESULT_IO);
    EXPECT(ra_invitation_parse(NULL, 4, &inv), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invitation_parse(junk, sizeof junk, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invitation_parse(junk, sizeof junk - 1, &inv), RA_RESULT_INVALID_INVITATION);
    EXPECT(ra_invitation_parse(junk, SIZE_MAX, &inv), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_invitation_from_token(NULL, &inv), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invitation_from_token("ra1-x", NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invitation_from_token(bad_utf8, &inv), RA_RESULT_INVALID_UTF8);
    EXPECT(ra_invitation_from_token("not a token", &inv), RA_RESULT_INVALID_INVITATION);
    EXPECT(ra_invitation_from_token("ra1-AAAA", &inv), RA_RESULT_INVALID_INVITATION);
    CHECK(inv == SENTINEL);

    char *out = SENTINEL;
    const char *to[] = {"a@example.com", NULL};
    ra_invitation_info info = RA_SIZED(ra_invitation_info);
    EXPECT(ra_invitation_save(NULL, "/tmp/x"), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invitation_save(G(ra_invitation), "/tmp/x"), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_invitation_to_token(NULL, &out), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invitation_to_token(G(ra_invitation), &out), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_invitation_to_file_string(NULL, &out), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invitation_to_file_string(G(ra_invitation), &out), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_invitation_to_email(NULL, "a@b.c", to, 1, NULL, &out), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invitation_to_email(G(ra_invitation), "a@b.c", to, 1, NULL, &out),
           RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_invitation_mailto(NULL, to, 1, &out), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invitation_mailto(G(ra_invitation), to, 1, &out), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_invitation_get_info(NULL, &info), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invitation_get_info(G(ra_invitation), &info), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_invitation_free(G(ra_invitation)), RA_RESULT_INVALID_HANDLE);
    CHECK_OK(ra_invitation_free(NULL));
    CHECK(out == SENTINEL);
}

/* Receipts and audit logs that are not what they claim to be. */
static void test_receipt_and_audit(void) {
    char *out = SENTINEL;
    const uint8_t junk[] = "{\"receipt\":\"ra-consent-receipt-1\"}";
    const uint8_t other_version[] = "{\"receipt\":\"ra-consent-receipt-9\",\"body\":{}}";
    const uint8_t not_utf8[] = {'{', 0xff, '}'};
    EXPECT(ra_receipt_verify(NULL, 4, NULL, NULL, &out), RA_RESULT_NULL_POINTER);
    EXPECT(ra_receipt_verify(junk, SIZE_MAX, NULL, NULL, &out), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_receipt_verify(junk, sizeof junk - 1, NULL, NULL, &out), RA_RESULT_INVALID_RECEIPT);
    EXPECT(ra_receipt_verify(junk, 0, NULL, NULL, &out), RA_RESULT_INVALID_RECEIPT);
    EXPECT(ra_receipt_verify(other_version, sizeof other_version - 1, NULL, NULL, &out),
           RA_RESULT_INVALID_RECEIPT);
    EXPECT(ra_receipt_verify(not_utf8, sizeof not_utf8, NULL, NULL, &out),
           RA_RESULT_INVALID_RECEIPT);
    EXPECT(ra_receipt_verify(junk, sizeof junk - 1, NULL, NULL, NULL), RA_RESULT_INVALID_RECEIPT);
    EXPECT(ra_receipt_verify(junk, sizeof junk - 1, G(ra_invitation), NULL, &out),
           RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_receipt_verify(junk, sizeof junk - 1, NULL, bad_utf8, &out), RA_RESULT_INVALID_UTF8);
    EXPECT(ra_receipt_verify(junk, sizeof junk - 1, NULL, "raorg1-nope", &out),
           RA_RESULT_INVALID_ARGUMENT);
    CHECK(out == SENTINEL);

    EXPECT(ra_audit_verify(NULL, NULL, 0, &out), RA_RESULT_NULL_POINTER);
    EXPECT(ra_audit_verify(bad_utf8, NULL, 0, &out), RA_RESULT_INVALID_UTF8);
    EXPECT(ra_audit_verify("/nonexistent/audit.log", NULL, 0, &out), RA_RESULT_IO);
    char path[] = "/tmp/ra-robustness-audit-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char unchained[] = "{\"event\":\"started\"}\n";
    CHECK(write(fd, unchained, sizeof unchained - 1) == (ssize_t)(sizeof unchained - 1));
    close(fd);
    EXPECT(ra_audit_verify(path, NULL, 0, &out), RA_RESULT_AUDIT_LOG_BROKEN);
    CHECK(strstr(ra_last_error_message(), "line 1") != NULL);
    EXPECT(ra_audit_verify(path, junk, sizeof junk - 1, &out), RA_RESULT_INVALID_RECEIPT);
    EXPECT(ra_audit_verify(path, junk, SIZE_MAX, &out), RA_RESULT_INVALID_ARGUMENT);
    unlink(path);
    CHECK(out == SENTINEL);
}

/* A real invitation, to test the other arguments of its functions. */
static void test_invitation_arguments(ra_invitation *inv) {
    char *out = SENTINEL;
    const char *to[] = {"a@example.com", NULL};
    const char *bad_to[] = {bad_utf8};
    EXPECT(ra_invitation_save(inv, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invitation_save(inv, bad_utf8), RA_RESULT_INVALID_UTF8);
    EXPECT(ra_invitation_save(inv, "/nonexistent/dir/x.rainv"), RA_RESULT_IO);
    EXPECT(ra_invitation_to_token(inv, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invitation_to_file_string(inv, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invitation_to_email(inv, NULL, to, 1, NULL, &out), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invitation_to_email(inv, "a@b.c", NULL, 1, NULL, &out), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invitation_to_email(inv, "a@b.c", to, 2, NULL, &out), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invitation_to_email(inv, "a@b.c", bad_to, 1, NULL, &out), RA_RESULT_INVALID_UTF8);
    EXPECT(ra_invitation_to_email(inv, "a@b.c", to, 1, bad_utf8, &out), RA_RESULT_INVALID_UTF8);
    EXPECT(ra_invitation_to_email(inv, "not an address", to, 1, NULL, &out), RA_RESULT_EMAIL);
    EXPECT(ra_invitation_to_email(inv, "a@b.c", to, 1, NULL, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invitation_mailto(inv, NULL, 3, &out), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invitation_mailto(inv, to, 1, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invitation_get_info(inv, NULL), RA_RESULT_NULL_POINTER);
    CHECK(out == SENTINEL);
    CHECK_OK(ra_invitation_mailto(inv, NULL, 0, &out));
    CHECK(out != SENTINEL && strncmp(out, "mailto:", 7) == 0);
    CHECK_OK(ra_string_free(out));
}

static void test_options(void) {
    EXPECT(ra_invite_options_new(NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invite_options_set_host_name(NULL, "x"), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invite_options_set_host_name(G(ra_invite_options), "x"), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_invite_options_set_lifetime_ms(NULL, 5), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invite_options_set_lifetime_ms(G(ra_invite_options), 5), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_invite_options_set_listen(NULL, "127.0.0.1:0"), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invite_options_set_listen(G(ra_invite_options), "127.0.0.1:0"),
           RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_invite_options_add_address(NULL, "127.0.0.1:1"), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invite_options_add_address(G(ra_invite_options), "127.0.0.1:1"),
           RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_invite_options_set_policy(NULL, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invite_options_set_policy(G(ra_invite_options), NULL), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_invite_options_set_audit_log(NULL, "/tmp/a"), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invite_options_set_audit_log(G(ra_invite_options), "/tmp/a"),
           RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_invite_options_set_rendezvous(NULL, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invite_options_set_rendezvous(G(ra_invite_options), NULL),
           RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_invite_options_free(G(ra_invite_options)), RA_RESULT_INVALID_HANDLE);
    CHECK_OK(ra_invite_options_free(NULL));

    ra_invite_options *o = NULL;
    CHECK_OK(ra_invite_options_new(&o));
    EXPECT(ra_invite_options_set_host_name(o, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invite_options_set_host_name(o, bad_utf8), RA_RESULT_INVALID_UTF8);
    EXPECT(ra_invite_options_set_lifetime_ms(o, 0), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_invite_options_set_listen(o, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invite_options_set_listen(o, "localhost"), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_invite_options_set_listen(o, bad_utf8), RA_RESULT_INVALID_UTF8);
    EXPECT(ra_invite_options_add_address(o, "1.2.3.4"), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_invite_options_set_policy(o, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invite_options_set_policy(o, G(ra_policy)), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_invite_options_set_audit_log(o, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_invite_options_set_rendezvous(o, G(ra_broker_options)), RA_RESULT_INVALID_HANDLE);
    CHECK_OK(ra_invite_options_set_rendezvous(o, NULL));
    CHECK_OK(ra_invite_options_free(o));

    EXPECT(ra_accept_options_new(NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_accept_options_set_name(NULL, "x"), RA_RESULT_NULL_POINTER);
    EXPECT(ra_accept_options_set_identity(NULL, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_accept_options_set_name(G(ra_accept_options), "x"), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_accept_options_set_identity(G(ra_accept_options), NULL), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_accept_options_set_connect_timeout_ms(NULL, 5), RA_RESULT_NULL_POINTER);
    EXPECT(ra_accept_options_set_connect_timeout_ms(G(ra_accept_options), 5),
           RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_accept_options_set_approval_timeout_ms(NULL, 5), RA_RESULT_NULL_POINTER);
    EXPECT(ra_accept_options_set_approval_timeout_ms(G(ra_accept_options), 5),
           RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_accept_options_free(G(ra_accept_options)), RA_RESULT_INVALID_HANDLE);
    CHECK_OK(ra_accept_options_free(NULL));
    ra_accept_options *a = NULL;
    CHECK_OK(ra_accept_options_new(&a));
    EXPECT(ra_accept_options_set_name(a, bad_utf8), RA_RESULT_INVALID_UTF8);
    /* An identity that is not one: refused with what is wrong; NULL removes it. */
    EXPECT(ra_accept_options_set_identity(a, "ra-helper-identity 1\n"), RA_RESULT_INVALID_ARGUMENT);
    CHECK(strstr(ra_last_error_message(), "identity") != NULL);
    EXPECT(ra_accept_options_set_identity(a, bad_utf8), RA_RESULT_INVALID_UTF8);
    CHECK_OK(ra_accept_options_set_identity(a, NULL));
    /* The standard warning: static, never NULL. */
    CHECK(strstr(ra_unverified_helper_warning(), "did not contact yourself") != NULL);
    EXPECT(ra_accept_options_set_connect_timeout_ms(a, 0), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_accept_options_set_approval_timeout_ms(a, 0), RA_RESULT_INVALID_ARGUMENT);
    CHECK_OK(ra_accept_options_free(a));
}

static ra_result no_frame(void *user_data, uint32_t timeout_ms, ra_frame *frame) {
    (void)user_data;
    (void)timeout_ms;
    (void)frame;
    return RA_RESULT_TIMEOUT;
}

static void test_backends(void) {
    ra_capturer_callbacks capturer;
    ra_encoder_callbacks encoder;
    ra_injector_callbacks injector;
    memset(&capturer, 0, sizeof capturer);
    memset(&encoder, 0, sizeof encoder);
    memset(&injector, 0, sizeof injector);

    EXPECT(ra_host_backends_new(NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_backends_use_synthetic_capturer(NULL, 64, 64, 30), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_backends_use_synthetic_capturer(G(ra_host_backends), 64, 64, 30),
           RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_backends_set_capturer(NULL, &capturer), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_backends_set_capturer(G(ra_host_backends), &capturer), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_backends_use_openh264_encoder(NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_backends_use_openh264_encoder(G(ra_host_backends)), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_backends_set_encoder(NULL, &encoder), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_backends_set_encoder(G(ra_host_backends), &encoder), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_backends_use_null_injector(NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_backends_use_null_injector(G(ra_host_backends)), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_backends_use_log_injector(NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_backends_use_log_injector(G(ra_host_backends)), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_backends_set_injector(NULL, &injector), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_backends_set_injector(G(ra_host_backends), &injector), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_backends_free(G(ra_host_backends)), RA_RESULT_INVALID_HANDLE);
    CHECK_OK(ra_host_backends_free(NULL));
    EXPECT(ra_host_backends_use_screen_capturer(NULL, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_backends_use_screen_capturer(G(ra_host_backends), NULL), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_backends_use_system_injector(NULL, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_backends_use_system_injector(G(ra_host_backends), NULL), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_backends_set_panic_key(NULL, NULL, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_backends_set_panic_key(G(ra_host_backends), NULL, NULL), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_backends_set_wayland_api(NULL, RA_WAYLAND_API_MUTTER), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_backends_set_wayland_api(G(ra_host_backends), RA_WAYLAND_API_MUTTER), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_backends_set_local_user_wins_ms(NULL, NULL, 1500), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_backends_set_local_user_wins_ms(G(ra_host_backends), NULL, 1500),
           RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_backends_use_system_clipboard(NULL, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_backends_use_system_clipboard(G(ra_host_backends), NULL), RA_RESULT_INVALID_HANDLE);

    ra_host_backends *b = NULL;
    CHECK_OK(ra_host_backends_new(&b));
    EXPECT(ra_host_backends_use_synthetic_capturer(b, 8, 64, 30), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_host_backends_use_synthetic_capturer(b, 64, 9000, 30), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_host_backends_use_synthetic_capturer(b, 64, 64, 0.0), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_host_backends_use_synthetic_capturer(b, 64, 64, 1.0 / 0.0), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_host_backends_set_capturer(b, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_backends_set_capturer(b, &capturer), RA_RESULT_INVALID_ARGUMENT); /* no next_frame */
    EXPECT(ra_host_backends_set_encoder(b, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_backends_set_encoder(b, &encoder), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_host_backends_set_injector(b, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_backends_set_injector(b, &injector), RA_RESULT_INVALID_ARGUMENT);
    capturer.next_frame = no_frame;
    CHECK_OK(ra_host_backends_set_capturer(b, &capturer));
    CHECK_OK(ra_host_backends_use_log_injector(b));
    CHECK_OK(ra_host_backends_use_null_injector(b));
    CHECK_OK(ra_host_backends_use_openh264_encoder(b));
    /* The desk: nothing touches a display before a session starts. */
    EXPECT(ra_host_backends_set_panic_key(b, NULL, "ctrl+alt"), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_host_backends_set_panic_key(b, NULL, "\xff"), RA_RESULT_INVALID_UTF8);
    EXPECT(ra_host_backends_set_panic_key(b, "\xff", NULL), RA_RESULT_INVALID_UTF8);
    CHECK_OK(ra_host_backends_set_panic_key(b, ":4095", "super+f12"));
    CHECK_OK(ra_host_backends_set_local_user_wins_ms(b, ":4095", 1500));
    CHECK_OK(ra_host_backends_use_system_clipboard(b, ":4095"));
    /* The real screen and input: opened when a session starts, not before. */
    EXPECT(ra_host_backends_use_screen_capturer(b, "\xff"), RA_RESULT_INVALID_UTF8);
    CHECK_OK(ra_host_backends_use_screen_capturer(b, ":4095"));
    CHECK_OK(ra_host_backends_use_system_injector(b, ":4095"));
    /* How a Wayland desktop's session is opened: one of the two, nothing else. */
    EXPECT(ra_host_backends_set_wayland_api(b, 0), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_host_backends_set_wayland_api(b, 3), RA_RESULT_INVALID_ARGUMENT);
    CHECK_OK(ra_host_backends_set_wayland_api(b, RA_WAYLAND_API_MUTTER));
    CHECK_OK(ra_host_backends_set_wayland_api(b, RA_WAYLAND_API_PORTAL));
    CHECK_OK(ra_host_backends_free(b));
}

static void test_stats(void) {
    ra_session_stats stats = RA_SIZED(ra_session_stats);
    stats.frames_sent = 7;
    EXPECT(ra_host_get_stats(NULL, &stats), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_get_stats(G(ra_host), &stats), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_helper_get_stats(NULL, &stats), RA_RESULT_NULL_POINTER);
    EXPECT(ra_helper_get_stats(G(ra_helper), &stats), RA_RESULT_INVALID_HANDLE);
    CHECK(stats.struct_size == sizeof stats && stats.frames_sent == 7);

    /* A host with no helper yet: nothing counted, no round trip known; an
     * unset struct_size is refused, a NULL out too. */
    ra_host *host = NULL;
    ra_invite_options *options = NULL;
    CHECK_OK(ra_invite_options_new(&options));
    CHECK_OK(ra_invite_options_set_listen(options, "127.0.0.1:0"));
    CHECK_OK(ra_host_invite(options, NULL, &host));
    CHECK_OK(ra_invite_options_free(options));
    CHECK(host != NULL);
    if (host == NULL) {
        return;
    }
    EXPECT(ra_host_get_stats(host, NULL), RA_RESULT_NULL_POINTER);
    ra_session_stats unset;
    memset(&unset, 0, sizeof unset);
    EXPECT(ra_host_get_stats(host, &unset), RA_RESULT_INVALID_ARGUMENT);
    CHECK_OK(ra_host_get_stats(host, &stats));
    CHECK(stats.frames_sent == 0 && stats.rtt_us == 0 && stats.bytes_sent == 0);
    CHECK_OK(ra_host_free(host));
}

static void test_diagnose(void) {
    ra_diagnosis *d = NULL;
    ra_diagnosis_check check = RA_SIZED(ra_diagnosis_check);
    uint8_t ok = 0;
    const char *text = NULL;
    size_t count = 0;
    EXPECT(ra_diagnose(NULL, &d), RA_RESULT_NULL_POINTER);
    EXPECT(ra_diagnose(G(ra_broker_options), &d), RA_RESULT_INVALID_HANDLE);
    ra_broker_options *untrusted = NULL;
    CHECK_OK(ra_broker_options_new("127.0.0.1:9", &untrusted));
    EXPECT(ra_diagnose(untrusted, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_diagnose(untrusted, &d), RA_RESULT_INVALID_ARGUMENT); /* no trust pinned */
    CHECK(d == NULL);
    CHECK_OK(ra_broker_options_free(untrusted));
    EXPECT(ra_diagnosis_get_verdict(NULL, &ok, &text), RA_RESULT_NULL_POINTER);
    EXPECT(ra_diagnosis_get_verdict(G(ra_diagnosis), &ok, &text), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_diagnosis_get_check_count(NULL, &count), RA_RESULT_NULL_POINTER);
    EXPECT(ra_diagnosis_get_check_count(G(ra_diagnosis), &count), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_diagnosis_get_check(NULL, 0, &check), RA_RESULT_NULL_POINTER);
    EXPECT(ra_diagnosis_get_check(G(ra_diagnosis), 0, &check), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_diagnosis_free(G(ra_diagnosis)), RA_RESULT_INVALID_HANDLE);
    CHECK_OK(ra_diagnosis_free(NULL));
}

static void test_events(void) {
    ra_host_event_data hd = RA_SIZED(ra_host_event_data);
    ra_helper_event_data d = RA_SIZED(ra_helper_event_data);
    static uint8_t buffer[64];
    ra_frame frame;
    memset(&frame, 0, sizeof frame);
    EXPECT(ra_host_event_get_data(NULL, &hd), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_event_get_data(G(ra_host_event), &hd), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_event_free(G(ra_host_event)), RA_RESULT_INVALID_HANDLE);
    CHECK_OK(ra_host_event_free(NULL));
    EXPECT(ra_helper_event_get_data(NULL, &d), RA_RESULT_NULL_POINTER);
    EXPECT(ra_helper_event_get_data(G(ra_helper_event), &d), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_helper_event_free(G(ra_helper_event)), RA_RESULT_INVALID_HANDLE);
    CHECK_OK(ra_helper_event_free(NULL));

    EXPECT(ra_frame_copy(NULL, buffer, sizeof buffer, 16), RA_RESULT_NULL_POINTER);
    EXPECT(ra_frame_copy(&frame, NULL, sizeof buffer, 16), RA_RESULT_NULL_POINTER);
    EXPECT(ra_frame_copy(&frame, buffer, sizeof buffer, 16), RA_RESULT_NULL_POINTER); /* data */
    static uint8_t pixels[4 * 4 * 4];
    frame.data = pixels;
    frame.width = 4;
    frame.height = 4;
    frame.stride = 8; /* < 4 * width */
    frame.len = sizeof pixels;
    EXPECT(ra_frame_copy(&frame, buffer, sizeof buffer, 16), RA_RESULT_INVALID_ARGUMENT);
    frame.stride = 16;
    frame.len = 10; /* too short for the geometry */
    EXPECT(ra_frame_copy(&frame, buffer, sizeof buffer, 16), RA_RESULT_INVALID_ARGUMENT);
    frame.len = sizeof pixels;
    EXPECT(ra_frame_copy(&frame, buffer, sizeof buffer, 8), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_frame_copy(&frame, buffer, 32, 16), RA_RESULT_BUFFER_TOO_SMALL);
    frame.width = 0;
    EXPECT(ra_frame_copy(&frame, buffer, sizeof buffer, 16), RA_RESULT_INVALID_ARGUMENT);
    frame.width = 4;
    CHECK_OK(ra_frame_copy(&frame, buffer, sizeof buffer, 16));
}

static void test_helper_arguments(ra_invitation *inv);

static void test_host(void) {
    ra_host *h = SENTINEL;
    ra_host_event *e = SENTINEL;
    ra_invitation *inv = SENTINEL;
    char *s = SENTINEL;
    uint16_t port = 7;
    ra_host *host = G(ra_host);
    EXPECT(ra_host_invite(NULL, NULL, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_invite(G(ra_invite_options), NULL, &h), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_invite(NULL, G(ra_host_backends), &h), RA_RESULT_INVALID_HANDLE);
    CHECK(h == SENTINEL);
    EXPECT(ra_host_get_invitation(NULL, &inv), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_get_invitation(host, &inv), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_get_password(NULL, &s), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_get_password(host, &s), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_get_port(NULL, &port), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_get_port(host, &port), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_next_event(NULL, 0, &e), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_next_event(host, 0, &e), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_set_event_callback(NULL, NULL, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_set_event_callback(host, NULL, NULL), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_approve(NULL, 1), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_approve(host, 1), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_deny(NULL, 1), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_deny(host, 1), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_grant_control(NULL, 1), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_grant_control_with(NULL, 1, RA_SCOPE_ALL, 0), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_grant_control(host, 1), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_grant_control_with(host, 1, RA_SCOPE_ALL, 0), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_deny_control(NULL, 1), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_deny_control(host, 1), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_revoke(NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_revoke(host), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_revoke_panic_key(NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_revoke_panic_key(host), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_local_input_seen(NULL, 1000), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_local_input_seen(host, 1000), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_pause(NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_pause(host), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_resume(NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_resume(host), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_chat(NULL, "x"), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_chat(host, "x"), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_end(NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_end(host), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_close_invitation(NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_close_invitation(host), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_set_policy(NULL, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_set_policy(host, NULL), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_set_redactions(NULL, NULL, 0), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_set_redactions(host, NULL, 0), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_set_redacted_windows(NULL, NULL, 0), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_set_redacted_windows(host, NULL, 0), RA_RESULT_INVALID_HANDLE);
    ra_code_info info = {sizeof(ra_code_info), SENTINEL, 7, 7};
    EXPECT(ra_host_get_code_info(NULL, &info), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_get_code_info(host, &info), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_set_clipboard_sharing(NULL, 1), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_set_clipboard_sharing(host, 1), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_send_clipboard(NULL, "x"), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_send_clipboard(host, "x"), RA_RESULT_INVALID_HANDLE);
    static const uint8_t key[32] = {1};
    EXPECT(ra_host_issue_resume_ticket(NULL, key, 32, 60000, "/tmp/t"), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_issue_resume_ticket(host, key, 32, 60000, "/tmp/t"), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_resume_from_ticket(NULL, key, 32, NULL, NULL, &h), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_resume_from_ticket("/tmp/t", NULL, 32, NULL, NULL, &h),
           RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_resume_from_ticket("/tmp/t", key, 31, NULL, NULL, &h),
           RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_host_resume_from_ticket(bad_utf8, key, 32, NULL, NULL, &h), RA_RESULT_INVALID_UTF8);
    EXPECT(ra_host_resume_from_ticket("/tmp/t", key, 32, NULL, NULL, NULL),
           RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_resume_from_ticket("/tmp/t", key, 32, G(ra_invite_options), NULL, &h),
           RA_RESULT_INVALID_HANDLE);
    /* The default policy allows no resume tickets: the file is left alone. */
    EXPECT(ra_host_resume_from_ticket("/nonexistent/ra-ticket", key, 32, NULL, NULL, &h),
           RA_RESULT_POLICY);
    ra_invite_options *resuming = NULL;
    ra_policy *tickets_on = NULL;
    CHECK_OK(ra_invite_options_new(&resuming));
    CHECK_OK(ra_policy_from_toml("allow_resume_tickets = true", &tickets_on));
    CHECK_OK(ra_invite_options_set_policy(resuming, tickets_on));
    EXPECT(ra_host_resume_from_ticket("/nonexistent/ra-ticket", key, 32, resuming, NULL, &h),
           RA_RESULT_IO);
    CHECK(strstr(ra_last_error_message(), "no resume ticket") != NULL);
    CHECK_OK(ra_policy_free(tickets_on));
    CHECK_OK(ra_invite_options_free(resuming));
    EXPECT(ra_host_free(host), RA_RESULT_INVALID_HANDLE);
    CHECK_OK(ra_host_free(NULL));
    CHECK(h == SENTINEL);
    CHECK(e == SENTINEL && inv == SENTINEL && s == SENTINEL && port == 7);
    CHECK(info.code == SENTINEL && info.expires_at_unix == 7 && info.path == 7);

    /* A real host: its other arguments. */
    ra_invite_options *o = NULL;
    ra_policy *off = NULL;
    CHECK_OK(ra_invite_options_new(&o));
    CHECK_OK(ra_invite_options_set_listen(o, "127.0.0.1:0"));
    CHECK_OK(ra_policy_from_toml("allow_assistance = false", &off));
    CHECK_OK(ra_invite_options_set_policy(o, off));
    EXPECT(ra_host_invite(o, NULL, &h), RA_RESULT_POLICY);
    CHECK(h == SENTINEL);
    CHECK_OK(ra_policy_free(off));
    CHECK_OK(ra_invite_options_set_host_name(o, "  "));
    ra_policy *on = NULL;
    CHECK_OK(ra_policy_new(&on));
    CHECK_OK(ra_invite_options_set_policy(o, on));
    EXPECT(ra_host_invite(o, NULL, &h), RA_RESULT_INVALID_INVITATION);
    CHECK_OK(ra_invite_options_set_host_name(o, "robust host"));
    CHECK_OK(ra_invite_options_set_listen(o, "203.0.113.1:0")); /* not ours */
    EXPECT(ra_host_invite(o, NULL, &h), RA_RESULT_BIND);
    CHECK_OK(ra_invite_options_set_listen(o, "127.0.0.1:0"));
    /* A rendezvous broker that is not pinned, then one that is not there. */
    ra_broker_options *nowhere = NULL;
    CHECK_OK(ra_broker_options_new("127.0.0.1:9", &nowhere));
    CHECK_OK(ra_invite_options_set_rendezvous(o, nowhere));
    EXPECT(ra_host_invite(o, NULL, &h), RA_RESULT_INVALID_ARGUMENT);
    CHECK_OK(ra_broker_options_set_fingerprint(
        nowhere, "sha256:0000000000000000000000000000000000000000000000000000000000000000"));
    CHECK_OK(ra_broker_options_set_connect_timeout_ms(nowhere, 200));
    CHECK_OK(ra_invite_options_set_rendezvous(o, nowhere));
    EXPECT(ra_host_invite(o, NULL, &h), RA_RESULT_BROKER);
    CHECK(h == SENTINEL);
    CHECK_OK(ra_invite_options_set_rendezvous(o, NULL));
    CHECK_OK(ra_broker_options_free(nowhere));
    ra_host *real = NULL;
    CHECK_OK(ra_host_invite(o, NULL, &real));
    CHECK_OK(ra_invite_options_free(o));
    if (real) {
        EXPECT(ra_host_get_invitation(real, NULL), RA_RESULT_NULL_POINTER);
        EXPECT(ra_host_get_password(real, NULL), RA_RESULT_NULL_POINTER);
        EXPECT(ra_host_get_port(real, NULL), RA_RESULT_NULL_POINTER);
        EXPECT(ra_host_next_event(real, 0, NULL), RA_RESULT_NULL_POINTER);
        EXPECT(ra_host_next_event(real, 0, &e), RA_RESULT_TIMEOUT);
        EXPECT(ra_host_next_event(real, 1, &e), RA_RESULT_TIMEOUT);
        CHECK(e == SENTINEL);
        EXPECT(ra_host_approve(real, 12345), RA_RESULT_NO_SESSION);
        EXPECT(ra_host_deny(real, 12345), RA_RESULT_NO_SESSION);
        EXPECT(ra_host_grant_control(real, 12345), RA_RESULT_NO_SESSION);
    EXPECT(ra_host_grant_control_with(real, 12345, RA_SCOPE_POINTER, 1000), RA_RESULT_NO_SESSION);
    EXPECT(ra_host_grant_control_with(real, 12345, 0, 0), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_host_grant_control_with(real, 12345, 0x80, 0), RA_RESULT_INVALID_ARGUMENT);
        EXPECT(ra_host_deny_control(real, 12345), RA_RESULT_NO_SESSION);
        CHECK(ra_host_revoke(real) != RA_RESULT_OK);
        CHECK(ra_host_revoke_panic_key(real) != RA_RESULT_OK);
        CHECK(ra_host_pause(real) != RA_RESULT_OK);
        CHECK(ra_host_resume(real) != RA_RESULT_OK);
        CHECK(ra_host_end(real) != RA_RESULT_OK);
        EXPECT(ra_host_chat(real, NULL), RA_RESULT_NULL_POINTER);
        EXPECT(ra_host_chat(real, bad_utf8), RA_RESULT_INVALID_UTF8);
        EXPECT(ra_host_set_policy(real, NULL), RA_RESULT_NULL_POINTER);
        EXPECT(ra_host_set_policy(real, G(ra_policy)), RA_RESULT_INVALID_HANDLE);
        CHECK_OK(ra_host_set_policy(real, on));
        ra_rect rects[RA_MAX_REDACTIONS + 1];
        memset(rects, 0, sizeof rects);
        for (size_t i = 0; i <= RA_MAX_REDACTIONS; i++) {
            rects[i].width = rects[i].height = 8;
        }
        EXPECT(ra_host_set_redactions(real, NULL, 2), RA_RESULT_NULL_POINTER);
        EXPECT(ra_host_set_redactions(real, rects, RA_MAX_REDACTIONS + 1),
               RA_RESULT_INVALID_ARGUMENT);
        EXPECT(ra_host_set_redactions(real, rects, SIZE_MAX), RA_RESULT_INVALID_ARGUMENT);
        rects[1].height = 0;
        EXPECT(ra_host_set_redactions(real, rects, 2), RA_RESULT_INVALID_ARGUMENT);
        CHECK_OK(ra_host_set_redactions(real, rects, 1));
        CHECK_OK(ra_host_set_redactions(real, NULL, 0));
        const char *classes[] = {"KeePassXC", NULL, ""};
        EXPECT(ra_host_set_redacted_windows(real, NULL, 1), RA_RESULT_NULL_POINTER);
        EXPECT(ra_host_set_redacted_windows(real, classes, 2), RA_RESULT_NULL_POINTER);
        EXPECT(ra_host_set_redacted_windows(real, classes + 2, 1), RA_RESULT_INVALID_ARGUMENT);
        const char *bad[] = {bad_utf8};
        EXPECT(ra_host_set_redacted_windows(real, bad, 1), RA_RESULT_INVALID_UTF8);
        EXPECT(ra_host_set_redacted_windows(real, classes, SIZE_MAX), RA_RESULT_INVALID_ARGUMENT);
        CHECK_OK(ra_host_set_redacted_windows(real, classes, 1));
        CHECK_OK(ra_host_set_redacted_windows(real, NULL, 0));
        /* No code, no session, no clipboard in the default policy. */
        EXPECT(ra_host_get_code_info(real, NULL), RA_RESULT_NULL_POINTER);
        EXPECT(ra_host_get_code_info(real, &info), RA_RESULT_INVALID_STATE);
        EXPECT(ra_host_set_clipboard_sharing(real, 1), RA_RESULT_POLICY);
        EXPECT(ra_host_set_clipboard_sharing(real, 0), RA_RESULT_NO_SESSION);
        EXPECT(ra_host_send_clipboard(real, NULL), RA_RESULT_NULL_POINTER);
        EXPECT(ra_host_send_clipboard(real, bad_utf8), RA_RESULT_INVALID_UTF8);
        EXPECT(ra_host_send_clipboard(real, "x"), RA_RESULT_NO_SESSION);
        CHECK(info.code == SENTINEL);
        /* Resume tickets: off in the default policy; then no session yet. */
        static const uint8_t ticket_key[32] = {7};
        EXPECT(ra_host_issue_resume_ticket(real, ticket_key, 32, 60000, NULL),
               RA_RESULT_NULL_POINTER);
        EXPECT(ra_host_issue_resume_ticket(real, ticket_key, 16, 60000, "/tmp/ra-robust-ticket"),
               RA_RESULT_INVALID_ARGUMENT);
        EXPECT(ra_host_issue_resume_ticket(real, ticket_key, 32, 60000, bad_utf8),
               RA_RESULT_INVALID_UTF8);
        EXPECT(ra_host_issue_resume_ticket(real, ticket_key, 32, 60000, "/tmp/ra-robust-ticket"),
               RA_RESULT_POLICY);
        ra_policy *tickets = NULL;
        CHECK_OK(ra_policy_from_toml("allow_resume_tickets = true", &tickets));
        CHECK_OK(ra_host_set_policy(real, tickets));
        EXPECT(ra_host_issue_resume_ticket(real, ticket_key, 32, 60000, "/tmp/ra-robust-ticket"),
               RA_RESULT_NO_SESSION);
        CHECK_OK(ra_policy_free(tickets));

        CHECK_OK(ra_host_get_invitation(real, &inv));
        test_invitation_arguments(inv);
        test_helper_arguments(inv);
        CHECK_OK(ra_invitation_free(inv));
        CHECK_OK(ra_host_close_invitation(real));
        CHECK_OK(ra_host_free(real));
        EXPECT(ra_host_free(real), RA_RESULT_INVALID_HANDLE);
    }
    CHECK_OK(ra_policy_free(on));
}

static void test_helper(void) {
    ra_helper *h = SENTINEL;
    ra_helper_event *e = SENTINEL;
    char *s = SENTINEL;
    uint32_t state = 7;
    ra_helper *helper = G(ra_helper);
    ra_input_event input;
    memset(&input, 0, sizeof input);
    EXPECT(ra_helper_accept(NULL, "AAAA-AAAA-AAAA0", NULL, &h), RA_RESULT_NULL_POINTER);
    EXPECT(ra_helper_accept(G(ra_invitation), "AAAA-AAAA-AAAA0", NULL, &h),
           RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_helper_accept(G(ra_invitation), "AAAA-AAAA-AAAA0", NULL, NULL),
           RA_RESULT_NULL_POINTER);
    CHECK(h == SENTINEL);
    EXPECT(ra_helper_get_host_name(NULL, &s), RA_RESULT_NULL_POINTER);
    EXPECT(ra_helper_get_host_name(helper, &s), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_helper_get_control_state(NULL, &state), RA_RESULT_NULL_POINTER);
    EXPECT(ra_helper_get_control_state(helper, &state), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_helper_next_event(NULL, 0, &e), RA_RESULT_NULL_POINTER);
    EXPECT(ra_helper_next_event(helper, 0, &e), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_helper_set_event_callback(NULL, NULL, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_helper_set_event_callback(helper, NULL, NULL), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_helper_request_control(NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_helper_request_control_scopes(NULL, RA_SCOPE_ALL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_helper_request_control(helper), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_helper_request_control_scopes(helper, RA_SCOPE_ALL), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_helper_release_control(NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_helper_release_control(helper), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_helper_send_input(NULL, &input, 1), RA_RESULT_NULL_POINTER);
    EXPECT(ra_helper_send_input(helper, &input, 1), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_helper_chat(NULL, "x"), RA_RESULT_NULL_POINTER);
    EXPECT(ra_helper_chat(helper, "x"), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_helper_pointer(NULL, 1, 1, RA_POINTER_LASER), RA_RESULT_NULL_POINTER);
    EXPECT(ra_helper_pointer(helper, 1, 1, RA_POINTER_LASER), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_helper_select_display(NULL, 0), RA_RESULT_NULL_POINTER);
    EXPECT(ra_helper_select_display(helper, 0), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_helper_request_keyframe(NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_helper_request_keyframe(helper), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_helper_end(NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_helper_end(helper), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_helper_get_path(NULL, &state), RA_RESULT_NULL_POINTER);
    EXPECT(ra_helper_get_path(helper, &state), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_helper_send_clipboard(NULL, "x"), RA_RESULT_NULL_POINTER);
    EXPECT(ra_helper_send_clipboard(helper, "x"), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_helper_free(helper), RA_RESULT_INVALID_HANDLE);
    CHECK_OK(ra_helper_free(NULL));
    CHECK(e == SENTINEL && s == SENTINEL && state == 7);
}

#define CODE "7G2-KXW-4PQ-9RT"

static void test_broker_options(void) {
    ra_broker_options *b = SENTINEL;
    ra_broker_options *broker = G(ra_broker_options);
    static const uint8_t pem[] = "-----BEGIN CERTIFICATE-----\n";
    EXPECT(ra_broker_options_new(NULL, &b), RA_RESULT_NULL_POINTER);
    EXPECT(ra_broker_options_new("127.0.0.1:4433", NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_broker_options_new(bad_utf8, &b), RA_RESULT_INVALID_UTF8);
    EXPECT(ra_broker_options_new("broker.example:4433", &b), RA_RESULT_INVALID_ARGUMENT);
    CHECK(b == SENTINEL);
    EXPECT(ra_broker_options_set_fingerprint(NULL, "sha256:00"), RA_RESULT_NULL_POINTER);
    EXPECT(ra_broker_options_set_fingerprint(broker, "sha256:00"), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_broker_options_set_ca(NULL, pem, sizeof pem, "x"), RA_RESULT_NULL_POINTER);
    EXPECT(ra_broker_options_set_ca(broker, pem, sizeof pem, "x"), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_broker_options_set_bind(NULL, "127.0.0.1:0"), RA_RESULT_NULL_POINTER);
    EXPECT(ra_broker_options_set_bind(broker, "127.0.0.1:0"), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_broker_options_set_try_direct(NULL, 1), RA_RESULT_NULL_POINTER);
    EXPECT(ra_broker_options_set_try_direct(broker, 1), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_broker_options_set_direct_timeout_ms(NULL, 5), RA_RESULT_NULL_POINTER);
    EXPECT(ra_broker_options_set_direct_timeout_ms(broker, 5), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_broker_options_set_connect_timeout_ms(NULL, 5), RA_RESULT_NULL_POINTER);
    EXPECT(ra_broker_options_set_connect_timeout_ms(broker, 5), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_broker_options_set_code_lifetime_ms(NULL, 5), RA_RESULT_NULL_POINTER);
    EXPECT(ra_broker_options_set_code_lifetime_ms(broker, 5), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_broker_options_free(broker), RA_RESULT_INVALID_HANDLE);
    CHECK_OK(ra_broker_options_free(NULL));

    ra_broker_options *o = NULL;
    CHECK_OK(ra_broker_options_new("127.0.0.1:4433", &o));
    EXPECT(ra_broker_options_set_fingerprint(o, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_broker_options_set_fingerprint(o, bad_utf8), RA_RESULT_INVALID_UTF8);
    EXPECT(ra_broker_options_set_fingerprint(o, "sha256:zz"), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_broker_options_set_fingerprint(o, "md5:00"), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_broker_options_set_ca(o, NULL, 5, "x"), RA_RESULT_NULL_POINTER);
    EXPECT(ra_broker_options_set_ca(o, pem, 0, "x"), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_broker_options_set_ca(o, pem, SIZE_MAX, "x"), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_broker_options_set_ca(o, pem, sizeof pem, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_broker_options_set_ca(o, pem, sizeof pem, ""), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_broker_options_set_ca(o, pem, sizeof pem, bad_utf8), RA_RESULT_INVALID_UTF8);
    EXPECT(ra_broker_options_set_bind(o, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_broker_options_set_bind(o, "anywhere"), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_broker_options_set_direct_timeout_ms(o, 0), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_broker_options_set_connect_timeout_ms(o, 0), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_broker_options_set_code_lifetime_ms(o, 0), RA_RESULT_INVALID_ARGUMENT);
    CHECK_OK(ra_broker_options_set_try_direct(o, 0));
    CHECK_OK(ra_broker_options_set_direct_timeout_ms(o, 500));
    CHECK_OK(ra_broker_options_set_code_lifetime_ms(o, 60000));

    /* Unpinned, the broker is not even asked. */
    ra_host *h = SENTINEL;
    ra_helper *hp = SENTINEL;
    ra_assist_offer *offer = SENTINEL;
    EXPECT(ra_host_easy_connect(o, NULL, NULL, &h), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_host_join(o, CODE, NULL, NULL, &h), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_helper_easy_connect(o, CODE, NULL, &hp), RA_RESULT_INVALID_ARGUMENT);
    EXPECT(ra_helper_assist(o, NULL, &offer), RA_RESULT_INVALID_ARGUMENT);
    CHECK(h == SENTINEL && hp == SENTINEL && offer == SENTINEL);
    /* A CA-trusted broker: a certificate that is no certificate is refused
     * when connecting. */
    CHECK_OK(ra_broker_options_set_ca(o, pem, sizeof pem, "broker.example"));
    CHECK_OK(ra_broker_options_free(o));
}

/* The code-flow entry points with bad arguments, and against a broker that
 * does not answer (nothing listens on 127.0.0.1:9). */
static void test_code_flows(void) {
    ra_host *h = SENTINEL;
    ra_helper *hp = SENTINEL;
    ra_assist_offer *offer = SENTINEL;
    ra_code_info info = {sizeof(ra_code_info), SENTINEL, 7, 7};
    ra_broker_options *garbage = G(ra_broker_options);
    EXPECT(ra_host_easy_connect(NULL, NULL, NULL, &h), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_easy_connect(garbage, NULL, NULL, &h), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_easy_connect(garbage, NULL, NULL, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_join(NULL, CODE, NULL, NULL, &h), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_join(garbage, CODE, NULL, NULL, &h), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_join(garbage, CODE, NULL, NULL, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_helper_easy_connect(NULL, CODE, NULL, &hp), RA_RESULT_NULL_POINTER);
    EXPECT(ra_helper_easy_connect(garbage, CODE, NULL, &hp), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_helper_easy_connect(garbage, CODE, NULL, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_helper_assist(NULL, NULL, &offer), RA_RESULT_NULL_POINTER);
    EXPECT(ra_helper_assist(garbage, NULL, &offer), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_helper_assist(garbage, NULL, NULL), RA_RESULT_NULL_POINTER);
    EXPECT(ra_assist_offer_get_code_info(NULL, &info), RA_RESULT_NULL_POINTER);
    EXPECT(ra_assist_offer_get_code_info(G(ra_assist_offer), &info), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_assist_offer_wait(NULL, 0, &hp), RA_RESULT_NULL_POINTER);
    EXPECT(ra_assist_offer_wait(G(ra_assist_offer), 0, &hp), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_assist_offer_free(G(ra_assist_offer)), RA_RESULT_INVALID_HANDLE);
    CHECK_OK(ra_assist_offer_free(NULL));

    ra_broker_options *silent = NULL;
    CHECK_OK(ra_broker_options_new("127.0.0.1:9", &silent));
    CHECK_OK(ra_broker_options_set_fingerprint(
        silent, "sha256:0000000000000000000000000000000000000000000000000000000000000000"));
    CHECK_OK(ra_broker_options_set_bind(silent, "127.0.0.1:0"));
    CHECK_OK(ra_broker_options_set_connect_timeout_ms(silent, 300));
    /* Codes as people mistype them, refused before any network. */
    EXPECT(ra_host_join(silent, NULL, NULL, NULL, &h), RA_RESULT_NULL_POINTER);
    EXPECT(ra_host_join(silent, "7G2-KXW", NULL, NULL, &h), RA_RESULT_INVALID_CODE);
    EXPECT(ra_host_join(silent, bad_utf8, NULL, NULL, &h), RA_RESULT_INVALID_UTF8);
    EXPECT(ra_helper_easy_connect(silent, NULL, NULL, &hp), RA_RESULT_NULL_POINTER);
    EXPECT(ra_helper_easy_connect(silent, "7G2-KUW-4PQ-9RT", NULL, &hp), RA_RESULT_INVALID_CODE);
    EXPECT(ra_helper_easy_connect(silent, " - ", NULL, &hp), RA_RESULT_INVALID_CODE);
    EXPECT(ra_helper_easy_connect(silent, bad_utf8, NULL, &hp), RA_RESULT_INVALID_UTF8);
    /* Handles of the wrong kind where options and backends go. */
    EXPECT(ra_host_easy_connect(silent, G(ra_invite_options), NULL, &h), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_easy_connect(silent, NULL, G(ra_host_backends), &h), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_join(silent, CODE, G(ra_invite_options), NULL, &h), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_host_join(silent, CODE, NULL, G(ra_host_backends), &h), RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_helper_easy_connect(silent, CODE, G(ra_accept_options), &hp),
           RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_helper_assist(silent, G(ra_accept_options), &offer), RA_RESULT_INVALID_HANDLE);
    /* A policy without assistance: no code is even asked for. */
    ra_invite_options *o = NULL;
    ra_policy *off = NULL;
    CHECK_OK(ra_invite_options_new(&o));
    CHECK_OK(ra_policy_from_toml("allow_assistance = false", &off));
    CHECK_OK(ra_invite_options_set_policy(o, off));
    EXPECT(ra_host_easy_connect(silent, o, NULL, &h), RA_RESULT_POLICY);
    EXPECT(ra_host_join(silent, CODE, o, NULL, &h), RA_RESULT_POLICY);
    CHECK_OK(ra_policy_free(off));
    CHECK_OK(ra_invite_options_free(o));
    /* Nobody answers. */
    EXPECT(ra_host_easy_connect(silent, NULL, NULL, &h), RA_RESULT_BROKER);
    EXPECT(ra_host_join(silent, CODE, NULL, NULL, &h), RA_RESULT_BROKER);
    EXPECT(ra_helper_easy_connect(silent, CODE, NULL, &hp), RA_RESULT_BROKER);
    EXPECT(ra_helper_assist(silent, NULL, &offer), RA_RESULT_BROKER);
    CHECK(h == SENTINEL && hp == SENTINEL && offer == SENTINEL && info.code == SENTINEL);
    CHECK_OK(ra_broker_options_free(silent));
}

/* A real offer and a real Easy Connect host, for their other arguments. */
static void test_code_arguments(void) {
    const char *address = getenv("RA_TEST_BROKER");
    const char *fingerprint = getenv("RA_TEST_BROKER_FINGERPRINT");
    CHECK(address != NULL && fingerprint != NULL);
    if (!address || !fingerprint) {
        fprintf(stderr, "RA_TEST_BROKER is not set: run this test through ra-ffi/tests/run.sh\n");
        return;
    }
    ra_broker_options *broker = NULL;
    CHECK_OK(ra_broker_options_new(address, &broker));
    CHECK_OK(ra_broker_options_set_fingerprint(broker, fingerprint));
    CHECK_OK(ra_broker_options_set_bind(broker, "127.0.0.1:0"));
    ra_assist_offer *offer = NULL;
    CHECK_OK(ra_helper_assist(broker, NULL, &offer));
    if (offer) {
        ra_helper *hp = SENTINEL;
        EXPECT(ra_assist_offer_get_code_info(offer, NULL), RA_RESULT_NULL_POINTER);
        EXPECT(ra_assist_offer_wait(offer, 0, NULL), RA_RESULT_NULL_POINTER);
        EXPECT(ra_assist_offer_wait(offer, 0, &hp), RA_RESULT_TIMEOUT);
        EXPECT(ra_assist_offer_wait(offer, 20, &hp), RA_RESULT_TIMEOUT);
        CHECK(hp == SENTINEL);
        EXPECT(ra_assist_offer_free((ra_assist_offer *)(void *)broker), RA_RESULT_INVALID_HANDLE);
        CHECK_OK(ra_assist_offer_free(offer));
        EXPECT(ra_assist_offer_free(offer), RA_RESULT_INVALID_HANDLE);
    }
    ra_host *host = NULL;
    CHECK_OK(ra_host_easy_connect(broker, NULL, NULL, &host));
    if (host) {
        ra_invitation *inv = SENTINEL;
        EXPECT(ra_host_get_code_info(host, NULL), RA_RESULT_NULL_POINTER);
        EXPECT(ra_host_get_invitation(host, &inv), RA_RESULT_INVALID_STATE);
        CHECK(inv == SENTINEL);
        EXPECT(ra_host_set_clipboard_sharing(host, 0), RA_RESULT_NO_SESSION);
        CHECK_OK(ra_host_close_invitation(host));
        CHECK_OK(ra_host_free(host));
    }
    CHECK_OK(ra_broker_options_free(broker));
}

/* Accepting a real invitation with bad arguments, then a wrong password. */
static void test_helper_arguments(ra_invitation *inv) {
    ra_helper *h = SENTINEL;
    ra_accept_options *o = NULL;
    CHECK_OK(ra_accept_options_new(&o));
    CHECK_OK(ra_accept_options_set_connect_timeout_ms(o, 5000));
    EXPECT(ra_helper_accept(inv, NULL, o, &h), RA_RESULT_NULL_POINTER);
    EXPECT(ra_helper_accept(inv, bad_utf8, o, &h), RA_RESULT_INVALID_UTF8);
    EXPECT(ra_helper_accept(inv, "too-short", o, &h), RA_RESULT_INVALID_PASSWORD);
    EXPECT(ra_helper_accept(inv, "AAAA-AAAA-AAAA0", G(ra_accept_options), &h),
           RA_RESULT_INVALID_HANDLE);
    EXPECT(ra_helper_accept(inv, "AAAA-AAAA-AAAA0", o, &h), RA_RESULT_WRONG_PASSWORD);
    CHECK(h == SENTINEL);
    CHECK_OK(ra_accept_options_free(o));
}

int main(void) {
    memset(garbage, 0xA5, sizeof garbage);
    test_basics();
    test_log_callback_replaced_while_running();
    test_policy();
    test_invitation();
    test_receipt_and_audit();
    test_options();
    test_backends();
    test_events();
    test_diagnose();
    test_stats();
    test_host();
    test_helper();
    test_broker_options();
    test_code_flows();
    test_code_arguments();
    return summary();
}
