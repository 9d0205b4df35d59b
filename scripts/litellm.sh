#!/usr/bin/env bash
# End-to-end run of the client through a second real server: the LiteLLM proxy, an
# OpenAI-compatible gateway, in front of a mock model and of llama.cpp's llama-server.
#
#   scripts/litellm.sh
#
# 1. Installs the LiteLLM proxy from PyPI (`litellm[proxy]`, pinned) into a venv under
#    .tools/litellm (git-ignored); a run that finds it installed skips this.
# 2. Starts llama-server with scripts/llama.sh (`LLAMA_SERVE_ONLY=1`: its cached build and
#    tiny model; a first run builds it, about 10 minutes on 2 idle cores). LITELLM_NO_LLAMA=1
#    leaves llama-server out.
# 3. Starts the proxy on 127.0.0.1 with a master key and five models: `mock` (LiteLLM's own
#    `mock_response`), `mock-tools` (a mocked tool call), `mock-overloaded` (a mocked 429),
#    `mock-broken-stream` (a mocked failure inside the stream) and `tiny` (llama-server), and
#    waits for it with ChatApi::wait_ready (examples/wait_ready.rs, each poll logged).
# 4. Runs tests/litellm.rs against it: plain, streamed, collected with usage, n=2, a tool call,
#    and the errors (a bad key, an unknown model, a refused stream).
# 5. Stops everything it started (by PID) on exit, also on failure.
#
# Nothing listens anywhere but 127.0.0.1; LiteLLM reads its model cost map from its own
# package (LITELLM_LOCAL_MODEL_COST_MAP) and sends no telemetry.
set -euo pipefail

PIN=${LITELLM_PIN:-1.90.7}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS=$ROOT/.tools/litellm
VENV=$TOOLS/venv
START=$SECONDS
say() { printf '\n== %s (%ds)\n' "$*" $((SECONDS - START)); }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

PIDS=()
stop_all() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}
trap stop_all EXIT

# Waits for the server at $1 with ChatApi::wait_ready (at most $2 seconds), failing at once
# when the process $3 that serves it exits first.
wait_ready() {
    OPENAI_BASE_URL=$1 OPENAI_LOG=${WAIT_LOG:-} \
        "${CARGO_TARGET_DIR:-$ROOT/target}/debug/examples/wait_ready" "$2" &
    local waiter=$! ended= status=0
    wait -n -p ended "$3" "$waiter" || status=$?
    if [ "$ended" != "$waiter" ]; then
        kill "$waiter" 2>/dev/null || true
        echo "the server at $1 exited before it was ready" >&2
        return 1
    fi
    return "$status"
}

# ---- 1. LiteLLM
mkdir -p "$TOOLS"
if [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))' 2>/dev/null)" != "$PIN" ]; then
    say "installing litellm[proxy]==$PIN into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "litellm[proxy]==$PIN"
fi
echo "litellm $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))')"

cd "$ROOT"
cargo build --quiet --example wait_ready

# ---- 2. llama-server
LLAMA_MODEL=
if [ -z "${LITELLM_NO_LLAMA:-}" ]; then
    LLAMA_PORT=$(free_port)
    say "starting llama-server through scripts/llama.sh on 127.0.0.1:$LLAMA_PORT"
    LLAMA_SERVE_ONLY=1 LLAMA_PORT=$LLAMA_PORT bash scripts/llama.sh >"$TOOLS/llama.log" 2>&1 &
    PIDS+=($!)
    # A first run builds llama-server before it listens: up to an hour on 2 busy cores.
    if wait_ready "http://127.0.0.1:$LLAMA_PORT/v1" 3600 "${PIDS[-1]}"; then
        LLAMA_MODEL=tiny
    else
        tail -20 "$TOOLS/llama.log"
        echo "llama-server did not start: going on with the mock models only" >&2
    fi
fi

# ---- 3. the proxy
PORT=${LITELLM_PORT:-$(free_port)}
KEY=sk-litellm-master-0123456789
CONFIG=$TOOLS/config.yaml
cat >"$CONFIG" <<YAML
model_list:
  - model_name: mock
    litellm_params:
      model: openai/mock
      api_key: unused
      mock_response: "Hello from LiteLLM's mock model."
  - model_name: mock-tools
    litellm_params:
      model: openai/mock
      api_key: unused
      mock_response: ""
      mock_tool_calls:
        - id: call_mock_1
          type: function
          function:
            name: get_weather
            arguments: '{"city": "Paris"}'
  - model_name: mock-overloaded
    litellm_params:
      model: openai/mock
      api_key: unused
      mock_response: litellm.RateLimitError
  - model_name: mock-broken-stream
    litellm_params:
      model: openai/mock
      api_key: unused
      mock_response: "Exception: mock_streaming_error"
YAML
if [ -n "$LLAMA_MODEL" ]; then
    cat >>"$CONFIG" <<YAML
  - model_name: tiny
    litellm_params:
      model: openai/tiny
      api_base: http://127.0.0.1:$LLAMA_PORT/v1
      api_key: none
YAML
fi
cat >>"$CONFIG" <<YAML
litellm_settings:
  num_retries: 0
  telemetry: false
general_settings:
  master_key: $KEY
YAML

say "starting the LiteLLM proxy on 127.0.0.1:$PORT (log: $TOOLS/proxy.log)"
LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_TELEMETRY=False DISABLE_SCHEMA_UPDATE=True \
    "$VENV/bin/litellm" --config "$CONFIG" --host 127.0.0.1 --port "$PORT" --num_workers 1 \
    >"$TOOLS/proxy.log" 2>&1 &
PIDS+=($!)
OPENAI_API_KEY=$KEY WAIT_LOG=info wait_ready "http://127.0.0.1:$PORT/v1" 300 "${PIDS[-1]}" ||
    { tail -40 "$TOOLS/proxy.log"; exit 1; }

# ---- 4. the tests
say "cargo test --test litellm"
status=0
LITELLM_URL=http://127.0.0.1:$PORT/v1 LITELLM_KEY=$KEY LITELLM_LLAMA_MODEL=$LLAMA_MODEL \
    cargo test --test litellm -- --nocapture --test-threads=1 || status=$?
if [ "$status" -ne 0 ]; then
    echo "--- last lines of the proxy log ---"
    tail -40 "$TOOLS/proxy.log" || true
fi
say "done (exit $status)"
exit "$status"
