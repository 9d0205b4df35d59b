#!/usr/bin/env python3
"""Rewrite the OpenAPI 3.0 `nullable: true` keyword of an OpenAPI 3.1 document into 3.1 form.

The OpenAI spec declares `openapi: 3.1.0` but still marks nullable schemas the 3.0 way.
Validators that follow 3.1 (JSON Schema 2020-12), such as Stoplight Prism, ignore `nullable`,
so a `null` the spec allows is rejected and, worse, some schemas fail to compile. This script
removes every `nullable: true` and says the same thing in 3.1 terms:

  type: T, nullable: true          ->  type: [T, "null"]   (and `null` added to an `enum`)
  type: [T, U], nullable: true     ->  type: [T, U, "null"]
  oneOf/anyOf: [...], nullable     ->  the same list plus a {"type": "null"} branch
                                       (not added when a branch already accepts null: for
                                       oneOf that would make null match twice)
  $ref or allOf, nullable          ->  anyOf: [<the schema>, {"type": "null"}]
  nullable alone                   ->  dropped (the schema already accepts anything)

`nullable: false` is simply dropped. Nothing else changes.

Usage: normalize_spec.py INPUT OUTPUT
INPUT is YAML (needs PyYAML) or JSON (a name ending in .json, stdlib only); OUTPUT is JSON.
"""
import json
import sys

NULL = {"type": "null"}
MOVED_INTO_ANYOF = ("$ref", "allOf")


def accepts_null(schema):
    """Whether a (normalized) schema visibly accepts null, without following $refs."""
    if not isinstance(schema, dict):
        return False
    t = schema.get("type")
    if t == "null" or (isinstance(t, list) and "null" in t):
        return True
    return any(accepts_null(s) for s in schema.get("anyOf", []) + schema.get("oneOf", []))


def make_nullable(node):
    """Turns a schema that had `nullable: true` (already removed) into one accepting null."""
    t = node.get("type")
    if isinstance(t, str):
        if t != "null":
            node["type"] = [t, "null"]
        if "enum" in node and None not in node["enum"]:
            node["enum"] = node["enum"] + [None]
        return node
    if isinstance(t, list):
        if "null" not in t:
            node["type"] = t + ["null"]
        if "enum" in node and None not in node["enum"]:
            node["enum"] = node["enum"] + [None]
        return node
    for key in ("oneOf", "anyOf"):
        if key in node:
            if not any(accepts_null(s) for s in node[key]):
                node[key] = node[key] + [dict(NULL)]
            return node
    if any(k in node for k in MOVED_INTO_ANYOF):
        inner = {k: node.pop(k) for k in MOVED_INTO_ANYOF if k in node}
        node["anyOf"] = [inner, dict(NULL)]
        return node
    # No type and no composition: the schema already accepts null.
    return node


def normalize(node, counts):
    if isinstance(node, list):
        return [normalize(v, counts) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: normalize(v, counts) for k, v in node.items()}
    if "nullable" in node and not isinstance(node["nullable"], dict):
        flag = node.pop("nullable")
        if flag is True:
            counts[0] += 1
            node = make_nullable(node)
    return node


def load(path):
    with open(path, encoding="utf-8") as f:
        if path.endswith(".json"):
            return json.load(f)
        import yaml  # only needed for YAML input

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return yaml.load(f, Loader=loader)


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    doc = load(argv[1])
    counts = [0]
    doc = normalize(doc, counts)
    # `default=str` turns YAML timestamps (if any) back into text.
    with open(argv[2], "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, default=str)
    print("normalize_spec: rewrote %d nullable schemas -> %s" % (counts[0], argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
