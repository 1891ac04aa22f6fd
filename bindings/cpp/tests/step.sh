# The C++ wrapper's step of the C API tests.
# Sourced by ra-ffi/tests/run.sh, which provides $root (the working tree),
# $lib (where libra_ffi.so and ra-broker are), $out (scratch), the compiler
# flags (warn, sanitize, link) and example_ran; with_broker, with_xvfb and
# with_witness set RA_TEST_BROKER*, DISPLAY and RA_TEST_WITNESS.

cpp() {
    g++ -std=c++17 "${warn[@]}" "${sanitize[@]}" -g -Iinclude -Ibindings/cpp/include \
        bindings/cpp/tests/test_session.cpp -o "$out/cpp_test" "${link[@]}" &&
        g++ -std=c++17 "${warn[@]}" -Iinclude -Ibindings/cpp/include \
            bindings/cpp/examples/two_roles.cpp -o "$out/cpp_example" "${link[@]}" &&
        "$out/cpp_test" &&
        example_ran "C++" env LD_LIBRARY_PATH="$lib" "$out/cpp_example"
}
