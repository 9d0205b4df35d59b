#!/usr/bin/env python3
"""Checks that every module of src/ imports only modules below it, and that there is no circle.

    python3 scripts/check-layers.py              # check src/ against ARCHITECTURE.md
    python3 scripts/check-layers.py --verbose    # also print every import edge
    python3 scripts/check-layers.py --self-test  # show that it catches what it should

The layering is the table between `<!-- layers:begin -->` and `<!-- layers:end -->` in
ARCHITECTURE.md, top to bottom: the first column names a module (`send` is src/send.rs,
`types` is src/types/ with all its files). A module may use only modules listed below it.
A listed module without a file is skipped (room for modules still to come); a file in
src/ whose module is not listed is an error, so a new module gets its line.

What counts as an import: every `use crate::…` (groups `use crate::{a, b::c}` included)
and every inline `crate::name` path in code. Comments, doc comments and string literals
are not code. `crate::name` where `name` is not a module (an item re-exported by lib.rs,
such as `crate::ChatApi`) counts as an import of `lib`, the top: import it from its module.
Paths inside one module (`super::`, `self::`, or `crate::types::…` within src/types/)
are that module's own business.

Exit status 0 when the layering holds, 1 with one line per violation otherwise.
"""

import os
import re
import shutil
import sys
import tempfile

BEGIN = "<!-- layers:begin -->"
END = "<!-- layers:end -->"


def read_layers(architecture_md):
    """The module names of the layers table, top first."""
    with open(architecture_md, encoding="utf-8") as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        sys.exit(f"{architecture_md}: no {BEGIN} … {END} table of layers")
    table = text.split(BEGIN, 1)[1].split(END, 1)[0]
    layers = []
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.strip().startswith("|") or not cells or set(cells[0]) <= set("-: "):
            continue
        name = cells[0].strip("`").strip()
        if name.lower() == "module":
            continue
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            sys.exit(f"{architecture_md}: layer name {name!r} is not a module name")
        if name in layers:
            sys.exit(f"{architecture_md}: module {name} is listed twice")
        layers.append(name)
    return layers


def strip_comments_and_strings(src):
    """The code of a Rust file with comments and string/char literals blanked out.

    Newlines are kept, so line numbers stay right.
    """
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif src.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append("\n" * src.count("\n", i, j))
            i = j
        elif (m := re.match(r'b?r(#*)"', src[i:])) and (i == 0 or not (src[i - 1].isalnum() or src[i - 1] == "_")):
            close = '"' + m.group(1)
            j = src.find(close, i + m.end())
            j = n if j < 0 else j + len(close)
            out.append('""' + "\n" * src.count("\n", i, j))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            out.append('""' + "\n" * src.count("\n", i, j))
            i = j + 1
        elif c == "'":
            # A char literal ('x', '\n', '\u{1F600}') or a lifetime ('a).
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])'", src[i:])
            if m:
                out.append("' '")
                i += m.end()
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def group_names(code, start):
    """The top-level names of a `{…}` group starting at code[start] == '{'."""
    depth, j, names, current = 0, start, [], ""
    while j < len(code):
        ch = code[j]
        if ch == "{":
            depth += 1
            if depth == 1:
                j += 1
                continue
        elif ch == "}":
            depth -= 1
            if depth == 0:
                break
        if depth == 1 and ch == ",":
            names.append(current)
            current = ""
        elif depth >= 1:
            current += ch
        j += 1
    names.append(current)
    result = []
    for name in names:
        m = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)", name)
        if m:
            result.append(m.group(1))
    return result


def imports_of(code):
    """(line, first path segment after `crate::`) for every crate path in the code."""
    found = []
    for m in re.finditer(r"(?<![\w$])crate\s*::\s*(\{|[A-Za-z_][A-Za-z0-9_]*)", code):
        line = code.count("\n", 0, m.start()) + 1
        if m.group(1) == "{":
            for name in group_names(code, m.start(1)):
                found.append((line, name))
        else:
            found.append((line, m.group(1)))
    return found


def module_of(src_dir, path):
    rel = os.path.relpath(path, src_dir).replace(os.sep, "/")
    first = rel.split("/")[0]
    return first[:-3] if first.endswith(".rs") else first


