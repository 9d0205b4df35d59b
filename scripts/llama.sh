#!/usr/bin/env bash
# End-to-end run of the client against a real OpenAI-compatible server: llama.cpp's llama-server.
#
#   scripts/llama.sh
#
# 1. Downloads the llama-cpp-python source distribution (pinned, hash-checked) from PyPI with
#    pip; it vendors llama.cpp, its gguf-py package and vocab-only models.
# 2. Builds only the llama-server target with CMake (Release, -j2) and caches the binary: about
#    10 minutes on 2 idle cores (measured: 9.5 min build, 10 min 14 s whole run; 45 min on 2 busy ones).
# 3. Writes a tiny random-weight GGUF model (scripts/make_tiny_gguf.py: the llama-spm tokenizer,
#    two layers of width 64, ChatML with tool calls; about 9 MB). It talks gibberish, but the
#    protocol is the real one.
# 4. Starts llama-server on 127.0.0.1 with a 256-token context, waits for it with the crate's
#    own `ChatApi::wait_ready` (`examples/wait_ready.rs`, every poll logged: refused, then 503
#    `Loading model` while the model loads, then ready), runs tests/llama.rs, `examples/chat.rs --prompt` (with a
#    model and with the first one listed) and `examples/models.rs`, and stops the server (by
#    its PID) on exit.
#
# `LLAMA_SERVE_ONLY=1 scripts/llama.sh` builds, starts and waits, prints `LLAMA_URL=…` and
# keeps the server running until it is stopped (scripts/litellm.sh runs it that way).
#
# Everything downloaded or built lives in $SYNC_OPENAI_LLAMA_CACHE (default .tools/llama in
# the repository, git-ignored); a run that finds it takes under
# 20 seconds. Needs python3 with pip and venv, a C++ compiler, make and network access to
# PyPI; cmake is installed into the cache with pip when it is missing; bash 5.1 or later
# (`wait -n -p`). No curl.
set -euo pipefail

PIN=0.3.36
SDIST_SHA256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
JOBS=${LLAMA_BUILD_JOBS:-2}
CTX=256

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${SYNC_OPENAI_LLAMA_CACHE:-$ROOT/.tools/llama}
START=$SECONDS
say() { printf '\n== %s (%ds)\n' "$*" $((SECONDS - START)); }

mkdir -p "$CACHE"
SDIST=$CACHE/llama_cpp_python-$PIN.tar.gz
SRC=$CACHE/llama_cpp_python-$PIN
LLAMA=$SRC/vendor/llama.cpp
VENV=$CACHE/venv
SERVER=$CACHE/bin/llama-server-$PIN

# ---- 1. source distribution
if [ ! -f "$SDIST" ]; then
    say "downloading llama-cpp-python $PIN (sdist, ~75 MB)"
    # `--no-binary llama-cpp-python`, not `:all:`: the latter would also build the sdist's
    # build requirements (cmake itself) from source just to read its metadata.
    python3 -m pip download --quiet --no-deps --no-binary llama-cpp-python \
        "llama-cpp-python==$PIN" -d "$CACHE"
fi
echo "$SDIST_SHA256  $SDIST" | sha256sum --check --quiet
if [ ! -d "$LLAMA" ]; then
    say "extracting"
    tar -xzf "$SDIST" -C "$CACHE"
fi

# ---- python tools: numpy and PyYAML for gguf-py, cmake when the system has none
if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet numpy pyyaml
fi
CMAKE=$(command -v cmake || true)
if [ -z "$CMAKE" ]; then
    [ -x "$VENV/bin/cmake" ] || "$VENV/bin/pip" install --quiet cmake
    CMAKE=$VENV/bin/cmake
fi

# ---- 2. llama-server
if [ ! -x "$SERVER" ]; then
    say "building llama-server with $JOBS jobs (about 10 minutes on 2 idle cores)"
    BUILD_START=$SECONDS
    "$CMAKE" -S "$LLAMA" -B "$CACHE/build-$PIN" -DCMAKE_BUILD_TYPE=Release \
        -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_OPENSSL=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DBUILD_SHARED_LIBS=OFF >/dev/null
    "$CMAKE" --build "$CACHE/build-$PIN" --target llama-server -j "$JOBS" >"$CACHE/build.log" 2>&1 ||
        { tail -30 "$CACHE/build.log"; exit 1; }
    mkdir -p "$CACHE/bin"
    cp "$CACHE/build-$PIN/bin/llama-server" "$SERVER"
    echo "built in $((SECONDS - BUILD_START)) s"
fi

# ---- 3. the tiny model, remade when the generator changes
GEN=$ROOT/scripts/make_tiny_gguf.py
MODEL=$CACHE/tiny-$(sha256sum "$GEN" | cut -c1-12).gguf
if [ ! -f "$MODEL" ]; then
    say "writing the tiny model"
    PYTHONPATH=$LLAMA/gguf-py "$VENV/bin/python" "$GEN" \
        "$LLAMA/models/ggml-vocab-llama-spm.gguf" "$MODEL.tmp"
    mv "$MODEL.tmp" "$MODEL"
fi

# ---- 4. server, tests, example
cd "$ROOT"
# Built before the server starts, so that the wait below sees it cold.
cargo build --quiet --example wait_ready
PORT=${LLAMA_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
LOG=$CACHE/server.log
export LLAMA_URL=http://127.0.0.1:$PORT/v1
say "starting llama-server on 127.0.0.1:$PORT (log: $LOG)"
"$SERVER" -m "$MODEL" --host 127.0.0.1 --port "$PORT" -c "$CTX" --parallel 2 \
    --threads 2 --jinja --no-webui >"$LOG" 2>&1 &
SERVER_PID=$!
trap 'kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null || true' EXIT

# ChatApi::wait_ready, each poll logged; whichever ends first, the waiter or the server.
OPENAI_BASE_URL=$LLAMA_URL OPENAI_LOG=info \
    "${CARGO_TARGET_DIR:-$ROOT/target}/debug/examples/wait_ready" 120 &
WAITER_PID=$!
ENDED=
WAITED=0
wait -n -p ENDED "$SERVER_PID" "$WAITER_PID" || WAITED=$?
if [ "$ENDED" != "$WAITER_PID" ]; then
    kill "$WAITER_PID" 2>/dev/null || true
    tail -30 "$LOG"
    echo "llama-server exited before it was ready" >&2
    exit 1
fi
[ "$WAITED" -eq 0 ] || { tail -30 "$LOG"; echo "llama-server did not become ready" >&2; exit 1; }

if [ -n "${LLAMA_SERVE_ONLY:-}" ]; then
    echo "LLAMA_URL=$LLAMA_URL"
    # Stopped by a signal, the EXIT trap above still stops the server.
    trap 'exit 0' TERM INT
    wait "$SERVER_PID"
    exit 0
fi
say "cargo test --test llama"
cargo test --test llama -- --nocapture --test-threads=1

say "cargo run --example chat -- --prompt hello"
OPENAI_BASE_URL=$LLAMA_URL OPENAI_MODEL=tiny cargo run --quiet --example chat -- --prompt "hello"
echo "chat example exited 0"

say "cargo run --example chat -- --prompt hello, with the first model the server lists"
OPENAI_BASE_URL=$LLAMA_URL cargo run --quiet --example chat -- --prompt "hello"
say "cargo run --example models"
OPENAI_BASE_URL=$LLAMA_URL OPENAI_LOG=info cargo run --quiet --example models

say "all passed"
