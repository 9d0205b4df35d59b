#!/usr/bin/env bash
# What sync-openai costs on top of plain ureq + serde_json, measured side by side:
#
#   scripts/footprint.sh
#
# Prints
#   - unique crates in `cargo tree -e normal` (default features, --no-default-features),
#     for sync-openai and for the plain-ureq program;
#   - clean release build time of the quickstart (scripts/footprint/sync-openai: the
#     quickstart example without its httpmock-based offline mock) and of the same two
#     requests written against ureq + serde_json (scripts/footprint/plain-ureq), each in a
#     fresh target directory, same profile (release), one after the other;
#   - the stripped binary size of both;
#   - peak RSS (/usr/bin/time -v) and start-to-exit time of one run of each (one chat
#     completion and one streamed completion) against a local std-only server
#     (scripts/footprint/mock-server) started by this script.
#
# Environment: FOOTPRINT_BUILDS (clean builds per program, alternating; default 1),
# FOOTPRINT_RUNS (runs per program for RSS and time; default 20), FOOTPRINT_DEBUG=1 (also
# time clean debug builds, each in a fresh target directory, and print their ratios).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
fp=$root/scripts/footprint
builds=${FOOTPRINT_BUILDS:-1}
runs=${FOOTPRINT_RUNS:-20}

if [ ! -x /usr/bin/time ]; then
    echo "installing GNU time for peak RSS" >&2
    (apt-get update -qq && apt-get install -y -qq time) >/dev/null
fi

work=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# The same dependency versions for both programs: the repository's lock file.
for p in sync-openai plain-ureq mock-server; do
    cp "$root/Cargo.lock" "$fp/$p/Cargo.lock"
done

count_crates() { # dir, cargo tree flags...
    (cd "$1" && shift && cargo tree -e normal --prefix none "$@") |
        sed 's/ (\*)//; s/ (proc-macro)//' | sort -u | wc -l
}

median() { sort -n | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$(cargo --version), $(rustc --version)"
echo

echo "== unique crates in cargo tree -e normal (each counting itself)"
printf '%-28s %10s %22s\n' "" "default" "--no-default-features"
printf '%-28s %10s %22s\n' "sync-openai" "$(count_crates "$root")" "$(count_crates "$root" --no-default-features)"
printf '%-28s %10s %22s\n' "plain ureq + serde_json" "$(count_crates "$fp/plain-ureq")" "-"
echo

echo "== clean release builds, fresh target directories, one after the other"
# Download first so that only compiling is timed.
for p in sync-openai plain-ureq mock-server; do
    (cd "$fp/$p" && cargo fetch --quiet)
done
declare -A build_times build_cpu debug_times debug_cpu
for i in $(seq "$builds"); do
    for p in sync-openai plain-ureq; do
        target=$work/target-$p-$i
        (cd "$fp/$p" && CARGO_TARGET_DIR=$target /usr/bin/time -f '%e %U %S' -o "$work/build-time.txt" cargo build --release --locked --quiet)
        read -r t user sys <"$work/build-time.txt"
        cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.1f", u+s}')
        build_times[$p]="${build_times[$p]:-} $t"
        build_cpu[$p]="${build_cpu[$p]:-} $cpu"
        echo "build $i $p: ${t} s wall, ${cpu} s CPU (load $(cut -d' ' -f1 /proc/loadavg))"
        cp "$target/release/footprint-$p" "$work/$p"
        [ "$i" = "$builds" ] || rm -rf "$target"
        if [ "${FOOTPRINT_DEBUG:-0}" = 1 ]; then
            dtarget=$work/target-debug-$p-$i
            (cd "$fp/$p" && CARGO_TARGET_DIR=$dtarget /usr/bin/time -f '%e %U %S' -o "$work/build-time.txt" cargo build --locked --quiet)
            read -r t user sys <"$work/build-time.txt"
            cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.1f", u+s}')
            debug_times[$p]="${debug_times[$p]:-} $t"
            debug_cpu[$p]="${debug_cpu[$p]:-} $cpu"
            echo "debug build $i $p: ${t} s wall, ${cpu} s CPU (load $(cut -d' ' -f1 /proc/loadavg))"
            rm -rf "$dtarget"
        fi
    done
done
b_sync=$(echo "${build_times[sync-openai]}" | tr ' ' '\n' | grep . | median)
b_plain=$(echo "${build_times[plain-ureq]}" | tr ' ' '\n' | grep . | median)
c_sync=$(echo "${build_cpu[sync-openai]}" | tr ' ' '\n' | grep . | median)
c_plain=$(echo "${build_cpu[plain-ureq]}" | tr ' ' '\n' | grep . | median)

for p in sync-openai plain-ureq; do
    strip -o "$work/$p.stripped" "$work/$p"
done
s_sync=$(stat -c %s "$work/sync-openai.stripped")
s_plain=$(stat -c %s "$work/plain-ureq.stripped")

(cd "$fp/mock-server" && CARGO_TARGET_DIR=$work/target-server cargo build --release --quiet)
"$work/target-server/release/footprint-mock-server" >"$work/server.out" &
server_pid=$!
for _ in $(seq 50); do [ -s "$work/server.out" ] && break; sleep 0.1; done
base=$(head -1 "$work/server.out")

declare -A rss wall
for p in sync-openai plain-ureq; do
    out=$(env -u OPENAI_API_KEY OPENAI_BASE_URL="$base" "$work/$p")
    grep -q 'reply:      Hello, Rustacean! (from the local mock)' <<<"$out" &&
        grep -q 'streamed:   Hello, Rustacean! (streamed from the mock)' <<<"$out" ||
        { echo "$p did not print the mock's answers:"; echo "$out"; exit 1; }
done
for i in $(seq "$runs"); do
    for p in sync-openai plain-ureq; do
        start=$(date +%s%N)
        env -u OPENAI_API_KEY OPENAI_BASE_URL="$base" /usr/bin/time -v -o "$work/time.txt" "$work/$p" >/dev/null
        end=$(date +%s%N)
        wall[$p]="${wall[$p]:-} $(((end - start) / 1000))"
        rss[$p]="${rss[$p]:-} $(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")"
    done
