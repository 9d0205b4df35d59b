#!/usr/bin/env bash
# Conformance run against the official OpenAPI spec with Stoplight Prism.
#
# Installs @stoplight/prism-cli (pinned) into .tools/prism (git-ignored), rewrites the spec's
# OpenAPI-3.0 `nullable: true` into 3.1 form (scripts/normalize_spec.py) so Prism validates
# request bodies correctly, starts Prism as a validating mock on 127.0.0.1 (an invalid request
# gets 422 with the list of violations), runs tests/conformance.rs against it, and stops Prism
# by its PID on exit.
#
# Usage: bash scripts/prism.sh [extra cargo test args, e.g. a test name filter]
# Environment: OPENAPI_SPEC (default spec/chat.openapi.yaml, the vendored Chat subset),
# OPENAPI_FULL_SPEC (the full spec the Files, Batches and Models operations are copied from; default
# openapi.yaml beside OPENAPI_SPEC), PRISM_PORT (default: a free port), PRISM_DYNAMIC_PER_OPERATION (random bodies
# decoded per operation, default 200). Needs node + npm, python3, cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

PRISM_VERSION=5.16.0
TOOLS=$ROOT/.tools/prism
SPEC=${OPENAPI_SPEC:-$ROOT/spec/chat.openapi.yaml}
NORMALIZED=$TOOLS/chat.openapi.json
LOG=$TOOLS/prism.log

t0=$(date +%s)
elapsed() { echo "$(( $(date +%s) - t0 ))s"; }
step() { printf '\n==> [%s] %s\n' "$(elapsed)" "$*"; }

[ -f "$SPEC" ] || { echo "spec not found: $SPEC (set OPENAPI_SPEC)" >&2; exit 1; }
mkdir -p "$TOOLS"

installed=$(node -p "require('$TOOLS/node_modules/@stoplight/prism-cli/package.json').version" 2>/dev/null || true)
if [ "$installed" != "$PRISM_VERSION" ]; then
    step "installing @stoplight/prism-cli@$PRISM_VERSION into .tools/prism"
    [ -f "$TOOLS/package.json" ] || echo '{"private": true}' > "$TOOLS/package.json"
    npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error \
        "@stoplight/prism-cli@$PRISM_VERSION"
else
    step "@stoplight/prism-cli@$PRISM_VERSION already installed"
fi
PRISM=$TOOLS/node_modules/.bin/prism

step "normalizing nullable: true in $(basename "$SPEC")"
if python3 -c 'import yaml' 2>/dev/null; then
    python3 scripts/normalize_spec.py "$SPEC" "$NORMALIZED"
else
    # No PyYAML: let the js-yaml that Prism brings read the YAML.
    node -e "const y=require('$TOOLS/node_modules/js-yaml'),fs=require('fs');
             fs.writeFileSync(process.argv[1], JSON.stringify(y.load(fs.readFileSync(process.argv[2],'utf8'))))" \
        "$TOOLS/chat.openapi.raw.json" "$SPEC"
    python3 scripts/normalize_spec.py "$TOOLS/chat.openapi.raw.json" "$NORMALIZED"
fi

# The Files, Batches and Models requests are validated by the same Prism: their operations and
# schemas are copied from the full spec (openapi.yaml beside the subset) into the subset.
FULL_SPEC=${OPENAPI_FULL_SPEC:-$(dirname "$SPEC")/openapi.yaml}
[ -f "$FULL_SPEC" ] || { echo "full spec not found: $FULL_SPEC (set OPENAPI_FULL_SPEC)" >&2; exit 1; }
step "adding the Files, Batches and Models operations of $(basename "$FULL_SPEC")"
if ! python3 -c 'import yaml' 2>/dev/null && [ "${FULL_SPEC%.json}" = "$FULL_SPEC" ]; then
    node -e "const y=require('$TOOLS/node_modules/js-yaml'),fs=require('fs');
             fs.writeFileSync(process.argv[1], JSON.stringify(y.load(fs.readFileSync(process.argv[2],'utf8'))))" \
        "$TOOLS/openapi.full.json" "$FULL_SPEC"
    FULL_SPEC=$TOOLS/openapi.full.json
fi
python3 scripts/add_spec_operations.py "$FULL_SPEC" "$NORMALIZED" \
    /files:post /files:get /files/{file_id}:get /files/{file_id}:delete /files/{file_id}/content:get \
    /batches:post /batches:get /batches/{batch_id}:get /batches/{batch_id}/cancel:post \
    /models:get /models/{model}:get

PORT=${PRISM_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
step "starting Prism on 127.0.0.1:$PORT (log: .tools/prism/prism.log)"
"$PRISM" mock --host 127.0.0.1 --port "$PORT" --errors --verboseLevel warn "$NORMALIZED" >"$LOG" 2>&1 &
PRISM_PID=$!
stop_prism() {
    if kill -0 "$PRISM_PID" 2>/dev/null; then
        kill "$PRISM_PID" 2>/dev/null || true
        wait "$PRISM_PID" 2>/dev/null || true
    fi
}
trap stop_prism EXIT

# Prism opens its port once the spec is loaded and it can answer.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }
for _ in $(seq 1 240); do
    if ! kill -0 "$PRISM_PID" 2>/dev/null; then
        echo "Prism exited during startup:" >&2
        cat "$LOG" >&2
        exit 1
    fi
    listening && break
    sleep 0.25
done
listening || {
    echo "Prism did not answer within 60 s:" >&2
    cat "$LOG" >&2
    exit 1
}
step "Prism is up (pid $PRISM_PID)"

step "cargo test --test suite conformance:: conformance_batches:: against Prism"
status=0
PRISM_URL="http://127.0.0.1:$PORT" cargo test --test suite -- --nocapture --test-threads=1 conformance:: conformance_batches:: "$@" || status=$?

if [ "$status" -ne 0 ]; then
    echo "--- last lines of the Prism log ---"
    tail -n 40 "$LOG" || true
fi
step "done (exit $status)"
exit "$status"
