// ra.h compiles as C++17 with every warning an error, and twice.
#include "ra.h"
#include "ra.h"

#include <cstdio>

int main() {
    ra_result ok = RA_RESULT_OK;
    ra_policy *policy = nullptr;
    if (ra_policy_new(&policy) != RA_RESULT_OK || ra_policy_free(policy) != RA_RESULT_OK) {
        std::printf("0 passed, 1 failed\n");
        return 1;
    }
    std::printf("%s %s\n1 passed, 0 failed\n", ra_result_name(ok), RA_VERSION);
    return 0;
}
