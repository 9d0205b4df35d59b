#!/usr/bin/env python3
"""Lists the functions in src/ longer than a limit, and fails when one is not excused.

    python3 scripts/check-fn-length.py            # limit 60 lines
    python3 scripts/check-fn-length.py --max 40   # another limit
    python3 scripts/check-fn-length.py --all      # every function, longest first

A function's length is the lines from its `fn` line to its closing brace, both included
(doc comments and attributes above it do not count; blank and comment lines inside do).
Test functions count like any other. A long function is excused only by a line in EXCUSED
below with the reason it must stay long; an excuse for a function that is no longer long
is reported, so the list does not rot.
"""

import os
import re
import sys

# "file::function": why it may stay longer than the limit.
EXCUSED = {
}

FN = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:const\s+|unsafe\s+|extern\s+\"[^\"]*\"\s+)*fn\s+([A-Za-z_][A-Za-z0-9_]*)")


def code_of(line, in_block):
    """The line with strings, chars and comments blanked (roughly), and the block state."""
    out, i = [], 0
    while i < len(line):
        if in_block:
            j = line.find("*/", i)
            if j < 0:
                return "".join(out), True
            i, in_block = j + 2, False
        elif line.startswith("//", i):
            break
        elif line.startswith("/*", i):
            in_block, i = True, i + 2
        elif line[i] == '"':
            j = i + 1
            while j < len(line) and line[j] != '"':
                j += 2 if line[j] == "\\" else 1
            out.append('""')
            i = j + 1
        elif m := re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])'", line[i:]):
            out.append("' '")
            i += m.end()
        else:
            out.append(line[i])
            i += 1
    return "".join(out), in_block


def functions(path):
    """(name, first line, length) of every function with a body in the file."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    found, in_block, in_raw = [], False, None
    cleaned = []
    for line in lines:
        if in_raw:  # inside a raw string that spans lines
            end = line.find(in_raw)
            if end < 0:
                cleaned.append("")
                continue
            line, in_raw = line[end + len(in_raw):], None
        m = re.search(r'r(#+)"', line)
        if m and line.count('"' + m.group(1)) == 0:
            in_raw = '"' + m.group(1)
            line = line[: m.start()]
        code, in_block = code_of(line, in_block)
        cleaned.append(code)
    for start, code in enumerate(cleaned):
        m = FN.match(code)
        if not m:
            continue
        depth, opened = 0, False
        for end in range(start, len(cleaned)):
            for ch in cleaned[end]:
                if ch == "{":
                    depth, opened = depth + 1, True
                elif ch == "}":
                    depth -= 1
                elif ch == ";" and not opened and depth == 0:
                    break  # a declaration without a body
            else:
                if opened and depth == 0:
                    found.append((m.group(1), start + 1, end - start + 1))
                    break
                continue
            break
    return found


def main():
    args = sys.argv[1:]
    limit = int(args[args.index("--max") + 1]) if "--max" in args else 60
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rows = []
    for dirpath, _, names in os.walk(os.path.join(root, "src")):
        for name in names:
            if name.endswith(".rs"):
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root).replace(os.sep, "/")
                rows += [(length, rel, line, fn) for fn, line, length in functions(path)]
    rows.sort(key=lambda r: (-r[0], r[1], r[2]))
    if "--all" in args:
        for length, rel, line, fn in rows:
            print(f"{length:4} {rel}:{line} {fn}")
        return
    long_rows = [r for r in rows if r[0] > limit]
    failures = 0
    for length, rel, line, fn in long_rows:
        why = EXCUSED.get(f"{rel}::{fn}")
        print(f"{length:4} lines  {rel}:{line} fn {fn}" + (f"  (excused: {why})" if why else "  TOO LONG"))
        failures += why is None
    for key in EXCUSED:
        rel, fn = key.split("::")
        if not any(r[1] == rel and r[3] == fn for r in long_rows):
            print(f"note: {key} is excused but no longer over {limit} lines: remove its excuse")
    longest = rows[0] if rows else None
    print(f"{len(rows)} functions in src/; {len(long_rows)} over {limit} lines, {failures} not excused"
          + (f"; longest {longest[0]} lines ({longest[1]}:{longest[2]} {longest[3]})" if longest else ""))
    if failures:
        sys.exit(f"function length check failed: {failures} function(s) over {limit} lines; split them into named steps")


if __name__ == "__main__":
    main()
