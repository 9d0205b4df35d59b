#!/usr/bin/env python3
"""Copy operations of the full OpenAI spec into a (normalized) subset, for Prism.

Copies each PATH:METHOD given from the full spec into the subset, with the transitive
closure of the components they reference, and normalizes `nullable: true` in what it
copies the way scripts/normalize_spec.py does, so one Prism instance validates the chat
requests and these. A component the subset already has is kept.

Usage: add_spec_operations.py FULL_SPEC SUBSET_JSON PATH:METHOD...
  e.g. add_spec_operations.py spec/openapi.yaml .tools/prism/chat.openapi.json /files:post
FULL_SPEC is YAML (needs PyYAML) or JSON (a name ending in .json); SUBSET_JSON is rewritten
in place.
"""
import importlib.util
import json
import os
import sys


def load(path):
    with open(path, encoding="utf-8") as f:
        if path.endswith(".json"):
            return json.load(f)
        import yaml  # only needed for a YAML spec

        return yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


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


def place(doc, ref, value):
    parts = [p.replace("~1", "/").replace("~0", "~") for p in ref[2:].split("/")]
    node = doc
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    if parts[-1] in node:
        return False
    node[parts[-1]] = value
    return True


def main():
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    full, subset_path = load(sys.argv[1]), sys.argv[2]
    with open(subset_path, encoding="utf-8") as f:
        subset = json.load(f)
    todo, copied = set(), []
    for spec in sys.argv[3:]:
        path, _, method = spec.rpartition(":")
        operation = full["paths"][path][method]
        subset.setdefault("paths", {}).setdefault(path, {})[method] = operation
        params = full["paths"][path].get("parameters")
        if params:
            subset["paths"][path].setdefault("parameters", params)
        refs(full["paths"][path], todo)
        copied.append("%s %s" % (method.upper(), path))
    done, added = set(), 0
    while todo:
        ref = todo.pop()
        if ref in done:
            continue
        done.add(ref)
        value = resolve(full, ref)
        if place(subset, ref, value):
            added += 1
        refs(value, todo)
    # The copied parts still say `nullable: true`: normalize the whole document again.
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location("normalize_spec", os.path.join(here, "normalize_spec.py"))
    normalize = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(normalize)
    subset = normalize.normalize(subset, [0])
    with open(subset_path, "w", encoding="utf-8") as f:
        json.dump(subset, f)
    print("added %s with %d components" % (", ".join(copied), added))


if __name__ == "__main__":
    main()
