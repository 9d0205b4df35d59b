#!/usr/bin/env python3
"""Writes fuzz/seeds/<target>/ from the OpenAPI spec examples and typical server answers.

Usage: python3 fuzz/make_seeds.py [EXAMPLES_DIR]
(default: spec/examples, the vendored spec examples). The seeds are committed; rerun only to
refresh them.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "spec", "examples")
SEEDS = os.path.join(HERE, "seeds")


def write(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def compact(v):
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


# decode_response: every example body, and each chunk of the streaming examples.
chunk_lists = {}
for fname in sorted(os.listdir(EXAMPLES)):
    if not fname.endswith(".json") or fname == "index.json":
        continue
    with open(os.path.join(EXAMPLES, fname), "rb") as f:
        raw = f.read()
    value = json.loads(raw)
    stem = fname[: -len(".json")]
    if isinstance(value, list) and value and value[0].get("object") == "chat.completion.chunk":
        chunk_lists[stem] = value
        for i, c in enumerate(value):
            write("decode_response", f"{stem}.{i}.json", compact(c))
    else:
        write("decode_response", fname, raw)

quirks = {
    "nulls": {"id": None, "object": "chat.completion", "created": None, "model": None,
              "choices": [{"index": None, "message": {"role": "assistant", "content": None},
                           "finish_reason": "eos"}], "usage": {"prompt_tokens": 1.0,
                                                               "completion_tokens": "2",
                                                               "total_tokens": None}},
    "vendor-keys": {"id": "x", "choices": [{"index": 0, "message": {
        "role": "assistant", "content": [{"type": "text", "text": "Hi"}],
        "reasoning_content": "think", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
            {"id": "c2", "type": "custom", "custom": {"name": "g", "input": "x"}},
            {"id": "c3", "type": "web_search", "web_search": {"q": 1}}],
        "annotations": [{"type": "url_citation", "url_citation": {
            "url": "https://e.x", "title": "t", "start_index": 0, "end_index": 1}},
            {"type": "file_citation", "x": 1}]}, "logprobs": {"content": [
                {"token": "Hi", "logprob": -0.5, "bytes": [72, 105], "top_logprobs": []}]}}],
        "x_groq": {"id": "req"}, "prompt_filter_results": []},
    "message-list": {"object": "list", "data": [{"id": "m1", "role": "user", "content": "hi",
                                                  "content_parts": [{"type": "text", "text": "hi"},
                                                                    {"type": "image_url", "image_url": {"url": "u"}}]}],
                     "first_id": "m1", "last_id": "m1", "has_more": False},
}
for name, v in quirks.items():
    write("decode_response", f"quirk-{name}.json", compact(v))

# sse_stream: flags byte (low 4 bits: count of slice sizes; bit 4: reset at end), sizes, body.
def sse(chunks, done=True, sep="\n"):
    body = "".join(f"data: {compact(c)}{sep}{sep}" for c in chunks)
    if done:
        body += f"data: [DONE]{sep}{sep}"
    return body


def sse_seed(name, body, sizes=b"", reset=False):
    flags = len(sizes) | (0x10 if reset else 0)
    write("sse_stream", name, bytes([flags]) + sizes + body.encode())


for stem, chunks in chunk_lists.items():
    sse_seed(f"{stem}.whole", sse(chunks))
    sse_seed(f"{stem}.sliced", sse(chunks), sizes=bytes([1, 7, 0, 3]))
    sse_seed(f"{stem}.crlf", sse(chunks, sep="\r\n"), sizes=bytes([2]))
    sse_seed(f"{stem}.no-done", sse(chunks, done=False))
    sse_seed(f"{stem}.reset", sse(chunks[:2], done=False), reset=True)


def chunk(delta, finish=None, index=0, **extra):
    c = {"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1700000000,
         "model": "gpt-4o-mini", "choices": [{"index": index, "delta": delta, "logprobs": None,
                                              "finish_reason": finish}]}
    c.update(extra)
    return c


tools = [
    chunk({"role": "assistant", "content": None, "tool_calls": [
        {"index": 0, "id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}),
    chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":"}}]}),
    chunk({"tool_calls": [{"index": 0, "function": {"arguments": "\"Paris\"}"}}]}),
    chunk({"tool_calls": [{"index": 1, "id": "call_b", "type": "function",
                           "function": {"name": "get_time", "arguments": "{}"}}]}),
    chunk({}, "tool_calls"),
    {"id": "chatcmpl-s", "object": "chat.completion.chunk", "choices": [],
     "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}},
]
sse_seed("tool-calls", sse(tools), sizes=bytes([5, 0, 11]))
two = [chunk({"content": "A"}, index=0), chunk({"reasoning_content": "hm", "content": "B"}, index=1),
       chunk({}, "stop", index=0), chunk({}, "length", index=1)]
sse_seed("two-choices", sse(two, done=False))
sse_seed("comments-bom-event-id",
         "\ufeff: keep-alive\n\nid: 1\nretry: 100\nevent: message\n" + sse(two), sizes=bytes([3]))
sse_seed("multiline-data", "data: {\"choices\":\ndata: [{\"index\":0,\"delta\":{\"content\":\"x\"},"
         "\"finish_reason\":\"stop\"}]}\n\n")
sse_seed("error-in-band", sse([chunk({"content": "hi"})], done=False)
         + "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\",\"code\":\"overloaded\"}}\n\n")
sse_seed("event-error", "event: error\ndata: {\"message\":\"bad things\",\"code\":500}\n\n")
sse_seed("vllm-error", "data: {\"object\":\"error\",\"message\":\"no\",\"type\":\"BadRequestError\","
         "\"param\":null,\"code\":400}\n\n")
sse_seed("llamacpp-error-line", "error: {\"code\":500,\"message\":\"oops\",\"type\":\"server_error\"}\n\n")
sse_seed("invalid-data", "data: {\"choices\": [tru\n\n")
sse_seed("empty", "")
sse_seed("cr-only", sse(two, sep="\r"), sizes=bytes([1]))

# error_body: status (big-endian u16), header lines, blank line, body.
def err_seed(name, status, body, headers=()):
    head = "".join(f"{k}: {v}\n" for k, v in headers)
    data = status.to_bytes(2, "big") + ((head + "\n").encode() if headers else b"") + body.encode()
    write("error_body", name, data)


err_seed("openai-401", 401, '{"error":{"message":"Incorrect API key provided","type":"invalid_request_error",'
         '"param":null,"code":"invalid_api_key"}}', [("x-request-id", "req_1")])
err_seed("quota-429", 429, '{"error":{"message":"You exceeded your current quota","type":"insufficient_quota",'
         '"param":null,"code":"insufficient_quota"}}',
         [("retry-after-ms", "1500"), ("retry-after", "2"), ("x-should-retry", "true")])
err_seed("rate-429-date", 429, '{"error":{"message":"Rate limit","type":"requests","code":"rate_limit_exceeded"}}',
         [("retry-after", "Wed, 21 Oct 2099 07:28:00 GMT"), ("x-ratelimit-limit-requests", "60"),
          ("x-ratelimit-remaining-tokens", "149.0"), ("x-ratelimit-reset-requests", "1h2m3.5s"),
          ("x-ratelimit-reset-tokens", "20ms"), ("openai-processing-ms", "42")])
err_seed("vllm-400", 400, '{"object":"error","message":"max_tokens too large","type":"BadRequestError",'
         '"param":null,"code":400}')
err_seed("ollama-404", 404, '{"error":"model \\"llama9\\" not found, try pulling it first"}')
err_seed("fastapi-422", 422, '{"detail":[{"loc":["body","messages"],"msg":"field required","type":"value_error.missing"}]}')
err_seed("array-shape", 400, '[{"error":{"code":400,"message":"Invalid JSON payload","status":"INVALID_ARGUMENT"}}]')
err_seed("html-502", 502, "<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>")
err_seed("text-503", 503, "upstream connect error or disconnect/reset before headers\n")
err_seed("empty-500", 500, "")
err_seed("redirect-301", 301, "", [("location", "https://example.com/v1")])
err_seed("nested-error", 500, '{"error":{"error":{"error":{"message":{"text":"deep"},"code":1.5}}}}')
