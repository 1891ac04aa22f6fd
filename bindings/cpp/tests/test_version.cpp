// Calls nothing but ra::check_library_version(), so it links only
// ra_version and loads with any libra_ffi.so, the fake incompatible one
// included (step.sh runs it against both). Prints "compatible VERSION", or
// "incompatible: MESSAGE" and exits 2.
#include <cstdio>

#include "ra.hpp"

int main() {
    try {
        ra::check_library_version();
        std::printf("compatible %s\n", ra_version());
        return 0;
    } catch (const ra::IncompatibleLibrary& e) {
        std::printf("incompatible: %s\n", e.what());
        std::printf("loaded %s, expected %s, code %u\n", e.loaded().c_str(),
                    ra::IncompatibleLibrary::expected().c_str(), e.code());
        return 2;
    }
}