def find_cycle(edges):
    """One circle in the graph of module imports, as a list of modules, or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(edges):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def check(root, verbose=False):
    """The violations in the tree at `root` (a list of lines), and a summary line."""
    src_dir = os.path.join(root, "src")
    layers = read_layers(os.path.join(root, "ARCHITECTURE.md"))
    rank = {name: i for i, name in enumerate(layers)}
    problems, edges, count = [], {}, 0
    files = []
    for dirpath, _, names in os.walk(src_dir):
        files += [os.path.join(dirpath, n) for n in names if n.endswith(".rs")]
    modules = {module_of(src_dir, f) for f in files}
    for module in sorted(modules):
        if module not in rank:
            problems.append(f"src/{module}: module `{module}` is not in the layers table of ARCHITECTURE.md; add its line")
    for path in sorted(files):
        module = module_of(src_dir, path)
        rel = os.path.relpath(path, root)
        with open(path, encoding="utf-8") as f:
            code = strip_comments_and_strings(f.read())
        for line, name in imports_of(code):
            # A name that is neither a module nor a listed layer is an item of the crate root.
            target = name if name in modules or name in rank else "lib"
            if target == module:
                continue
            count += 1
            edges.setdefault(module, set()).add(target)
            if verbose:
                print(f"{rel}:{line}: {module} -> {target}")
            if module not in rank or target not in rank:
                continue  # reported above as a module missing from the table
            if target == "lib":
                problems.append(f"{rel}:{line}: `crate::{name}` reaches the crate root; import it from the module that defines it")
            elif rank[target] <= rank[module]:
                problems.append(f"{rel}:{line}: `{module}` imports `{target}`, which is above it in the layering")
    cycle = find_cycle(edges)
    if cycle:
        problems.append("circle of imports: " + " -> ".join(cycle))
    present = [m for m in layers if m in modules or m == "lib"]
    summary = f"{count} crate imports in {len(files)} files of {len(modules)} modules; layers (top first): {' > '.join(present)}"
    return problems, summary


def self_test():
    """Builds small trees and checks that each breach is caught and a clean tree passes."""
    table = "| module | what |\n|---|---|\n| `lib` | root |\n| `api` | a |\n| `send` | s |\n| `later` | not yet |\n| `types` | t |\n| `http` | re-export |\n"

    def tree(files, layers=table):
        root = tempfile.mkdtemp()
        os.makedirs(os.path.join(root, "src", "types"))
        with open(os.path.join(root, "ARCHITECTURE.md"), "w") as f:
            f.write(f"# x\n{BEGIN}\n{layers}{END}\n")
        for name, text in files.items():
            with open(os.path.join(root, "src", name), "w") as f:
                f.write(text)
        return root

    base = {
        "lib.rs": "mod api;\nmod send;\nmod types;\npub use api::Api;\n",
        "api.rs": "use crate::send::{Call, Sender};\nuse crate::{http, types::X};\n// use crate::lib_only;\nconst S: &str = \"crate::api\";\n",
        "send.rs": "/* crate::api */\nfn f<'a>(x: &'a str) -> char { let _ = r#\"crate::api\"#; '\"' }\n",
        "types/mod.rs": "mod a;\npub use a::X;\n",
        "types/a.rs": "pub struct X;\nfn g() -> crate::types::X { X }\n",
    }
    cases = [
        ("clean tree (comments, strings, raw strings, char literals, own paths)", {}, None, 0),
        ("upward use", {"types/a.rs": "use crate::send::Call;\n"}, "`types` imports `send`", 1),
        ("upward inline path", {"types/a.rs": "fn g() { crate::send::go() }\n"}, "`types` imports `send`", 1),
        ("upward in a use group", {"types/a.rs": "use crate::{http, send::Call};\n"}, "`types` imports `send`", 1),
        ("crate-root item", {"send.rs": "fn g() -> crate::Error { todo!() }\n"}, "reaches the crate root", 1),
        ("unlisted module", {"extra.rs": "\n"}, "module `extra` is not in the layers table", 1),
        ("circle", {"send.rs": "use crate::api::Api;\n"}, "circle of imports: api -> send -> api", 2),
    ]
    failures = 0
    for title, change, expect, n in cases:
        files = dict(base)
        files.update(change)
        root = tree(files)
        try:
            problems, _ = check(root)
        finally:
            shutil.rmtree(root)
        ok = len(problems) == n and (expect is None or any(expect in p for p in problems))
        print(f"{'ok ' if ok else 'FAIL'} {title}: {problems if problems else 'no problems'}")
        failures += not ok
    if failures:
        sys.exit(f"self-test: {failures} case(s) failed")
    print(f"self-test: all {len(cases)} cases as expected")


def main():
    args = sys.argv[1:]
    if "--self-test" in args:
        self_test()
        return
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    problems, summary = check(root, verbose="--verbose" in args)
    print(summary)
    for p in problems:
        print(p)
    if problems:
        sys.exit(f"layering check failed: {len(problems)} problem(s); see ARCHITECTURE.md")
    print("layering ok: every module imports only modules below it, and there is no circle")


if __name__ == "__main__":
    main()
