/* A verified helper, a scoped and time-boxed grant, and what the session
 * leaves behind, all from C: the organisation and Jane's identity are made
 * with ra-org (RA_TEST_ORG, as run.sh sets it); the host trusts the
 * organisation and keeps an audit log; Jane is shown as verified, gets a
 * pointer-only grant for 10 minutes, and when the host ends the session both
 * sides hold the same receipt, countersigned. ra_receipt_verify checks it
 * (against the invitation and the organisation) and refuses a changed byte,
 * another organisation and another invitation; ra_audit_verify checks the
 * log with the receipt and finds an edited line and lines cut from the end. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "kit.h"

/* Runs `command`; its whole output (at most `size` - 1 bytes) in `out`. */
static int run(const char *command, char *out, size_t size) {
    FILE *pipe = popen(command, "r");
    if (!pipe) {
        return 0;
    }
    size_t used = fread(out, 1, size - 1, pipe);
    out[used] = 0;
    return pclose(pipe) == 0;
}

/* A new organisation's public key ("raorg1-…") in `key`, its private key
 * file at `path`. */
static int new_organisation(const char *org, const char *name, const char *path, char *key,
                            size_t size) {
    char command[1024], output[2048];
    snprintf(command, sizeof command, "'%s' new --json --name '%s' --out '%s'", org, name, path);
    if (!run(command, output, sizeof output)) {
        return 0;
    }
    const char *start = strstr(output, "\"public_key\":\"");
    if (!start) {
        return 0;
    }
    start += strlen("\"public_key\":\"");
    const char *end = strchr(start, '"');
    if (!end || (size_t)(end - start) >= size) {
        return 0;
    }
    memcpy(key, start, (size_t)(end - start));
    key[end - start] = 0;
    return 1;
}

/* The whole of a small file, NUL-terminated (free it); NULL if unreadable. */
static char *read_file(const char *path) {
    FILE *file = fopen(path, "rb");
    if (!file) {
        return NULL;
    }
    char *text = calloc(1, 1 << 20);
    size_t used = text ? fread(text, 1, (1 << 20) - 1, file) : 0;
    fclose(file);
    if (text) {
        text[used] = 0;
    }
    return text;
}

static int write_file(const char *path, const char *text, size_t len) {
    FILE *file = fopen(path, "wb");
    if (!file) {
        return 0;
    }
    int ok = fwrite(text, 1, len, file) == len;
    return fclose(file) == 0 && ok;
}

typedef struct {
    const char *token;
    const char *password;
    const char *identity;
    ra_helper *helper;
    ra_result result;
} identity_job;

/* Jane accepts the invitation with her identity. */
static void *accept_with_identity(void *arg) {
    identity_job *job = arg;
    ra_invitation *invitation = NULL;
    ra_accept_options *options = NULL;
    job->result = ra_invitation_from_token(job->token, &invitation);
    if (job->result == RA_RESULT_OK) {
        ra_accept_options_new(&options);
        ra_accept_options_set_name(options, "jane");
        job->result = ra_accept_options_set_identity(options, job->identity);
    }
    if (job->result == RA_RESULT_OK) {
        job->result = ra_helper_accept(invitation, job->password, options, &job->helper);
    }
    ra_accept_options_free(options);
    ra_invitation_free(invitation);
    return NULL;
}

/* Checks the receipt from C: valid against its invitation and organisation,
 * and each way of getting it wrong refused with a reason. */
static void check_receipt(const char *receipt, const ra_invitation *invitation, const char *org_key,
                          const char *other_org_key) {
    size_t len = strlen(receipt);
    char *report = NULL;
    CHECK_OK(ra_receipt_verify((const uint8_t *)receipt, len, invitation, org_key, &report));
    ENSURE(report != NULL);
    CHECK(strstr(report, "\"verified\":{\"organisation\":\"C IT\"") != NULL);
    CHECK(strstr(report, "\"helper\":\"Jane Doe\"") != NULL);
    CHECK(strstr(report, "\"countersigned\":true") != NULL);
    CHECK(strstr(report, "\"scopes\":\"pointer\"") != NULL);
    CHECK(strstr(report, "\"ended\":\"session_ended\"") != NULL);
    CHECK(strstr(report, "\"end_reason\":\"host_ended\"") != NULL);
    CHECK_OK(ra_string_free(report));
    /* Without anything to check against: still valid (the signatures hold). */
    CHECK_OK(ra_receipt_verify((const uint8_t *)receipt, len, NULL, NULL, NULL));

    /* One byte changed, at a few places: refused, and nothing written. */
    char *changed = malloc(len + 1);
    ENSURE(changed != NULL);
    size_t places[] = {len / 7, len / 3, len / 2, len - 3};
    for (size_t i = 0; i < sizeof places / sizeof places[0]; i++) {
        memcpy(changed, receipt, len + 1);
        changed[places[i]] = changed[places[i]] == 'A' ? 'B' : 'A';
        report = NULL;
        CHECK_RESULT(ra_receipt_verify((const uint8_t *)changed, len, invitation, NULL, &report),
                     RA_RESULT_INVALID_RECEIPT);
        CHECK(report == NULL);
    }
    free(changed);
    /* Cut short. */
    CHECK_RESULT(ra_receipt_verify((const uint8_t *)receipt, len - 1, NULL, NULL, NULL),
                 RA_RESULT_INVALID_RECEIPT);
    /* Another organisation. */
    CHECK_RESULT(ra_receipt_verify((const uint8_t *)receipt, len, NULL, other_org_key, NULL),
                 RA_RESULT_INVALID_RECEIPT);
    CHECK(strstr(ra_last_error_message(), "not verified as one of") != NULL);
}

