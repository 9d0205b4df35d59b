#!/usr/bin/env bash
# What sync-openai costs on top of plain ureq + serde_json, measured side by side:
#
#   scripts/footprint.sh
#
# Prints
#   - unique crates in `cargo tree -e normal` (default features, --no-default-features),
#     for sync-openai and for the plain-ureq program;
#   - the WALL and CPU time of clean builds, release and debug, of the quickstart
#     (scripts/footprint/sync-openai: the quickstart example without its httpmock-based
#     offline mock) and of the same two requests written against ureq + serde_json
#     (scripts/footprint/plain-ureq), each in a fresh target directory, one after the
#     other, and their ratios. The wall time is what a user waits: this crate's own unit
#     comes last in the build, after every dependency, and runs mostly on one core;
#   - from `cargo build --timings` of the same builds: the sync-openai library unit's own
#     time (its front end and codegen parts), and the program's unit, per profile;
#   - the stripped binary size of both (release);
#   - peak RSS (/usr/bin/time -v) and start-to-exit time of one run of each (SSL_CERT_FILE
#     unset: plain ureq ignores it, sync-openai would load the bundle it names) (one chat
#     completion and one streamed completion) against a local std-only server
#     (scripts/footprint/mock-server) started by this script.
#
# Environment: FOOTPRINT_BUILDS (clean builds per program and profile, alternating; default
# 1), FOOTPRINT_PROFILES (default "release debug"), FOOTPRINT_RUNS (runs per program for RSS
# and time; default 20), FOOTPRINT_FEATURES (e.g. "files batch bulk": also a clean release
# build of the sync-openai program with each of these features added, one at a time, and
# with all of them, in the same run: the build seconds and crates of the README's features
# table). FOOTPRINT_DEBUG=1 is accepted for older notes (debug is measured by default).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
fp=$root/scripts/footprint
builds=${FOOTPRINT_BUILDS:-1}
runs=${FOOTPRINT_RUNS:-20}
profiles=${FOOTPRINT_PROFILES:-release debug}
features=${FOOTPRINT_FEATURES:-}

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

echo "== clean builds, fresh target directories, one after the other ($profiles)"
# Download first so that only compiling is timed.
for p in sync-openai plain-ureq mock-server; do
    (cd "$fp/$p" && cargo fetch --quiet)
done
# wall[profile,program], cpu[…], lib[…] (the sync-openai unit), own[…] (the program's unit):
# space-separated samples.
declare -A b_wall b_cpu b_lib b_own
clean_build() { # program, profile, target dir, extra cargo flags...: times one clean build
    local p=$1 profile=$2 target=$3
    shift 3
    local flags=(--locked --quiet --timings)
    [ "$profile" = release ] && flags+=(--release)
    (cd "$fp/$p" && CARGO_TARGET_DIR=$target /usr/bin/time -f '%e %U %S' -o "$work/build-time.txt" \
        cargo build "${flags[@]}" "$@")
    read -r t user sys <"$work/build-time.txt"
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.1f", u+s}')
    read -r _ lib lib_front lib_codegen < <(python3 "$fp/unit-times.py" "$target/cargo-timings/cargo-timing.html" sync-openai)
    read -r _ own _ _ < <(python3 "$fp/unit-times.py" "$target/cargo-timings/cargo-timing.html" "footprint-$p")
}
for i in $(seq "$builds"); do
    for profile in $profiles; do
        for p in sync-openai plain-ureq; do
            target=$work/target-$profile-$p-$i
            clean_build "$p" "$profile" "$target"
            key="$profile,$p"
            b_wall[$key]="${b_wall[$key]:-} $t"
            b_cpu[$key]="${b_cpu[$key]:-} $cpu"
            b_lib[$key]="${b_lib[$key]:-} $lib"
            b_own[$key]="${b_own[$key]:-} $own"
            unit=""
            [ "$lib" = - ] || unit=", sync-openai unit ${lib} s (front end ${lib_front} s, codegen ${lib_codegen} s)"
            echo "$profile build $i $p: ${t} s wall, ${cpu} s CPU${unit}, program unit ${own} s (load $(cut -d' ' -f1 /proc/loadavg))"
            if [ "$profile" = release ] && [ "$i" = "$builds" ]; then
                cp "$target/release/footprint-$p" "$work/$p"
            fi
            rm -rf "$target"
        done
    done
done
if [ ! -e "$work/sync-openai" ]; then
    # The binary and memory rows need a release build even when only debug was timed.
    clean_build sync-openai release "$work/target-bin-sync"
    cp "$work/target-bin-sync/release/footprint-sync-openai" "$work/sync-openai"
    clean_build plain-ureq release "$work/target-bin-plain"
    cp "$work/target-bin-plain/release/footprint-plain-ureq" "$work/plain-ureq"
    rm -rf "$work/target-bin-sync" "$work/target-bin-plain"
fi
med() { echo "$1" | tr ' ' '\n' | grep . | grep -v '^-$' | median; }

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
        # SSL_CERT_FILE unset, like for like: sync-openai reads it (a system bundle, parsed
        # and kept: about 450 KiB more peak RSS), plain ureq never does.
        env -u OPENAI_API_KEY -u SSL_CERT_FILE OPENAI_BASE_URL="$base" /usr/bin/time -v -o "$work/time.txt" "$work/$p" >/dev/null
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
row() { printf '%-40s %12s %12s %8s\n' "$1" "$2" "$3" "$4"; }
row "" "sync-openai" "plain ureq" "ratio"
for profile in $profiles; do
    ws=$(med "${b_wall[$profile,sync-openai]}")
    wp=$(med "${b_wall[$profile,plain-ureq]}")
    cs=$(med "${b_cpu[$profile,sync-openai]}")
    cp_=$(med "${b_cpu[$profile,plain-ureq]}")
    row "clean $profile build, wall (s)" "$ws" "$wp" "$(ratio "$ws" "$wp")"
    row "clean $profile build, CPU (s)" "$cs" "$cp_" "$(ratio "$cs" "$cp_")"
    row "  sync-openai unit, --timings (s)" "$(med "${b_lib[$profile,sync-openai]}")" "-" ""
    row "  the program's unit, --timings (s)" "$(med "${b_own[$profile,sync-openai]}")" "$(med "${b_own[$profile,plain-ureq]}")" ""
done
row "stripped binary (KiB)" "$((s_sync / 1024))" "$((s_plain / 1024))" "$(ratio "$s_sync" "$s_plain")"
row "peak RSS (KiB)" "$r_sync" "$r_plain" "$(ratio "$r_sync" "$r_plain")"
row "start-to-exit (ms)" "$(awk -v u="$w_sync" 'BEGIN {printf "%.2f", u/1000}')" "$(awk -v u="$w_plain" 'BEGIN {printf "%.2f", u/1000}')" "$(ratio "$w_sync" "$w_plain")"

if [ -n "$features" ]; then
    echo
    echo "== the sync-openai program with features added: clean release build, one after the other"
    row "features" "wall (s)" "lib unit (s)" "crates"
    sets=("" $features "$(echo "$features" | tr ' ' ',')")
    for set in "${sets[@]}"; do
        flags=()
        [ -n "$set" ] && flags=(--features "$(echo "$set" | sed 's/\([^,]*\)/sync-openai\/\1/g')")
        clean_build sync-openai release "$work/target-feature" "${flags[@]}"
        crates=$(count_crates "$fp/sync-openai" "${flags[@]}")
        row "${set:-default}" "$t" "$lib" "$crates"
        rm -rf "$work/target-feature"
    done
fi
echo done
