/* The X client the bindings' screen tests drive (C++, C#, Python), so they
 * all judge a real screen and real input the same way screen.c does: a
 * window over the whole screen of $DISPLAY, painted with coloured bands.
 *
 * stdout, one line each:
 *   ready WIDTH HEIGHT        once the window is drawn
 *   press BUTTON X Y          a button press the window received
 *   release BUTTON X Y        a button release
 *   psnr DB                   the answer to a psnr request
 *   error MESSAGE             a request that could not be answered
 * stdin, one line each:
 *   psnr FILE WIDTH HEIGHT    luma PSNR of FILE (tightly packed BGRA) against
 *                             the screen's top left
 *   quit                      (or the end of stdin) ends the witness
 * Send one request at a time and wait for its answer.
 * Exits 1 when the display cannot be used; after 10 minutes in any case. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "xwindow.h"

#define LIFETIME_S 600

static void answer_psnr(xwindow *w, const char *request) {
    char path[4096];
    unsigned width = 0, height = 0;
    if (sscanf(request, "psnr %4095s %u %u", path, &width, &height) != 3 || width == 0 ||
        height == 0 || width > 16384 || height > 16384) {
        printf("error bad request: psnr FILE WIDTH HEIGHT\n");
        return;
    }
    size_t size = (size_t)width * height * 4;
    uint8_t *pixels = malloc(size);
    FILE *file = fopen(path, "rb");
    size_t read = file && pixels ? fread(pixels, 1, size, file) : 0;
    if (file) {
        fclose(file);
    }
    if (read != size) {
        printf("error cannot read %zu bytes of BGRA from %s\n", size, path);
    } else {
        printf("psnr %.2f\n", xwindow_psnr(w, pixels, width, height, width * 4));
    }
    free(pixels);
}

/* Handles one line from stdin; 0 when the witness should end. */
static int handle_request(xwindow *w, const char *line) {
    if (strncmp(line, "quit", 4) == 0) {
        return 0;
    }
    if (strncmp(line, "psnr ", 5) == 0) {
        answer_psnr(w, line);
    } else {
        printf("error unknown request\n");
    }
    return 1;
}

int main(void) {
    xwindow w;
    memset(&w, 0, sizeof w);
    if (!xwindow_open(&w, 30000)) {
        fprintf(stderr, "witness: cannot open a window on the display\n");
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("ready %u %u\n", w.screen->width_in_pixels, w.screen->height_in_pixels);
    time_t end = time(NULL) + LIFETIME_S;
    char line[8192];
    for (;;) {
        xwindow_button button;
        while (xwindow_next_button(&w, 0, &button)) {
            printf("%s %u %d %d\n", button.pressed ? "press" : "release", button.button, button.x,
                   button.y);
        }
        if (xcb_connection_has_error(w.conn) || time(NULL) >= end) {
            break;
        }
        struct pollfd fds[2] = {{0, POLLIN, 0}, {xcb_get_file_descriptor(w.conn), POLLIN, 0}};
        if (poll(fds, 2, 1000) < 0) {
            break;
        }
        if (fds[0].revents & (POLLIN | POLLHUP)) {
            if (!fgets(line, sizeof line, stdin) || !handle_request(&w, line)) {
                break;
            }
        }
    }
    xcb_disconnect(w.conn);
    return 0;
}