/* Another host's invitation: the receipt is not of it. */
static void check_other_invitation(const char *receipt) {
    ra_host *other = NULL;
    ra_invite_options *options = NULL;
    CHECK_OK(ra_invite_options_new(&options));
    CHECK_OK(ra_invite_options_set_listen(options, "127.0.0.1:0"));
    CHECK_OK(ra_host_invite(options, NULL, &other));
    ra_invitation *invitation = NULL;
    CHECK_OK(ra_host_get_invitation(other, &invitation));
    CHECK_RESULT(ra_receipt_verify((const uint8_t *)receipt, strlen(receipt), invitation, NULL,
                                   NULL),
                 RA_RESULT_INVALID_RECEIPT);
    CHECK(strstr(ra_last_error_message(), "invitation") != NULL ||
          strstr(ra_last_error_message(), "host") != NULL);
    CHECK_OK(ra_invitation_free(invitation));
    CHECK_OK(ra_host_free(other));
    CHECK_OK(ra_invite_options_free(options));
}

/* The host's audit log: intact with the receipt; an edited line and lines
 * cut from its end are found. */
static void check_audit_log(const char *log_path, const char *receipt, const char *dir) {
    size_t len = strlen(receipt);
    char *report = NULL;
    CHECK_OK(ra_audit_verify(log_path, (const uint8_t *)receipt, len, &report));
    ENSURE(report != NULL);
    CHECK(strstr(report, "\"lines\":") != NULL && strstr(report, "\"sessions\":[{") != NULL);
    CHECK_OK(ra_string_free(report));

    char *log = read_file(log_path);
    ENSURE(log != NULL);
    size_t log_len = strlen(log);
    char edited_path[512], cut_path[512];
    snprintf(edited_path, sizeof edited_path, "%s/edited.log", dir);
    snprintf(cut_path, sizeof cut_path, "%s/cut.log", dir);

    /* Edit the second line: "approved" becomes "Approved", or any letter. */
    char *second = strchr(log, '\n');
    ENSURE(second != NULL && second[1] != 0);
    char *edited = malloc(log_len + 1);
    ENSURE(edited != NULL);
    memcpy(edited, log, log_len + 1);
    char *letter = strchr(edited + (second - log) + 1, 'e');
    ENSURE(letter != NULL);
    *letter = 'E';
    CHECK(write_file(edited_path, edited, log_len));
    CHECK_RESULT(ra_audit_verify(edited_path, NULL, 0, NULL), RA_RESULT_AUDIT_LOG_BROKEN);
    CHECK(strstr(ra_last_error_message(), "line ") != NULL);
    free(edited);

    /* Cut from the line that records the end: intact on its own, but short
     * of the receipt's head. */
    char *ended = strstr(log, "\"event\":\"ended\"");
    ENSURE(ended != NULL);
    while (ended > log && ended[-1] != '\n') {
        ended--;
    }
    CHECK(write_file(cut_path, log, (size_t)(ended - log)));
    CHECK_OK(ra_audit_verify(cut_path, NULL, 0, NULL));
    CHECK_RESULT(ra_audit_verify(cut_path, (const uint8_t *)receipt, len, NULL),
                 RA_RESULT_AUDIT_LOG_BROKEN);
    CHECK(strstr(ra_last_error_message(), "removed from its end") != NULL);
    free(log);
    unlink(edited_path);
    unlink(cut_path);
}

