#!/usr/bin/env bash
# The tests of the C API that cargo cannot run: C (ASan + UBSan, valgrind),
# the header as C11 and C++17, the C examples, the C++ wrapper, C# under
# Mono, Python with pytest, and the pkg-config / CMake packages. Run after
# `cargo build -p ra-ffi -p ra-broker -p ra-examples` (scripts/test.sh does
# all three: ra-org makes the Python test's helper identity); each step
# prints its time and a "N passed, M failed" line. The session tests run the
# short-code flows through a real ra-broker on loopback, one per step.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
lib=$target/debug
out=$target/ra-ffi-tests
mkdir -p "$out"
cd "$root"
[ -f "$lib/libra_ffi.so" ] || { echo "run.sh: build first: cargo build -p ra-ffi" >&2; exit 1; }
[ -x "$lib/ra-broker" ] || { echo "run.sh: build first: cargo build -p ra-broker" >&2; exit 1; }
[ -x "$lib/ra-org" ] || { echo "run.sh: build first: cargo build -p ra-examples" >&2; exit 1; }
# An organisation's tool, for the tests of verified helpers.
export RA_TEST_ORG=$lib/ra-org
# Programs linked against the library load it by its SONAME,
# libra_ffi.so.MAJOR (install.sh makes the same link where it installs).
major=$(sed -n 's/^#define RA_VERSION_MAJOR //p' include/ra.h)
ln -sfn libra_ffi.so "$lib/libra_ffi.so.$major"

# RA_FFI_STEPS (an extended regular expression) runs only the steps whose
# names match, e.g. RA_FFI_STEPS='Python|C#'.
failed=0
step() {
    local name=$1
    shift
    if [ -n "${RA_FFI_STEPS:-}" ] && ! grep -qE -- "$RA_FFI_STEPS" <<<"$name"; then
        return 0
    fi
    local start=$SECONDS
    echo "== ra-ffi: $name" >&2
    if "$@"; then
        echo "   $name: ok ($((SECONDS - start)) s)" >&2
    else
        echo "   $name: FAILED ($((SECONDS - start)) s)" >&2
        failed=1
    fi
}

