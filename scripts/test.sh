#!/usr/bin/env bash
# The whole test suite: set-up, formatting, lints, every test, and the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# shellcheck disable=SC1091
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"

echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== cargo clippy" >&2
cargo clippy --locked --workspace --all-targets -- -D warnings
cargo clippy --locked -p ra-capture --features xcap --all-targets -- -D warnings
echo "== cargo test" >&2
# The CLI tests of the broker flows (examples/tests/broker_cli.rs, nat.rs) run
# the ra-broker binary: build it first whatever order cargo picks.
cargo build --locked -p ra-broker --bins
cargo test --locked --workspace
cargo test --locked -p ra-capture --features xcap
echo "== the C API: C, C++, C#, Python, packages" >&2
cargo build --locked -p ra-ffi
./ra-ffi/tests/run.sh
echo "== demo" >&2
cargo run --locked -q -p ra-examples --bin ra-demo
echo "== all tests passed" >&2