done
r_sync=$(echo "${rss[sync-openai]}" | tr ' ' '\n' | grep . | median)
r_plain=$(echo "${rss[plain-ureq]}" | tr ' ' '\n' | grep . | median)
w_sync=$(echo "${wall[sync-openai]}" | tr ' ' '\n' | grep . | median)
w_plain=$(echo "${wall[plain-ureq]}" | tr ' ' '\n' | grep . | median)

echo
echo "== quickstart (sync-openai) vs the same requests on plain ureq + serde_json"
echo "(build: median of $builds clean build(s); RSS and start-to-exit: median of $runs runs, each one completion + one stream against a local server)"
printf '%-34s %14s %14s %8s\n' "" "sync-openai" "plain ureq" "ratio"
printf '%-34s %14s %14s %8s\n' "clean release build, wall (s)" "$b_sync" "$b_plain" "$(ratio "$b_sync" "$b_plain")"
printf '%-34s %14s %14s %8s\n' "clean release build, CPU (s)" "$c_sync" "$c_plain" "$(ratio "$c_sync" "$c_plain")"
if [ "${FOOTPRINT_DEBUG:-0}" = 1 ]; then
    d_sync=$(echo "${debug_times[sync-openai]}" | tr ' ' '\n' | grep . | median)
    d_plain=$(echo "${debug_times[plain-ureq]}" | tr ' ' '\n' | grep . | median)
    dc_sync=$(echo "${debug_cpu[sync-openai]}" | tr ' ' '\n' | grep . | median)
    dc_plain=$(echo "${debug_cpu[plain-ureq]}" | tr ' ' '\n' | grep . | median)
    printf '%-34s %14s %14s %8s\n' "clean debug build, wall (s)" "$d_sync" "$d_plain" "$(ratio "$d_sync" "$d_plain")"
    printf '%-34s %14s %14s %8s\n' "clean debug build, CPU (s)" "$dc_sync" "$dc_plain" "$(ratio "$dc_sync" "$dc_plain")"
fi
printf '%-34s %14s %14s %8s\n' "stripped binary (KiB)" "$((s_sync / 1024))" "$((s_plain / 1024))" "$(ratio "$s_sync" "$s_plain")"
printf '%-34s %14s %14s %8s\n' "peak RSS (KiB)" "$r_sync" "$r_plain" "$(ratio "$r_sync" "$r_plain")"
printf '%-34s %14s %14s %8s\n' "start-to-exit (ms)" "$(awk -v u="$w_sync" 'BEGIN {printf "%.2f", u/1000}')" "$(awk -v u="$w_plain" 'BEGIN {printf "%.2f", u/1000}')" "$(ratio "$w_sync" "$w_plain")"
