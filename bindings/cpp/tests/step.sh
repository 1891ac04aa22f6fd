# The C++ wrapper's step of the C API tests.
# Sourced by ra-ffi/tests/run.sh, which provides $root (the working tree),
# $lib (where libra_ffi.so and ra-broker are), $out (scratch), the compiler
# flags (warn, sanitize, link) and example_ran; with_broker, with_xvfb,
# with_witness and with_incompatible_library set RA_TEST_BROKER*, DISPLAY,
# RA_TEST_WITNESS and RA_TEST_INCOMPATIBLE_LIBRARY.

# The version check: a program that calls only ra::check_library_version()
# (so it links only ra_version, and without an rpath: LD_LIBRARY_PATH picks
# the library) accepts the real library and refuses the fake 99.0.0 one,
# naming both versions.
cpp_version() {
    g++ -std=c++17 "${warn[@]}" -Iinclude -Ibindings/cpp/include bindings/cpp/tests/test_version.cpp \
        -o "$out/cpp_version" -L"$lib" -lra_ffi || return 1
    local symbols output expected
    symbols=$(nm -D --undefined-only "$out/cpp_version" | grep -oE '\bra_[a-z0-9_]+' | sort -u | tr '\n' ' ')
    [ "$symbols" = "ra_version " ] || { echo "cpp_version links more than ra_version: $symbols"; return 1; }
    expected=$(sed -n 's/^#define RA_VERSION_MAJOR //p' include/ra.h).$(sed -n 's/^#define RA_VERSION_MINOR //p' include/ra.h)
    output=$(LD_LIBRARY_PATH=$lib "$out/cpp_version") || { echo "$output"; return 1; }
    [ "$output" = "compatible $(sed -n 's/^#define RA_VERSION "\(.*\)"/\1/p' include/ra.h)" ] ||
        { echo "against the real library: $output"; return 1; }
    local status=0
    output=$(LD_LIBRARY_PATH=$(dirname "$RA_TEST_INCOMPATIBLE_LIBRARY") "$out/cpp_version") || status=$?
    echo "$output"
    if [ $status = 2 ] && grep -q "^incompatible: .*99\.0\.0.*version $expected " <<<"$output" &&
        grep -q "^loaded 99.0.0, expected $expected, code 107$" <<<"$output"; then
        echo "version check: 2 passed, 0 failed"
    else
        echo "against the incompatible library (exit $status): no clear refusal"
        return 1
    fi
}

cpp() {
    g++ -std=c++17 "${warn[@]}" "${sanitize[@]}" -g -Iinclude -Ibindings/cpp/include \
        bindings/cpp/tests/test_session.cpp -o "$out/cpp_test" "${link[@]}" &&
        g++ -std=c++17 "${warn[@]}" "${sanitize[@]}" -g -Iinclude -Ibindings/cpp/include \
            bindings/cpp/tests/test_screen.cpp -o "$out/cpp_screen" "${link[@]}" &&
        g++ -std=c++17 "${warn[@]}" -Iinclude -Ibindings/cpp/include \
            bindings/cpp/examples/two_roles.cpp -o "$out/cpp_example" "${link[@]}" &&
        cpp_version &&
        "$out/cpp_test" &&
        "$out/cpp_screen" &&
        example_ran "C++" env LD_LIBRARY_PATH="$lib" "$out/cpp_example"
}
