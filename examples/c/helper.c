/* ra-helper in plain C: connect with an invitation file and the password,
 * take a few frames, ask for control, move the pointer, and leave.
 *
 *   ra_helper_c INVITATION_FILE PASSWORD [FRAMES]
 *
 * Frames are polled here; ra_helper_set_event_callback delivers them to a
 * callback instead. */
#include <stdio.h>
#include <stdlib.h>

#include "ra.h"

static int fail(const char *what, ra_result r) {
    fprintf(stderr, "%s: %s (%s)\n", what, ra_result_message(r), ra_last_error_message());
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s INVITATION_FILE PASSWORD [FRAMES]\n", argv[0]);
        return 2;
    }
    long wanted = argc > 3 ? strtol(argv[3], NULL, 10) : 5;

    ra_invitation *invitation = NULL;
    ra_result r = ra_invitation_load(argv[1], &invitation);
    if (r != RA_RESULT_OK) return fail("invitation", r);
    ra_helper *helper = NULL;
    r = ra_helper_accept(invitation, argv[2], NULL, &helper); /* waits for the host's yes */
    ra_invitation_free(invitation);
    if (r != RA_RESULT_OK) return fail("accept", r);
    printf("connected\n");

    long frames = 0;
    int asked = 0;
    while (frames < wanted) {
        ra_helper_event *event = NULL;
        r = ra_helper_next_event(helper, 10000, &event);
        if (r != RA_RESULT_OK) break;
        ra_helper_event_data e = RA_SIZED(ra_helper_event_data);
        ra_helper_event_get_data(event, &e);
        if (e.kind == RA_HELPER_EVENT_FRAME) {
            frames++;
            printf("frame %llu: %ux%u, stride %zu, %zu damage rects\n", (unsigned long long)e.seq,
                   e.frame.width, e.frame.height, e.frame.stride, e.frame.damage_len);
            if (!asked) {
                asked = ra_helper_request_control(helper) == RA_RESULT_OK;
            }
        } else {
            printf("event: %s\n", e.description);
            if (e.kind == RA_HELPER_EVENT_CONTROL_GRANTED) {
                ra_input_event move = {RA_INPUT_POINTER_MOVE, 100, 100, 0, 0, 0, NULL};
                ra_helper_send_input(helper, &move, 1);
            }
            if (e.kind == RA_HELPER_EVENT_ENDED) frames = wanted;
        }
        fflush(stdout);
        ra_helper_event_free(event);
    }
    r = ra_helper_free(helper); /* ends the session and tells the host */
    printf("done: %ld frames\n", frames);
    return r == RA_RESULT_OK && frames > 0 ? 0 : 1;
}
