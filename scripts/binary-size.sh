#!/usr/bin/env bash
# Where the footprint program's extra binary bytes go, against the plain-ureq program:
#
#   scripts/binary-size.sh
#
# Builds both programs of scripts/footprint.sh (release, default features, the
# repository's lock file) in fresh target directories with v0 symbol mangling, so that a
# generic function instantiated for one of this crate's types carries the type in its
# name, and prints from `nm -S` of the unstripped binaries:
#   - the text bytes per leading crate of each symbol, both programs and the difference;
#   - the bytes of symbols that name sync_openai, per module of the crate;
#   - the bytes of functions compiled more than once (one copy per codegen unit: rustc
#     does not share generic instances between a release crate's codegen units), both
#     programs;
#   - the bytes per kind of code named in SIZE_GROUPS (regular expressions, space
#     separated; default: the families the closing notes follow).
# Needs rustfilt (`cargo install rustfilt --locked`), nm (binutils) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
fp=$root/scripts/footprint
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v rustfilt >/dev/null || cargo install rustfilt --locked --quiet

for p in sync-openai plain-ureq; do
    cp "$root/Cargo.lock" "$fp/$p/Cargo.lock"
    (cd "$fp/$p" && RUSTFLAGS="-C symbol-mangling-version=v0" CARGO_TARGET_DIR="$work/$p" \
        cargo build --release --quiet)
done

groups=${SIZE_GROUPS:-'Moderation Logprob Audio Annotation|UrlCitation sync_openai::observe sync_openai::(cache|record) sync_openai::tls sync_openai::accumulate sync_openai::config sync_openai::error ::Clone.*sync_openai|sync_openai.*::Clone drop_in_place.*sync_openai Serialize.*sync_openai|sync_openai.*Serialize'}

python3 - "$work/sync-openai/release/footprint-sync-openai" \
    "$work/plain-ureq/release/footprint-plain-ureq" "$groups" <<'PY'
import collections, re, subprocess, sys

def load(path):
    out = subprocess.run(["nm", "-S", "--size-sort", path], capture_output=True, text=True, check=True).stdout
    rows = [p for p in (l.split() for l in out.splitlines()) if len(p) >= 4 and p[2] in "tT"]
    names = subprocess.run(["rustfilt"], input="\n".join(p[3] for p in rows), capture_output=True, text=True, check=True).stdout.split("\n")
    return [(int(p[1], 16), re.sub(r"::h[0-9a-f]{16}$", "", d)) for p, d in zip(rows, names)]

ours, plain = load(sys.argv[1]), load(sys.argv[2])

def by_crate(syms):
    c = collections.Counter()
    for size, name in syms:
        m = re.match(r"[<&* ]*(?:mut |dyn )?([a-z_0-9]+)::", name)
        c["sync_openai" if "sync_openai" in name else (m.group(1) if m else "other")] += size
    return c

a, b = by_crate(ours), by_crate(plain)
print("== text bytes by leading crate (a symbol naming sync_openai counts as sync_openai)")
print(f"{'':24} {'sync-openai':>12} {'plain ureq':>12} {'difference':>12}")
for k in sorted(set(a) | set(b), key=lambda k: -(a[k] - b[k]))[:15]:
    print(f"{k:24} {a[k]:12} {b[k]:12} {a[k] - b[k]:+12}")
print(f"{'total':24} {sum(a.values()):12} {sum(b.values()):12} {sum(a.values()) - sum(b.values()):+12}")

print("\n== bytes of symbols naming sync_openai, by the first module named")
mods = collections.Counter()
for size, name in ours:
    m = re.search(r"sync_openai::([a-z_0-9]+(?:::[a-z_0-9]+)?)", name)
    if m:
        mods[m.group(1)] += size
for k, v in mods.most_common(20):
    print(f"{v:9} {k}")

def dups(syms):
    g = collections.defaultdict(list)
    for size, name in syms:
        g[name].append(size)
    total = sum(sum(l) - max(l) for l in g.values() if len(l) > 1)
    own = sum(sum(l) - max(l) for n, l in g.items() if len(l) > 1 and "sync_openai" in n)
    return total, own

(ta, oa), (tb, _) = dups(ours), dups(plain)
print(f"\n== functions compiled more than once: bytes beyond the first copy")
print(f"sync-openai {ta} (of which naming sync_openai: {oa}), plain ureq {tb}")

print("\n== bytes by kind (first matching pattern wins)")
pats = sys.argv[3].split()
c = collections.Counter()
for size, name in ours:
    for p in pats:
        if re.search(p, name):
            c[p] += size
            break
for p in pats:
    print(f"{c[p]:9} {p}")
PY
