#!/usr/bin/env python3
"""Validate the example bodies in examples/ against the schemas of chat.openapi.yaml.

Usage: python3 validate_examples.py [--raw]
Needs PyYAML and jsonschema>=4.18 (pip install pyyaml jsonschema).

The spec is OpenAPI 3.1 but still uses the OpenAPI 3.0 keyword `nullable: true`
in places; JSON Schema 2020-12 ignores it, so by default this script rewrites
`{..., nullable: true}` into `anyOf: [{...}, {type: 'null'}]` first (`--raw`
skips that and shows what a strict 3.1 validator would say). `x-*` keys are
dropped. The upstream examples are known not to match the schemas in a few
places; this script reports each mismatch and
always exits 0 unless a file is missing or unparsable.
"""
import json
import os
import sys

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

HERE = os.path.dirname(os.path.abspath(__file__))
RAW = "--raw" in sys.argv

CASES = {
    "create-chat-completion.default.request.json": "CreateChatCompletionRequest",
    "create-chat-completion.image-input.request.json": "CreateChatCompletionRequest",
    "create-chat-completion.streaming.request.json": "CreateChatCompletionRequest",
    "create-chat-completion.functions.request.json": "CreateChatCompletionRequest",
    "create-chat-completion.logprobs.request.json": "CreateChatCompletionRequest",
    "create-chat-completion.default.response.json": "CreateChatCompletionResponse",
    "create-chat-completion.image-input.response.json": "CreateChatCompletionResponse",
    "create-chat-completion.functions.response.json": "CreateChatCompletionResponse",
    "create-chat-completion.logprobs.response.json": "CreateChatCompletionResponse",
    "get-chat-completion.response.json": "CreateChatCompletionResponse",
    "update-chat-completion.response.json": "CreateChatCompletionResponse",
    "object.chat-completion.json": "CreateChatCompletionResponse",
    "list-chat-completions.response.json": "ChatCompletionList",
    "object.chat-completion-list.json": "ChatCompletionList",
    "get-chat-completion-messages.response.json": "ChatCompletionMessageList",
    "object.chat-completion-message-list.json": "ChatCompletionMessageList",
    "delete-chat-completion.response.json": "ChatCompletionDeleted",
    # arrays of stream chunks: each element is validated on its own
    "create-chat-completion.streaming.response-chunks.json": "CreateChatCompletionStreamResponse[]",
    "object.chat-completion-chunk.stream.json": "CreateChatCompletionStreamResponse[]",
}


def convert(node):
    if isinstance(node, dict):
        node = {k: convert(v) for k, v in node.items() if not k.startswith("x-")}
        if node.pop("nullable", False) and not RAW:
            return {"anyOf": [node, {"type": "null"}]}
        return node
    if isinstance(node, list):
        return [convert(v) for v in node]
    return node


def main():
    with open(os.path.join(HERE, "chat.openapi.yaml"), encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    uri = "urn:openai-chat-subset"
    registry = Registry().with_resource(
        uri, Resource.from_contents(convert({"components": doc["components"]}),
                                    default_specification=DRAFT202012))
    bad = 0
    for name, schema in CASES.items():
        many = schema.endswith("[]")
        schema = schema.rstrip("[]")
        v = Draft202012Validator({"$ref": "%s#/components/schemas/%s" % (uri, schema)}, registry=registry)
        with open(os.path.join(HERE, "examples", name), encoding="utf-8") as f:
            body = json.load(f)
        items = body if many else [body]
        for i, inst in enumerate(items):
            label = name + ("[%d]" % i if many else "")
            errs = sorted(v.iter_errors(inst), key=lambda e: [str(p) for p in e.path])
            print("%s %s -> %s" % ("ok      " if not errs else "MISMATCH", label, schema))
            bad += bool(errs)
            for e in errs:
                where = "/".join(map(str, e.path)) or "(root)"
                msg = e.message if len(e.message) < 120 else e.message[:117] + "..."
                print("           at %s: %s" % (where, msg))
                for c in (e.context or [])[:4]:
                    print("             - %s: %s" % ("/".join(map(str, c.path)) or "(here)", c.message[:110]))
    print("%d example bodies do not match their schema%s" % (bad, " (raw, nullable ignored)" if RAW else ""))


if __name__ == "__main__":
    main()
