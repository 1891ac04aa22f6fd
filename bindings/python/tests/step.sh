# The Python binding's step of the C API tests (pytest in a venv).
# Sourced by ra-ffi/tests/run.sh, which provides $root (the working tree),
# $lib (where libra_ffi.so and ra-broker are), $out (scratch), the compiler
# flags (warn, sanitize, link) and example_ran; with_broker, with_xvfb and
# with_witness set RA_TEST_BROKER*, DISPLAY and RA_TEST_WITNESS.

python() {
    local venv=$out/venv
    # Debian's pytest and setuptools, seen from the venv: no download needed.
    [ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv --system-site-packages "$venv"
    "$venv/bin/pip" install --quiet --no-build-isolation --force-reinstall --no-deps ./bindings/python &&
        RA_LIBRARY=$lib/libra_ffi.so "$venv/bin/python" -m pytest -q -p no:cacheprovider bindings/python/tests &&
        example_ran "Python" env RA_LIBRARY="$lib/libra_ffi.so" "$venv/bin/python" bindings/python/examples/two_roles.py
}
