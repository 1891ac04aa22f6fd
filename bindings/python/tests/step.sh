# The Python binding's step of the C API tests: build the wheel (with
# libra_ffi.so inside), install it into a fresh venv, run pytest there
# against the bundled library, then the example.
# Sourced by ra-ffi/tests/run.sh, which provides $root (the working tree),
# $lib (where libra_ffi.so and ra-broker are), $out (scratch), the compiler
# flags (warn, sanitize, link) and example_ran; with_broker, with_xvfb,
# with_witness and with_incompatible_library set RA_TEST_BROKER*, DISPLAY,
# RA_TEST_WITNESS and RA_TEST_INCOMPATIBLE_LIBRARY.

python() {
    local venv=$out/venv wheels=$out/wheels wheel tag listing
    local version
    version=$(sed -n 's/^#define RA_VERSION "\(.*\)"/\1/p' "$root/include/ra.h")
    tag=py3-none-linux_$(uname -m)
    # Offline: Debian's setuptools and wheel build it (python3-setuptools,
    # python3-wheel from scripts/setup.sh); no build isolation, no download.
    rm -rf "$wheels" "$root/bindings/python/build"
    RA_FFI_LIBRARY=$lib/libra_ffi.so /usr/bin/python3 -m pip wheel --quiet --no-build-isolation \
        --no-deps --wheel-dir "$wheels" "$root/bindings/python" || return 1
    wheel=$(ls "$wheels"/*.whl)
    [ "$(basename "$wheel")" = "ra_assist-$version-$tag.whl" ] ||
        { echo "the wheel is $(basename "$wheel"), not ra_assist-$version-$tag.whl" >&2; return 1; }
    listing=$(/usr/bin/python3 -m zipfile -l "$wheel") &&
        grep -qE '^ra/libra_ffi\.so +' <<<"$listing" ||
        { echo "$(basename "$wheel") does not carry ra/libra_ffi.so" >&2; return 1; }
    echo "wheel: $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB, with ra/libra_ffi.so)"
    # A fresh venv each run. --system-site-packages only so that Debian's
    # pytest is there without a download; `ra` itself comes from the wheel.
    rm -rf "$venv"
    /usr/bin/python3 -m venv --system-site-packages "$venv" &&
        "$venv/bin/pip" install --quiet --no-deps --no-index "$wheel" || return 1
    # No RA_LIBRARY, no LD_LIBRARY_PATH: the package must load its own copy
    # (test_packaging.py checks that it did).
    env -u RA_LIBRARY -u LD_LIBRARY_PATH RA_TEST_ROOT="$root" \
        "$venv/bin/python" -m pytest -q -p no:cacheprovider \
        --ignore="$root/bindings/python/tests/wayland" "$root/bindings/python/tests" &&
        example_ran "Python" env -u RA_LIBRARY -u LD_LIBRARY_PATH \
            "$venv/bin/python" "$root/bindings/python/examples/two_roles.py"
}

# The Wayland tests, on the headless GNOME desktop run.sh's with_gnome
# started, with the venv the step above built.
python_wayland() {
    [ -x "$out/venv/bin/python" ] || { echo "run the Python step first: it builds the venv" >&2; return 1; }
    env -u RA_LIBRARY -u LD_LIBRARY_PATH RA_TEST_ROOT="$root" \
        "$out/venv/bin/python" -m pytest -q -p no:cacheprovider "$root/bindings/python/tests/wayland"
}
