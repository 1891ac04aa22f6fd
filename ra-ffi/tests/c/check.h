/* Tiny test harness for the C tests of ra-ffi: CHECK counts, reports and
 * carries on; REQUIRE stops the test. The summary line is the plain
 * "N passed, M failed" that CI reads. */
#ifndef RA_TEST_CHECK_H
#define RA_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ra.h"

static int checks_passed;
static int checks_failed;

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (cond) {                                                                    \
            checks_passed++;                                                           \
        } else {                                                                       \
            checks_failed++;                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);  \
        }                                                                              \
    } while (0)

/* An ra call that must return `expected`; prints the last error otherwise. */
#define CHECK_RESULT(call, expected)                                                   \
    do {                                                                               \
        ra_result check_result_ = (call);                                              \
        if (check_result_ == (ra_result)(expected)) {                                  \
            checks_passed++;                                                           \
        } else {                                                                       \
            checks_failed++;                                                           \
            fprintf(stderr, "%s:%d: %s returned %s (%s), expected %s\n", __FILE__,     \
                    __LINE__, #call, ra_result_name(check_result_),                    \
                    ra_last_error_message(), ra_result_name((ra_result)(expected)));   \
        }                                                                              \
    } while (0)

#define CHECK_OK(call) CHECK_RESULT(call, RA_RESULT_OK)

#define REQUIRE(cond)                                                                  \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: REQUIRE failed: %s (last error: %s)\n", __FILE__,  \
                    __LINE__, #cond, ra_last_error_message());                         \
            checks_failed++;                                                           \
            return summary();                                                          \
        }                                                                              \
    } while (0)

/* Like REQUIRE, for the void functions below. */
#define ENSURE(cond)                                                                   \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: ENSURE failed: %s (last error: %s)\n", __FILE__,   \
                    __LINE__, #cond, ra_last_error_message());                         \
            checks_failed++;                                                           \
            return;                                                                    \
        }                                                                              \
    } while (0)

static int summary(void) {
    printf("%d passed, %d failed\n", checks_passed, checks_failed);
    return checks_failed == 0 && checks_passed > 0 ? 0 : 1;
}

#endif
