#!/usr/bin/env bash
# The whole test suite: set-up, formatting, lints, every test, and the demo.
# Each step prints how long it took, so a slow CI run says where its time went.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# shellcheck disable=SC1091
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"

started=$SECONDS
step() {
    local name=$1 start=$SECONDS
    shift
    echo "== $name" >&2
    "$@"
    echo "   $name: $((SECONDS - start)) s (total $((SECONDS - started)) s)" >&2
}

step "cargo fmt --check" cargo fmt --all -- --check
step "cargo clippy" cargo clippy --locked --workspace --all-targets -- -D warnings
step "cargo clippy (xcap)" cargo clippy --locked -p ra-capture --features xcap --all-targets -- -D warnings
# The CLI tests of the broker flows (examples/tests/broker_cli.rs, nat.rs) run
# the ra-broker binary: build it first whatever order cargo picks.
step "cargo build ra-broker" cargo build --locked -p ra-broker --bins
step "cargo test" cargo test --locked --workspace
step "cargo test (xcap)" cargo test --locked -p ra-capture --features xcap
step "cargo build ra-ffi" cargo build --locked -p ra-ffi
step "the C API: C, C++, C#, Python, packages" ./ra-ffi/tests/run.sh
step "demo" cargo run --locked -q -p ra-examples --bin ra-demo
echo "== all tests passed in $((SECONDS - started)) s" >&2
