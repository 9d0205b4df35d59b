#!/usr/bin/env bash
# How long `cargo test` takes a contributor, measured as the README tells a newcomer to
# work: a fresh clone, `cargo run --example quickstart` first (it builds the dependencies),
# then `cargo test`, timed (wall clock), with the number of test binaries and of cases run:
#
#   scripts/test-time.sh [REV ...]     # default: HEAD
#
# Each REV is cloned from this repository into an empty temporary directory with its own
# target directory (nothing shared with this checkout), one after the other. Prints per
# revision: the wall time of `cargo test`, the test binaries it ran (unit, integration,
# doctest runs) and the cases that passed, summed over them.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
revs=("$@")
[ ${#revs[@]} -gt 0 ] || revs=(HEAD)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for rev in "${revs[@]}"; do
    dir=$work/$(git rev-parse --short "$rev")
    git clone --quiet --no-hardlinks "$root" "$dir"
    git -C "$dir" checkout --quiet "$rev"
    (cd "$dir" && env -u OPENAI_API_KEY -u OPENAI_BASE_URL cargo run --quiet --example quickstart >/dev/null)
    start=$(date +%s%N)
    (cd "$dir" && env -u OPENAI_API_KEY -u OPENAI_BASE_URL cargo test >"$dir/test.log" 2>&1) ||
        { tail -30 "$dir/test.log"; echo "cargo test failed at $rev"; exit 1; }
    end=$(date +%s%N)
    binaries=$(grep -cE '^\s+(Running|Doc-tests) ' "$dir/test.log")
    cases=$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$dir/test.log" | awk '{s+=$1} END {print s}')
    printf '%s: cargo test %.1f s wall, %s test binaries run, %s cases passed (load %s)\n' \
        "$rev" "$(awk -v a="$start" -v b="$end" 'BEGIN {print (b - a) / 1e9}')" "$binaries" "$cases" "$(cut -d' ' -f1 /proc/loadavg)"
    rm -rf "$dir"
done
