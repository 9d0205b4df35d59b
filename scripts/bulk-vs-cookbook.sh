#!/usr/bin/env bash
# Issue 25's comparison: N (400) short chat requests through `examples/bulk --threads 8`,
# `--threads 32`, and the OpenAI cookbook's api_request_parallel_processor.py, one after
# the other against one rate-limited server with OpenAI's limits: 600 requests and 60,000
# tokens per minute enforced in one-second slices, 300 ms per answer, the six
# x-ratelimit-* headers, 429 with an integer retry-after (scripts/ratelimit-server, which
# is tests/common/ratelimit.rs). Prints the table; stops what it started. About 3 minutes.
#
#   scripts/bulk-vs-cookbook.sh [COOKBOOK_SCRIPT]
#
# COOKBOOK_SCRIPT is a copy of openai-cookbook's examples/api_request_parallel_processor.py
# (default: downloaded from GitHub into a temporary directory). It needs
# `pip install aiohttp tiktoken`. The copy is patched in the temporary directory only, and
# the script says so: its endpoint regex wants https:// (http:// is let through), and when
# tiktoken cannot download its encoding (no network) its token count becomes chars / 4.
# The cookbook row is skipped when the script or its packages are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-400}
work=$(mktemp -d)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

cargo build --quiet --release --manifest-path scripts/ratelimit-server/Cargo.toml \
    --target-dir target/ratelimit-server
cargo build --quiet --example bulk
target/ratelimit-server/release/ratelimit-server >"$work/url" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.1; done
base=$(head -1 "$work/url")
root=${base%/v1}
echo "server at $base (600 rpm, 60000 tpm, 1 s slices, 300 ms per answer); $N requests"

for i in $(seq 0 $((N - 1))); do
    printf '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"id-%d Say hello."}]}\n' "$i"
done >"$work/in.jsonl"

cookbook=
if [ -n "${1:-}" ]; then
    cp "$1" "$work/cookbook.py"
    cookbook="$work/cookbook.py"
elif curl -sSfL -o "$work/cookbook.py" --max-time 20 \
    https://raw.githubusercontent.com/openai/openai-cookbook/main/examples/api_request_parallel_processor.py; then
    cookbook="$work/cookbook.py"
fi
if [ -n "$cookbook" ] && ! python3 -c 'import aiohttp, tiktoken' 2>/dev/null; then
    echo "no aiohttp or tiktoken (pip install aiohttp tiktoken): skipping the cookbook"
    cookbook=
fi
if [ -n "$cookbook" ]; then
    sed -i 's#\^https://#^https?://#g' "$cookbook"
    echo "patched the cookbook copy: its endpoint regex accepts http://"
    if ! python3 -c "import tiktoken; tiktoken.get_encoding('cl100k_base')" >/dev/null 2>&1; then
        python3 - "$cookbook" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
old = "    encoding = tiktoken.get_encoding(token_encoding_name)\n"
new = ("    # patched: tiktoken cannot download its encoding here; count chars / 4\n"
       "    class encoding:\n"
       "        encode = staticmethod(lambda s: range(len(s) // 4))\n")
assert old in text
open(path, "w").write(text.replace(old, new))
PY
        echo "patched the cookbook copy: tiktoken cannot download cl100k_base here, tokens = chars / 4"
    fi
fi

rows=()
run() { # NAME COUNTER COMMAND...
    local name=$1 counter=$2
    shift 2
    rm -f "$work/out.jsonl"
    curl -sf -X POST "$root/_reset" >/dev/null
    local start end
    start=$(date +%s.%N)
    "$@" >"$work/run.log" 2>&1 || echo "$name exited with $?"
    end=$(date +%s.%N)
    local counts stats
    counts=$($counter "$work/out.jsonl")
    stats=$(curl -sf "$root/_stats")
    rows+=("$(python3 -c '
import json, sys
name, start, end, counts, stats = sys.argv[1:]
answered, failed = counts.split()
s = json.loads(stats)
wall = float(end) - float(start)
refused, rate = s["refused"], s["requests_per_minute"]
print(f"| {name} | {wall:.1f} s | {answered} | {failed} | {refused} | {rate:.0f}/min |")
' "$name" "$start" "$end" "$counts" "$stats")")
    echo "${rows[-1]}"
}
bulk_counts() { echo "$(grep -c '"response"' "$1" || true) $(grep -c '"error"' "$1" || true)"; }
cookbook_counts() {
    python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
ok = sum(isinstance(l[1], dict) and "error" not in l[1] for l in lines)
print(ok, len(lines) - ok)' "$1"
}
export OPENAI_BASE_URL=$base OPENAI_API_KEY=sk-local
for threads in 8 32; do
    run "\`examples/bulk --threads $threads\`" bulk_counts \
        target/debug/examples/bulk "$work/in.jsonl" "$work/out.jsonl" --threads "$threads"
done
if [ -n "$cookbook" ]; then
    run "cookbook \`api_request_parallel_processor.py\` (600 rpm, 60000 tpm)" cookbook_counts \
        python3 "$cookbook" --requests_filepath "$work/in.jsonl" --save_filepath "$work/out.jsonl" \
        --request_url "$base/chat/completions" --max_requests_per_minute 600 \
        --max_tokens_per_minute 60000 --api_key sk-local --logging_level 40
fi

echo
echo "| client | wall | answered | given up | 429s | rate at the server |"
echo "|---|--:|--:|--:|--:|--:|"
echo "| ideal (the limit) | $((N / 10)) s | $N | 0 | 0 | 600/min |"
printf '%s\n' "${rows[@]}"
