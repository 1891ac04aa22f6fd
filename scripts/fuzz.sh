#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser (the targets in fuzz/fuzz_targets):
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# runs each target (all by default) for SECONDS (default 60) with cargo fuzz
# (nightly, AddressSanitizer), starting from the seed corpora that
# ra-fuzz-seeds makes from real messages plus what earlier runs kept in
# fuzz/corpus/TARGET, and prints the executions of each. A crash fails the
# run; its input is in fuzz/artifacts/TARGET (make it a regression test).
# The libFuzzer seed is fixed (RA_FUZZ_SEED, default 1) so a run can be
# repeated. RA_FUZZ_CORPUS puts the corpora elsewhere than fuzz/corpus (the
# test command's short run starts from the seeds alone). RA_FUZZ_DEV=1 builds
# the targets without optimisation (still with AddressSanitizer): quicker to
# build, slower to run — for the test command's smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC1091
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
seconds=${1:-60}
shift || true
target=${CARGO_TARGET_DIR:-target}

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz: the nightly toolchain is missing (rustup toolchain install nightly)" >&2
    exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: cargo-fuzz is missing (cargo install cargo-fuzz --locked)" >&2
    exit 1
fi

cargo build --locked -q -p ra-testkit --bin ra-fuzz-seeds
seeds="$target/fuzz-seeds"
rm -rf "$seeds"
"$target/debug/ra-fuzz-seeds" "$seeds" >/dev/null

profile=()
if [ "${RA_FUZZ_DEV:-0}" = 1 ]; then
    profile=(--dev)
fi
(cd fuzz && cargo +nightly fuzz build "${profile[@]}")
corpora=$(realpath -m "${RA_FUZZ_CORPUS:-fuzz/corpus}")
seeds=$(realpath -m "$seeds")
if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cd fuzz && cargo +nightly fuzz list)
fi

failed=()
printf '%-18s %12s %10s %8s\n' target executions "per second" corpus >&2
for name in "${targets[@]}"; do
    corpus="$corpora/$name"
    mkdir -p "$corpus" "$seeds/$name"
    log=$(mktemp)
    if (cd fuzz && cargo +nightly fuzz run "${profile[@]}" "$name" "$corpus" "$seeds/$name" -- \
        -max_total_time="$seconds" -seed="${RA_FUZZ_SEED:-1}" -timeout=10 \
        -print_final_stats=1) >"$log" 2>&1; then
        status=ok
    else
        status=CRASH
        failed+=("$name")
        tail -n 40 "$log" >&2
    fi
    executions=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -n 1)
    rate=$(awk '/stat::average_exec_per_sec/ {print $2}' "$log" | tail -n 1)
    printf '%-18s %12s %10s %8s %s\n' "$name" "${executions:-?}" "${rate:-?}" \
        "$(find "$corpus" -type f | wc -l)" "$status" >&2
    rm -f "$log"
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: crashes in ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
