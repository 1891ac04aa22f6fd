/* The tests' X client, shared by screen.c and the witness that the
 * bindings' screen tests drive: a window over the whole screen, painted with
 * coloured bands, that records the button events it receives, and the luma
 * PSNR of a picture against the screen. Needs only xcb; include with
 * _POSIX_C_SOURCE 200809L defined. */
#ifndef RA_TEST_XWINDOW_H
#define RA_TEST_XWINDOW_H

#include <math.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <xcb/xcb.h>

typedef struct {
    xcb_connection_t *conn;
    xcb_screen_t *screen;
    xcb_window_t window;
} xwindow;

/* A button press or release the window received. */
typedef struct {
    int pressed; /* 1: press, 0: release */
    uint8_t button;
    int16_t x, y;
} xwindow_button;

/* The next event, waiting up to `ms`; NULL on timeout or a broken link. */
static inline xcb_generic_event_t *xwindow_next_event(xwindow *w, int ms) {
    xcb_generic_event_t *event = xcb_poll_for_event(w->conn);
    if (event) {
        return event;
    }
    struct pollfd fd = {xcb_get_file_descriptor(w->conn), POLLIN, 0};
    if (poll(&fd, 1, ms) <= 0) {
        return NULL;
    }
    return xcb_poll_for_event(w->conn);
}

/* Opens the window on $DISPLAY and paints it; 1 once the server has drawn
 * it all, 0 when the display cannot be used or nothing was exposed within
 * `ms`. */
static inline int xwindow_open(xwindow *w, int ms) {
    w->conn = xcb_connect(NULL, NULL);
    if (xcb_connection_has_error(w->conn)) {
        return 0;
    }
    w->screen = xcb_setup_roots_iterator(xcb_get_setup(w->conn)).data;
    w->window = xcb_generate_id(w->conn);
    uint32_t values[] = {w->screen->black_pixel, 1, /* override-redirect: no WM */
                         XCB_EVENT_MASK_EXPOSURE | XCB_EVENT_MASK_BUTTON_PRESS |
                             XCB_EVENT_MASK_BUTTON_RELEASE};
    xcb_create_window(w->conn, XCB_COPY_FROM_PARENT, w->window, w->screen->root, 0, 0,
                      w->screen->width_in_pixels, w->screen->height_in_pixels, 0,
                      XCB_WINDOW_CLASS_INPUT_OUTPUT, w->screen->root_visual,
                      XCB_CW_BACK_PIXEL | XCB_CW_OVERRIDE_REDIRECT | XCB_CW_EVENT_MASK, values);
    xcb_map_window(w->conn, w->window);
    xcb_flush(w->conn);
    /* Painted once it is on screen. */
    for (;;) {
        xcb_generic_event_t *event = xwindow_next_event(w, ms);
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
    uint16_t width = w->screen->width_in_pixels, height = w->screen->height_in_pixels;
    xcb_gcontext_t gc = xcb_generate_id(w->conn);
    xcb_create_gc(w->conn, gc, w->window, 0, NULL);
    for (unsigned i = 0; i < 5; i++) {
        uint32_t colour = colours[i];
        xcb_change_gc(w->conn, gc, XCB_GC_FOREGROUND, &colour);
        xcb_rectangle_t band = {(int16_t)(i * width / 5), 0, (uint16_t)(width / 5 + 1), height};
        xcb_poly_fill_rectangle(w->conn, w->window, gc, 1, &band);
    }
    xcb_free_gc(w->conn, gc);
    /* Returns once the server has drawn it all. */
    free(xcb_get_input_focus_reply(w->conn, xcb_get_input_focus(w->conn), NULL));
    return 1;
}

/* The next button event within `ms`; 0 on timeout. Other events are
 * dropped. */
static inline int xwindow_next_button(xwindow *w, int ms, xwindow_button *out) {
    for (;;) {
        xcb_generic_event_t *event = xwindow_next_event(w, ms);
        if (!event) {
            return 0;
        }
        uint8_t type = event->response_type & 0x7f;
        if (type == XCB_BUTTON_PRESS || type == XCB_BUTTON_RELEASE) {
            /* Press and release events have the same layout. */
            xcb_button_press_event_t *button = (xcb_button_press_event_t *)event;
            out->pressed = type == XCB_BUTTON_PRESS;
            out->button = button->detail;
            out->x = button->event_x;
            out->y = button->event_y;
            free(event);
            return 1;
        }
        free(event);
    }
}

/* Luma PSNR of a BGRA picture (`stride` bytes a row) against the top left
 * of the screen (BGRX from GetImage); 0 when the screen cannot be read,
 * INFINITY when equal. */
static inline double xwindow_psnr(xwindow *w, const uint8_t *bgra, uint32_t width, uint32_t height,
                                  uint32_t stride) {
    xcb_get_image_reply_t *image = xcb_get_image_reply(
        w->conn,
        xcb_get_image(w->conn, XCB_IMAGE_FORMAT_Z_PIXMAP, w->screen->root, 0, 0, (uint16_t)width,
                      (uint16_t)height, ~0u),
        NULL);
    if (!image) {
        return 0.0;
    }
    if ((uint32_t)xcb_get_image_data_length(image) < width * height * 4u) {
        free(image);
        return 0.0;
    }
    const uint8_t *screen = xcb_get_image_data(image);
    double sum = 0.0;
    for (uint32_t y = 0; y < height; y++) {
        for (uint32_t x = 0; x < width; x++) {
            const uint8_t *a = &bgra[(size_t)y * stride + (size_t)x * 4];
            const uint8_t *b = &screen[((size_t)y * width + x) * 4];
            double la = 0.114 * a[0] + 0.587 * a[1] + 0.299 * a[2];
            double lb = 0.114 * b[0] + 0.587 * b[1] + 0.299 * b[2];
            sum += (la - lb) * (la - lb);
        }
    }
    free(image);
    double mse = sum / ((double)width * height);
    return mse == 0.0 ? INFINITY : 10.0 * log10(255.0 * 255.0 / mse);
}

#endif
