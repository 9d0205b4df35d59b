#!/usr/bin/env bash
# The benchmark against a real server as well as the in-process one, in the same run:
# nginx from Debian (one worker, on 127.0.0.1, pinned to the last core when there are
# two or more) serves the bench's completion and event stream as static files.
#
#   scripts/bench-nginx.sh            # BENCH_ROUNDS, BENCH_JSON_N, BENCH_SSE_CHUNKS as for the bench
#
# Installs nginx with apt-get when it is missing, starts it with the configuration in
# scripts/bench-nginx/nginx.conf under target/bench-nginx/, runs
# `cargo bench --bench bench` with BENCH_NGINX set, and stops nginx.
set -euo pipefail
cd "$(dirname "$0")/.."

NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$NGINX" ]; then
    echo "installing nginx (apt-get)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx) >/dev/null
    NGINX=$(command -v nginx || echo /usr/sbin/nginx)
fi

PREFIX="$PWD/target/bench-nginx"
rm -rf "$PREFIX"
mkdir -p "$PREFIX/conf" "$PREFIX/logs" "$PREFIX/tmp" "$PREFIX/html"

cargo bench --quiet --bench bench -- --write-fixtures "$PREFIX/html"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
USER_LINE=""
if [ "$(id -u)" = 0 ]; then USER_LINE="user root;"; fi
sed -e "s/__PORT__/$PORT/" -e "s/__USER__/$USER_LINE/" scripts/bench-nginx/nginx.conf >"$PREFIX/conf/nginx.conf"

PIN=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    PIN=(taskset -c "$(($(nproc) - 1))")
fi
"${PIN[@]}" "$NGINX" -p "$PREFIX" -c conf/nginx.conf &
NGINX_PID=$!
trap 'kill "$NGINX_PID" 2>/dev/null || true; wait "$NGINX_PID" 2>/dev/null || true' EXIT

# Wait until nginx answers a POST with the completion (python3 only, no curl needed).
python3 - "$PORT" <<'PY'
import sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/json/v1/chat/completions"
for _ in range(100):
    try:
        body = urllib.request.urlopen(urllib.request.Request(url, data=b"{}", method="POST")).read()
        print(body[:60].decode(), "…")
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("nginx did not answer")
PY

echo "nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///') on 127.0.0.1:$PORT ${PIN[*]:+(pinned: ${PIN[*]})}; machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
BENCH_NGINX="http://127.0.0.1:$PORT" cargo bench --quiet --bench bench
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