warn=(-Wall -Wextra -Werror -pedantic)
sanitize=(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
link=(-L"$lib" -lra_ffi -Wl,-rpath,"$lib" -lpthread)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The injected panics print Rust's panic message; a backtrace adds nothing.
export RUST_BACKTRACE=0

# Runs "$@" with a fresh ra-broker on loopback, whose address and certificate
# fingerprint are in RA_TEST_BROKER and RA_TEST_BROKER_FINGERPRINT; stops it
# afterwards. Its first line of output says where it listens (no waiting on
# files); the rest goes to $out/broker.log.
with_broker() {
    local fifo=$out/broker.$BASHPID.fifo line="" status=1
    rm -f "$fifo"
    mkfifo "$fifo"
    "$lib/ra-broker" serve --listen 127.0.0.1:0 >"$fifo" 2>>"$out/broker.log" &
    local broker=$!
    exec 5<"$fifo"
    read -r -t 30 -u 5 line || true
    cat <&5 >>"$out/broker.log" &
    local drain=$!
    exec 5<&-
    local address fingerprint
    address=$(sed -n 's/.*"addr":"\([^"]*\)".*/\1/p' <<<"$line")
    fingerprint=$(sed -n 's/.*"fingerprint":"\([^"]*\)".*/\1/p' <<<"$line")
    if [ -n "$address" ] && [ -n "$fingerprint" ]; then
        (
            export RA_TEST_BROKER=$address RA_TEST_BROKER_FINGERPRINT=$fingerprint
            "$@"
        ) && status=0
    else
        echo "ra-broker did not say where it listens: ${line:-nothing}" >&2
    fi
    kill "$broker" 2>/dev/null || true
    wait "$broker" 2>/dev/null || true
    wait "$drain" 2>/dev/null || true
    rm -f "$fifo"
    return $status
}

# Runs "$@" with DISPLAY set to a fresh Xvfb on a free display number (Xvfb
# picks it and says which through -displayfd: no waiting on files); stops it
# afterwards, by PID.
with_xvfb() {
    local fifo=$out/xvfb.$BASHPID.fifo number="" status=1
    rm -f "$fifo"
    mkfifo "$fifo"
    Xvfb -displayfd 5 -noreset -nolisten tcp -screen 0 640x480x24 5>"$fifo" 2>>"$out/xvfb.log" &
    local xvfb=$!
    exec 6<"$fifo"
    read -r -t 30 -u 6 number || true
    exec 6<&-
    if [ -n "$number" ]; then
        (
            export DISPLAY=:$number
            "$@"
        ) && status=0
    else
        echo "Xvfb did not say which display it took" >&2
    fi
    kill "$xvfb" 2>/dev/null || true
    wait "$xvfb" 2>/dev/null || true
    rm -f "$fifo"
    return $status
}

# Runs "$@" on a headless GNOME (Wayland) desktop of its own, with one
# virtual monitor per argument before "--" (WIDTHxHEIGHT): the testkit's
# script inside a private dbus-run-session and runtime directory, which says
# where its bus, runtime directory and compositor socket are on its first
# line (no waiting on files); "$@" runs with DBUS_SESSION_BUS_ADDRESS,
# XDG_RUNTIME_DIR and WAYLAND_DISPLAY set and DISPLAY unset. The desktop
# stops when its stdin closes; its process group is killed, by the leader's
# PID, if it is still there 20 s later.
with_gnome() {
    local monitors=()
    while [ "$1" != -- ]; do
        monitors+=("$1")
        shift
    done
    shift
    local dir=$out/gnome.$BASHPID line="" status=1
    rm -rf "$dir"
    mkdir -p "$dir/xdg" && chmod 700 "$dir/xdg"
    mkfifo "$dir/in" "$dir/out"
    env -u DISPLAY -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR="$dir/xdg" WAYLAND_DISPLAY=wayland-ra \
        XDG_CURRENT_DESKTOP=GNOME setsid dbus-run-session -- \
        bash ra-testkit/scripts/headless-gnome.sh "${monitors[@]}" <"$dir/in" >"$dir/out" 2>>"$out/gnome.log" &
    local desktop=$!
    exec 7>"$dir/in" 8<"$dir/out"
    read -r -t 90 -u 8 line || true
    exec 8<&-
    local bus runtime wayland
    bus=$(sed -n 's/.* BUS=\([^ ]*\) .*/\1/p' <<<"$line")
    runtime=$(sed -n 's/.* RUNTIME=\([^ ]*\) .*/\1/p' <<<"$line")
    wayland=$(sed -n 's/.* WAYLAND=\([^ ]*\).*/\1/p' <<<"$line")
    if [ -n "$bus" ] && [ -n "$runtime" ] && [ -n "$wayland" ]; then
        (
            unset DISPLAY
            export DBUS_SESSION_BUS_ADDRESS=$bus XDG_RUNTIME_DIR=$runtime WAYLAND_DISPLAY=$wayland
            "$@"
        ) && status=0
    else
        echo "the headless desktop did not start: ${line:-nothing}; see $out/gnome.log and $dir" >&2
    fi
    exec 7>&-
    local waited=0
    while kill -0 "$desktop" 2>/dev/null && [ $waited -lt 200 ]; do
        sleep 0.1
        waited=$((waited + 1))
    done
    kill -KILL -- "-$desktop" 2>/dev/null || true
    wait "$desktop" 2>/dev/null || true
    [ $status = 0 ] && rm -rf "$dir"
    return $status
}

# Runs "$@" with RA_TEST_WITNESS naming the X client the bindings' screen
# tests drive (ra-ffi/tests/c/witness.c: a painted window on $DISPLAY that
# reports the clicks it gets and measures a picture against the screen).
with_witness() {
    gcc -std=c11 "${warn[@]}" -O1 -Ira-ffi/tests/c ra-ffi/tests/c/witness.c -o "$out/x_witness.$BASHPID" -lxcb -lm &&
        mv -f "$out/x_witness.$BASHPID" "$out/x_witness" &&
        RA_TEST_WITNESS=$out/x_witness "$@"
}

# Runs "$@" with RA_TEST_INCOMPATIBLE_LIBRARY naming a libra_ffi.so (and
# its SONAME link, in a directory of its own) whose ra_version() says
# 99.0.0: the bindings must refuse it at load with a clear error.
with_incompatible_library() {
    local dir=$out/incompatible
    local scratch=$dir/libra_ffi.so.$BASHPID
    mkdir -p "$dir"
    echo 'const char *ra_version(void) { return "99.0.0"; }' |
        gcc -shared -fPIC -Wl,-soname,"libra_ffi.so.$major" -x c - -o "$scratch" &&
        mv -f "$scratch" "$dir/libra_ffi.so" &&
        ln -sfn libra_ffi.so "$dir/libra_ffi.so.$major" &&
        RA_TEST_INCOMPATIBLE_LIBRARY=$dir/libra_ffi.so "$@"
}

# Every function of ra.h must be exercised by the NULL/garbage test.
coverage() {
    local missing=0
    local functions
    functions=$(grep -oE '^(ra_result|const char \*) ?ra_[a-z0-9_]+\(' include/ra.h | grep -oE 'ra_[a-z0-9_]+\(' | tr -d '(')
    [ "$(echo "$functions" | wc -l)" -gt 80 ] || { echo "cannot list the functions of ra.h" >&2; return 1; }
    for fn in $functions; do
        grep -q "\b$fn(" ra-ffi/tests/c/robustness.c || { echo "robustness.c does not call $fn" >&2; missing=1; }
    done
    [ $missing = 0 ] && echo "$(echo "$functions" | wc -l) passed, 0 failed"
    return $missing
}

c_test() {
    local name=$1
    shift
    gcc -std=c11 "${warn[@]}" "${sanitize[@]}" -g -Iinclude -Ira-ffi/tests/c \
        "ra-ffi/tests/c/$name.c" -o "$out/$name" "${link[@]}" "$@" && "$out/$name"
}

headers() {
    gcc -std=c11 "${warn[@]}" -Iinclude ra-ffi/tests/c/header_c.c -o "$out/header_c" "${link[@]}" &&
        "$out/header_c" &&
        g++ -std=c++17 "${warn[@]}" -Iinclude ra-ffi/tests/c/header_cpp.cpp -o "$out/header_cpp" "${link[@]}" &&
        "$out/header_cpp"
}

valgrind_session() {
    gcc -std=c11 "${warn[@]}" -g -Iinclude -Ira-ffi/tests/c ra-ffi/tests/c/session.c \
        -o "$out/session_plain" "${link[@]}" &&
        valgrind --quiet --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
            --error-exitcode=3 --suppressions=ra-ffi/tests/valgrind.supp "$out/session_plain"
}

# The two C examples against each other: the host's password reaches the
# helper through a pipe (no waiting on files).
examples() {
    gcc -std=c11 "${warn[@]}" -Iinclude examples/c/host.c -o "$out/ra_host_c" "${link[@]}" &&
        gcc -std=c11 "${warn[@]}" -Iinclude examples/c/helper.c -o "$out/ra_helper_c" "${link[@]}" || return 1
    local fifo=$out/host.out
    rm -f "$fifo" "$out/example.rainv"
    mkfifo "$fifo"
    "$out/ra_host_c" "$out/example.rainv" --yes >"$fifo" &
    local host=$!
    local line password=""
    exec 4<"$fifo"
    while read -r -t 30 -u 4 line; do
        case $line in password:*) password=${line#password: }; break ;; esac
    done
    [ -n "$password" ] || { kill "$host"; return 1; }
    "$out/ra_helper_c" "$out/example.rainv" "$password" 3 || { kill "$host"; return 1; }
    cat <&4 >/dev/null # the host's remaining events, until it exits
    exec 4<&-
    wait "$host" && echo "1 passed, 0 failed"
}

# Runs a two-roles example (host and helper in one program): it must end by
# itself, the helper having received its three frames and the host having
# seen the helper end the session.
example_ran() {
    local name=$1 output
    shift
    output=$(timeout 60 "$@" 2>&1) || { echo "$output"; echo "$name example failed"; return 1; }
    if [ "$(grep -c '^helper: frame' <<<"$output")" -ge 3 ] && grep -q 'HelperEnded' <<<"$output"; then
        echo "$name example: 1 passed, 0 failed"
    else
        echo "$output"
        echo "$name example: no frames or no end"
        return 1
    fi
}

# The bindings' steps, one file each, next to their tests.
# shellcheck source=/dev/null
for binding in cpp csharp python; do
    source "bindings/$binding/tests/step.sh"
done

# Every function of ra.h must be called by each binding's wrapper (not only
# declared): the wrapper file(s) and the functions each may leave out on
# purpose, listed in the binding's tests/uncovered.txt with the reason.
binding_coverage() {
    local functions missing=0 binding fn wrapper=()
    functions=$(grep -oE '^[a-z_0-9 ]+\*? ?ra_[a-z0-9_]+\(' include/ra.h | grep -oE 'ra_[a-z0-9_]+\($' | tr -d '(')
    [ "$(echo "$functions" | wc -l)" -gt 100 ] || { echo "cannot list the functions of ra.h" >&2; return 1; }
    for binding in cpp csharp python; do
        # The wrapper: what a user calls, not the declarations of the C functions.
        case $binding in
            cpp) wrapper=(bindings/cpp/include/ra.hpp bindings/cpp/include/ra/*.hpp) ;;
            csharp) wrapper=(bindings/csharp/src/Ra*.cs) ;;
            python) mapfile -t wrapper < <(ls bindings/python/src/ra/*.py | grep -v '/_native\.py$') ;;
        esac
        for fn in $functions; do
            grep -qE "\b$fn\b" "${wrapper[@]}" && continue
            grep -qE "^$fn\b" "bindings/$binding/tests/uncovered.txt" 2>/dev/null && continue
            echo "the $binding binding does not call $fn" >&2
            missing=$((missing + 1))
        done
    done
    echo "$(($(echo "$functions" | wc -l) * 3 - missing)) passed, $missing failed"
    [ $missing = 0 ]
}

# Install into a scratch prefix: the versioned library and its links, the
# SONAME; build the C examples through pkg-config and CMake, and the C++
# example through CMake's ra::cpp (which carries ra.hpp), and run it.
packages() {
    local prefix=$out/prefix version
    version=$(sed -n 's/^#define RA_VERSION "\(.*\)"/\1/p' include/ra.h)
    rm -rf "$prefix" "$out/cmake-build"
    ra-ffi/install.sh "$prefix" debug >/dev/null || return 1
    [ -f "$prefix/lib/libra_ffi.so.$version" ] && [ ! -L "$prefix/lib/libra_ffi.so.$version" ] &&
        [ "$(readlink "$prefix/lib/libra_ffi.so.$major")" = "libra_ffi.so.$version" ] &&
        [ "$(readlink "$prefix/lib/libra_ffi.so")" = "libra_ffi.so.$major" ] &&
        [ -f "$prefix/include/ra.hpp" ] ||
        { echo "install.sh did not lay out the versioned library and ra.hpp" >&2; return 1; }
    readelf -d "$prefix/lib/libra_ffi.so.$version" | grep -q "SONAME.*\[libra_ffi.so.$major\]" ||
        { echo "libra_ffi.so has no SONAME libra_ffi.so.$major" >&2; return 1; }
    PKG_CONFIG_PATH=$prefix/lib/pkgconfig gcc -std=c11 "${warn[@]}" examples/c/helper.c \
        $(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs ra) -o "$out/helper_pc" &&
        readelf -d "$out/helper_pc" | grep -q "NEEDED.*\[libra_ffi.so.$major\]" &&
        [ "$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --modversion ra)" = "$version" ] &&
        cmake -S ra-ffi/tests/cmake -B "$out/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null &&
        cmake --build "$out/cmake-build" >/dev/null &&
        example_ran "C++ through CMake" "$out/cmake-build/ra_cpp_example" &&
        echo "1 passed, 0 failed"
}

step "every function is in the robustness test" coverage
step "C: robustness (NULL, garbage, ASan+UBSan)" with_broker c_test robustness
step "C: panics become RA_RESULT_PANIC (ASan+UBSan)" c_test panic
step "C: host <-> helper session, codes via ra-broker (ASan+UBSan)" with_broker c_test session
step "C: a verified helper's countersigned receipt; ra_receipt_verify, ra_audit_verify (ASan+UBSan)" c_test receipt
step "C: the host's desk on Xvfb: panic key, local user wins (ASan+UBSan)" with_xvfb c_test desk -lxcb -lxcb-xinput -lxcb-xtest
step "C: a real X screen and real input on Xvfb (ASan+UBSan)" with_xvfb c_test screen -lxcb -lm
step "C: a Wayland desktop (headless GNOME), picked by the real-screen backends (ASan+UBSan)" with_gnome 640x480 -- c_test wayland
step "C: header as C11 and C++17, twice" headers
step "C: session under valgrind" with_broker valgrind_session
step "C: examples host.c <-> helper.c" examples
step "bindings: every function of ra.h is wrapped" binding_coverage
step "C++: wrapper session, a real X screen" with_broker with_xvfb with_witness with_incompatible_library cpp
step "C#: Mono session, a real X screen" with_broker with_xvfb with_witness with_incompatible_library csharp
step "Python: pytest session, a real X screen" with_broker with_xvfb with_witness with_incompatible_library python
step "Python: a Wayland desktop (headless GNOME)" with_gnome 640x480 -- python_wayland
step "packages: pkg-config and CMake" packages
exit $failed
