#!/usr/bin/env bash
# The whole test suite: set-up, formatting, lints, every test, and the demo.
# Each step prints how long it took, so a slow CI run says where its time went.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh test
# shellcheck disable=SC1091
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
target=${CARGO_TARGET_DIR:-target}

started=$SECONDS
step() {
    local name=$1 start=$SECONDS
    shift
    echo "== $name" >&2
    "$@"
    echo "   $name: $((SECONDS - start)) s (total $((SECONDS - started)) s)" >&2
}

step "cargo fmt --check" cargo fmt --all -- --check
step "cargo fmt --check (fuzz)" cargo fmt --manifest-path fuzz/Cargo.toml -- --check
step "cargo clippy" cargo clippy --locked --workspace --all-targets -- -D warnings
# Everything the tests, the C API's tests and the demo run (the test binaries,
# ra-broker, the example programs, libra_ffi), built once: with the tests'
# dev-dependencies in, cargo resolves the same features for all of it.
step "cargo build" cargo build --locked --workspace --lib --bins --tests
step "cargo test" cargo test --locked --workspace
# The optional xcap capture backend, on its own: its native libraries
# (PipeWire, Wayland, EGL…) must stay out of the default build, and so out of
# libra_ffi, whose static library links without them. Only its test, with the
# workspace's features otherwise: the rest of the build is reused.
step "cargo test (xcap)" cargo test --locked --workspace --features ra-capture/xcap --test xcap
step "the C API: C, C++, C#, Python, packages" ./ra-ffi/tests/run.sh
# Every fuzz target briefly (a longer run: scripts/fuzz.sh 3600): any crash
# fails. Built without optimisation (but with AddressSanitizer): 3 minutes
# less to build from cold, and still every seed runs.
rm -rf "$target/fuzz-smoke"
step "fuzz (5 s per target)" env RA_FUZZ_DEV=1 RA_FUZZ_CORPUS="$target/fuzz-smoke" ./scripts/fuzz.sh 5
step "demo" "$target/debug/ra-demo"
echo "== all tests passed in $((SECONDS - started)) s" >&2
