#!/usr/bin/env bash
# Where the crate's compile time goes: the lines of LLVM IR the library makes, the largest
# functions, and the families they belong to, with `cargo llvm-lines` (crates.io:
# `cargo install cargo-llvm-lines --locked`):
#
#   scripts/llvm-lines.sh [cargo flags, e.g. --no-default-features --features files]
#
# Prints the total lines and copies (monomorphized instances) of `cargo llvm-lines
# --release --lib`, its top 10 functions, and the total per family (serde_json's
# deserializers, this crate's derived visitors, BTreeMap, …), a grouping that shows which
# kind of code to shrink. LLVM's time in the crate's unit grows with these lines. Builds in
# the repository's target directory (release profile).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo llvm-lines --version >/dev/null 2>&1; then
    echo "cargo llvm-lines is not installed: cargo install cargo-llvm-lines --locked" >&2
    exit 1
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
cargo llvm-lines --release --lib "$@" >"$out" 2>/dev/null

echo "== cargo llvm-lines --release --lib $*"
sed -n 3p "$out" | awk '{printf "total: %d lines of LLVM IR in %d function copies\n", $1, $2}'
echo
echo "== top 10"
sed -n '1,2p;4,13p' "$out"
echo
echo "== by family (lines, copies)"
python3 - "$out" <<'PY'
import collections, re, sys

families = [  # first match wins
    ("this crate: derived and hand-written Deserialize", r"sync_openai.*(serde_core::de|Deserialize|Visitor)"),
    ("this crate: Serialize", r"sync_openai.*(serde_core::ser|Serialize)"),
    ("this crate: other", r"^<?sync_openai"),
    ("serde_json: decoding from a Value", r"serde_json::value::de|MapDeserializer|SeqDeserializer"),
    ("serde: Content buffer (flatten, untagged)", r"serde::private::de|Content(Ref)?Deserializer|FlatMap"),
    ("serde_json: decoding from bytes or str", r"serde_json::de"),
    ("serde_json/serde: serializing", r"serde_json::ser|serde_core::ser"),
    ("serde_json: Value, Map", r"serde_json::(value|map)"),
    ("serde: Deserialize of std types", r"serde_core::de"),
    ("BTreeMap", r"btree"),
    ("drop_in_place", r"drop_in_place"),
]
lines, copies = collections.Counter(), collections.Counter()
for line in open(sys.argv[1]):
    m = re.match(r"\s*(\d+) \([^)]*\)\s+(\d+) \([^)]*\)\s+(.*)", line)
    if not m or m[3] == "(TOTAL)":
        continue
    name = m[3]
    family = next((f for f, pattern in families if re.search(pattern, name)), "other std, core, alloc, ureq, http")
    lines[family] += int(m[1])
    copies[family] += int(m[2])
for family, n in lines.most_common():
    print(f"{n:9d} {copies[family]:7d}  {family}")
PY
