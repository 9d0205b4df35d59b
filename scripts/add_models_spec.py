#!/usr/bin/env python3
"""Add the Models operations of the full OpenAI spec to a (normalized) Chat subset, for Prism.

Copies `GET /models` (listModels) and `GET /models/{model}` (retrieveModel) from the full
spec into the subset, with the transitive closure of the components they reference
(`ListModelsResponse`, `Model`), so one Prism instance validates the chat and the models
requests of the client. Nothing else changes; a component the subset already has is kept.

Usage: add_models_spec.py FULL_SPEC SUBSET_JSON
FULL_SPEC is YAML (needs PyYAML) or JSON (a name ending in .json); SUBSET_JSON is rewritten
in place.
"""
import json
import sys

from normalize_spec import load  # the same YAML-or-JSON reader

OPERATIONS = (("/models", "get"), ("/models/{model}", "get"))


def refs(node, found):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.add(value)
            else:
                refs(value, found)
    elif isinstance(node, list):
        for value in node:
            refs(value, found)
    return found


def resolve(doc, ref):
    if not ref.startswith("#/"):
        raise SystemExit("non-local $ref: %s" % ref)
    node = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    full, subset_path = load(sys.argv[1]), sys.argv[2]
    with open(subset_path, encoding="utf-8") as f:
        subset = json.load(f)
    todo = set()
    for path, method in OPERATIONS:
        operation = full["paths"][path][method]
        subset.setdefault("paths", {}).setdefault(path, {})[method] = operation
        refs(operation, todo)
    seen = set()
    while todo:
        ref = todo.pop()
        if ref in seen:
            continue
        seen.add(ref)
        target = subset
        parts = ref[2:].split("/")
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        component = resolve(full, ref)
        target.setdefault(parts[-1], component)
        refs(component, todo)
    with open(subset_path, "w", encoding="utf-8") as f:
        json.dump(subset, f)
    print("added %d operations and %d components" % (len(OPERATIONS), len(seen)))


if __name__ == "__main__":
    main()