int main(void) {
    const char *org = getenv("RA_TEST_ORG");
    REQUIRE(org != NULL && "RA_TEST_ORG (the ra-org program) is not set: run through run.sh");
    char dir[] = "/tmp/ra-receipt-c-XXXXXX";
    REQUIRE(mkdtemp(dir) != NULL);
    char org_path[512], other_path[512], jane_path[512], log_path[512], command[2048], output[512];
    snprintf(org_path, sizeof org_path, "%s/org.key", dir);
    snprintf(other_path, sizeof other_path, "%s/other.key", dir);
    snprintf(jane_path, sizeof jane_path, "%s/jane.raid", dir);
    snprintf(log_path, sizeof log_path, "%s/audit.log", dir);
    char org_key[256], other_key[256];
    REQUIRE(new_organisation(org, "C IT", org_path, org_key, sizeof org_key));
    REQUIRE(new_organisation(org, "Elsewhere", other_path, other_key, sizeof other_key));
    snprintf(command, sizeof command, "'%s' issue --org '%s' --helper 'Jane Doe' --out '%s'", org,
             org_path, jane_path);
    REQUIRE(run(command, output, sizeof output));
    char *identity = read_file(jane_path);
    REQUIRE(identity != NULL);

    /* The host trusts the organisation and keeps an audit log. */
    char toml[512];
    snprintf(toml, sizeof toml, "trusted_orgs = [\"%s\"]\n", org_key);
    ra_policy *policy = NULL;
    CHECK_OK(ra_policy_from_toml(toml, &policy));
    ra_invite_options *options = NULL;
    CHECK_OK(ra_invite_options_new(&options));
    CHECK_OK(ra_invite_options_set_host_name(options, "C host"));
    CHECK_OK(ra_invite_options_set_listen(options, "127.0.0.1:0"));
    CHECK_OK(ra_invite_options_set_policy(options, policy));
    CHECK_OK(ra_invite_options_set_audit_log(options, log_path));
    ra_host_backends *backends = NULL;
    CHECK_OK(ra_host_backends_new(&backends));
    CHECK_OK(ra_host_backends_use_synthetic_capturer(backends, 64, 48, 10.0));
    ra_host *host = NULL;
    CHECK_OK(ra_host_invite(options, backends, &host));
    REQUIRE(host != NULL);
    CHECK_OK(ra_host_backends_free(backends));
    CHECK_OK(ra_invite_options_free(options));
    ra_invitation *invitation = NULL;
    char *token = NULL, *password = NULL;
    CHECK_OK(ra_host_get_invitation(host, &invitation));
    CHECK_OK(ra_invitation_to_token(invitation, &token));
    CHECK_OK(ra_host_get_password(host, &password));

    /* Jane connects with her identity: the host is told she is verified. */
    identity_job job = {token, password, identity, NULL, RA_RESULT_INTERNAL};
    pthread_t thread;
    REQUIRE(pthread_create(&thread, NULL, accept_with_identity, &job) == 0);
    ra_host_event *event = NULL;
    ra_host_event_data hd = RA_SIZED(ra_host_event_data);
    uint64_t conn = 0;
    CHECK(wait_host(host, RA_HOST_EVENT_CONNECTION_REQUEST, &hd, &event));
    if (event) {
        conn = hd.connection;
        CHECK(hd.verified == 1);
        CHECK(hd.organisation && strcmp(hd.organisation, "C IT") == 0);
        CHECK(hd.organisation_key && strcmp(hd.organisation_key, org_key) == 0);
        CHECK(hd.verified_helper && strcmp(hd.verified_helper, "Jane Doe") == 0);
        ra_host_event_free(event);
    }
    CHECK_OK(ra_host_approve(host, conn));
    pthread_join(thread, NULL);
    CHECK_OK(job.result);
    ra_helper *helper = job.helper;
    REQUIRE(helper != NULL);

    /* A pointer-only grant for 10 minutes. */
    ra_helper_event *hevent = NULL;
    ra_helper_event_data d = RA_SIZED(ra_helper_event_data);
    CHECK_OK(ra_helper_request_control(helper));
    CHECK(wait_host(host, RA_HOST_EVENT_CONTROL_REQUESTED, &hd, &event));
    ra_host_event_free(event);
    CHECK_OK(ra_host_grant_control_with(host, conn, RA_SCOPE_POINTER, 600000));
    CHECK(wait_helper(helper, RA_HELPER_EVENT_CONTROL_GRANTED, &d, &hevent));
    if (hevent) {
        CHECK(d.scopes == RA_SCOPE_POINTER && d.expires_in_ms > 0);
        ra_helper_event_free(hevent);
    }

    /* The host ends the session: both hold the same countersigned receipt. */
    CHECK_OK(ra_host_end(host));
    char *receipt = NULL;
    CHECK(wait_helper(helper, RA_HELPER_EVENT_RECEIPT, &d, &hevent));
    if (hevent) {
        CHECK(d.countersigned == 1);
        receipt = d.text ? strdup(d.text) : NULL;
        ra_helper_event_free(hevent);
    }
    CHECK(wait_host(host, RA_HOST_EVENT_RECEIPT, &hd, &event));
    if (event) {
        CHECK(hd.countersigned == 1);
        CHECK(hd.text && receipt && strcmp(hd.text, receipt) == 0);
        ra_host_event_free(event);
    }
    CHECK(wait_host(host, RA_HOST_EVENT_ENDED, &hd, &event));
    ra_host_event_free(event);
    CHECK_OK(ra_helper_free(helper));
    CHECK_OK(ra_host_free(host)); /* the audit log is complete */
    REQUIRE(receipt != NULL);

    check_receipt(receipt, invitation, org_key, other_key);
    check_other_invitation(receipt);
    check_audit_log(log_path, receipt, dir);

    free(receipt);
    free(identity);
    CHECK_OK(ra_string_free(token));
    CHECK_OK(ra_string_free(password));
    CHECK_OK(ra_invitation_free(invitation));
    CHECK_OK(ra_policy_free(policy));
    unlink(org_path);
    unlink(other_path);
    unlink(jane_path);
    unlink(log_path);
    rmdir(dir);
    return summary();
}
