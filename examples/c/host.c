/* ra-host in plain C: share this screen (the synthetic test pattern) with a
 * helper.
 *
 *   ra_host_c INVITATION_FILE [--yes]
 *
 * Saves the invitation, prints "password: XXXX-XXXX-XXXXX", then answers the
 * helper's requests: with --yes it lets the helper in and grants control at
 * once, otherwise it asks on stdin. Prints each event; exits when the
 * session ends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ra.h"

static int fail(const char *what, ra_result r) {
    fprintf(stderr, "%s: %s (%s)\n", what, ra_result_message(r), ra_last_error_message());
    return 1;
}

static int ask(const char *question, int yes) {
    char line[16];
    if (yes) {
        return 1;
    }
    printf("%s [y/n] ", question);
    fflush(stdout);
    return fgets(line, sizeof line, stdin) != NULL && (line[0] == 'y' || line[0] == 'Y');
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s INVITATION_FILE [--yes]\n", argv[0]);
        return 2;
    }
    int yes = argc > 2 && strcmp(argv[2], "--yes") == 0;

    ra_invite_options *options = NULL;
    ra_result r = ra_invite_options_new(&options);
    if (r == RA_RESULT_OK) r = ra_invite_options_set_host_name(options, "C example host");
    if (r == RA_RESULT_OK) r = ra_invite_options_set_listen(options, "127.0.0.1:0");
    if (r != RA_RESULT_OK) return fail("options", r);

    ra_host *host = NULL;
    r = ra_host_invite(options, NULL, &host); /* NULL: synthetic capture, OpenH264, no injection */
    ra_invite_options_free(options);
    if (r != RA_RESULT_OK) return fail("invite", r);

    ra_invitation *invitation = NULL;
    char *password = NULL;
    if ((r = ra_host_get_invitation(host, &invitation)) != RA_RESULT_OK ||
        (r = ra_invitation_save(invitation, argv[1])) != RA_RESULT_OK ||
        (r = ra_host_get_password(host, &password)) != RA_RESULT_OK) {
        ra_host_free(host);
        return fail("invitation", r);
    }
    ra_invitation_free(invitation);
    printf("invitation: %s\npassword: %s\n", argv[1], password);
    fflush(stdout);
    ra_string_free(password);

    int done = 0;
    while (!done) {
        ra_host_event *event = NULL;
        r = ra_host_next_event(host, RA_TIMEOUT_INFINITE, &event);
        if (r != RA_RESULT_OK) break;
        ra_host_event_data e = RA_SIZED(ra_host_event_data);
        ra_host_event_get_data(event, &e);
        printf("event: %s\n", e.description);
        fflush(stdout);
        switch (e.kind) {
        case RA_HOST_EVENT_CONNECTION_REQUEST:
            if (ask("let the helper in?", yes)) ra_host_approve(host, e.connection);
            else ra_host_deny(host, e.connection);
            break;
        case RA_HOST_EVENT_CONTROL_REQUESTED:
            if (ask("give the helper control?", yes)) ra_host_grant_control(host, e.connection);
            else ra_host_deny_control(host, e.connection);
            break;
        case RA_HOST_EVENT_ENDED:
            done = e.reason != RA_END_AUTH_FAILED; /* a wrong password may be retried */
            break;
        default:
            break;
        }
        ra_host_event_free(event);
    }
    r = ra_host_free(host);
    return r == RA_RESULT_OK ? 0 : fail("free", r);
}
