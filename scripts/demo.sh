#!/usr/bin/env bash
# The demo: a host and a helper on this machine, over loopback, narrated.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh demo
# shellcheck disable=SC1091
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
cargo build --locked -p ra-examples --bins
exec ./target/debug/ra-demo
