/* ra.h compiles as C11 with every warning an error, and twice. */
#include "ra.h"
#include "ra.h"

#include <stdio.h>

int main(void) {
    ra_result ok = RA_RESULT_OK;
    printf("%s %s %d.%d.%d\n", ra_result_name(ok), RA_VERSION, RA_VERSION_MAJOR, RA_VERSION_MINOR,
           RA_VERSION_PATCH);
    printf("1 passed, 0 failed\n");
    return 0;
}
