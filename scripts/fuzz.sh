#!/usr/bin/env bash
# Runs each cargo-fuzz target of fuzz/ for SECONDS (default 600), one after the other on
# one core, and prints executions and findings per target.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Each target runs with a -max_len large enough to cross the limits it exercises, and
# -len_control=0 so that inputs of that length are tried from the start:
#   sse_stream       16384  (its 4 KiB event limit, the line limit, its 8 KiB stream limit,
#                            128 choices in ~4.5 KiB, 1024 tool calls in ~12 KiB)
#   decode_response   8192  (128 choices in ~400 bytes, 1024 tool calls in ~3 KiB)
#   error_body       70000  (MAX_ERROR_BODY_BYTES, 64 KiB, and the snippets' cuts)
#   accumulate        8192  (the generator's choices: a few KiB drive a whole completion)
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked --version 0.13.2`).
# The growing corpus is kept in fuzz/corpus/<target> (not committed), seeded from
# fuzz/seeds/<target>; crashes, timeouts and OOMs land in fuzz/artifacts/<target>/.
# Reproduce one with: cargo +nightly fuzz run -a <target> <file>
# Exit status: 0 when no target found anything.
set -euo pipefail

cd "$(dirname "$0")/.."
secs="${1:-600}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(sse_stream decode_response error_body accumulate)
fi

max_len() {
    case "$1" in
        sse_stream) echo 16384 ;;
        error_body) echo 70000 ;;
        *) echo 8192 ;;
    esac
}
logs="fuzz/logs"
mkdir -p "$logs"

# -a: debug assertions and overflow checks on, so arithmetic overflow is a finding too.
for t in "${targets[@]}"; do
    cargo +nightly fuzz build -a "$t" 2>&1 | tail -n 1
done

declare -a rows
status=0
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
    before=$(find "fuzz/artifacts/$t" -type f | sort)
    log="$logs/$t.log"
    echo "== $t: ${secs}s (log: $log)"
    start=$(date +%s)
    set +e
    cargo +nightly fuzz run -a "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
        -max_total_time="$secs" -max_len="$(max_len "$t")" -len_control=0 -timeout=10 \
        -rss_limit_mb=2048 \
        -print_final_stats=1 \
        >"$log" 2>&1
    rc=$?
    set -e
    elapsed=$(( $(date +%s) - start ))
    # Executions: libFuzzer's final stats, else "Done N runs", else the last "#N" status line.
    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    [ -n "$execs" ] || execs=$(sed -n 's/^Done \([0-9]*\) runs in.*/\1/p' "$log" | tail -n 1)
    [ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
    done_line=$(grep -E '^Done [0-9]+ runs in' "$log" | tail -n 1 || true)
    new=$(comm -13 <(echo "$before") <(find "fuzz/artifacts/$t" -type f | sort) | sed '/^$/d')
    findings=$(printf '%s' "$new" | grep -c . || true)
    corpus=$(find "fuzz/corpus/$t" -type f | wc -l)
    echo "   ${done_line:-no Done line (exit $rc)}"
    if [ "$findings" -gt 0 ] || [ "$rc" -ne 0 ]; then
        status=1
        grep -E '^(SUMMARY|==[0-9]+== ERROR|thread .* panicked)' "$log" | head -n 5 || true
        printf '   finding: %s\n' $new
    fi
    rows+=("$(printf '%-16s %8s %8.1f %12s %9s %8s' "$t" "$elapsed" \
        "$(echo "$elapsed / 60" | bc -l)" "${execs:-?}" "$corpus" "$findings")")
done

echo
printf '%-16s %8s %8s %12s %9s %8s\n' target seconds minutes executions corpus findings
printf '%s\n' "${rows[@]}"
exit $status
