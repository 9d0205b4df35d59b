#!/usr/bin/env python3
"""Counts the public surface a newcomer meets: ChatApi's methods and the crate root's names.

    python3 scripts/count-surface.py            # read target/doc (run `cargo doc --no-deps --all-features` first)
    python3 scripts/count-surface.py --build    # run that cargo doc itself, then count
    python3 scripts/count-surface.py --verbose  # also list every name counted

It reads the pages rustdoc writes, so what it counts is what the documentation shows, with
every feature on: the inherent methods on `target/doc/sync_openai/struct.ChatApi.html`
(trait implementations such as `Clone` and `From` are not counted), and the names on the
crate root's page `target/doc/sync_openai/index.html` (re-exports, modules, structs, enums,
type aliases, functions, traits, macros, constants).

Exit status 0 when ChatApi has at most 25 public methods and the root at most 30 names,
1 otherwise (and 2 when the documentation is missing).
"""

import os
import re
import subprocess
import sys

MAX_METHODS = 25
MAX_ROOT = 30
KINDS = "mod|struct|enum|type|fn|trait|macro|constant|static|union|traitalias|primitive"


def chat_api_methods(doc):
    """The inherent methods of ChatApi, in page order."""
    with open(os.path.join(doc, "struct.ChatApi.html"), encoding="utf-8") as f:
        page = f.read().replace("<wbr>", "")
    start = page.find('id="implementations"')
    end = page.find('id="trait-implementations"')
    if start < 0:
        sys.exit("count-surface: struct.ChatApi.html has no inherent implementations section")
    section = page[start : end if end > start else len(page)]
    names = re.findall(r'id="method\.([A-Za-z0-9_]+)"', section)
    return list(dict.fromkeys(names))


def root_names(doc):
    """The names on the crate root's page, in page order."""
    with open(os.path.join(doc, "index.html"), encoding="utf-8") as f:
        page = f.read().replace("<wbr>", "")  # rustdoc breaks long names with <wbr>
    names = re.findall(r'<dt id="reexport\.([A-Za-z0-9_]+)"', page)
    # Every other item is a <dt> whose first link names its kind: <a class="struct" ...>Name</a>.
    names += re.findall(rf'<dt><a class="(?:{KINDS})" href="[^"]*"[^>]*>([A-Za-z0-9_]+)</a>', page)
    return list(dict.fromkeys(names))


def main():
    args = sys.argv[1:]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    doc = os.path.join(root, "target", "doc", "sync_openai")
    if "--build" in args:
        subprocess.run(["cargo", "doc", "--no-deps", "--all-features", "--quiet"], cwd=root, check=True)
    if not os.path.exists(os.path.join(doc, "index.html")):
        print("count-surface: no target/doc/sync_openai/index.html: run `cargo doc --no-deps --all-features` or pass --build")
        sys.exit(2)
    methods = chat_api_methods(doc)
    names = root_names(doc)
    print(f"ChatApi public methods: {len(methods)} (at most {MAX_METHODS})")
    if "--verbose" in args:
        print("  " + ", ".join(methods))
    print(f"crate root public names: {len(names)} (at most {MAX_ROOT})")
    if "--verbose" in args:
        print("  " + ", ".join(names))
    failed = False
    if len(methods) > MAX_METHODS:
        print(f"ChatApi has {len(methods)} public methods, more than {MAX_METHODS}: put the new ones on the handle of their API family")
        failed = True
    if len(names) > MAX_ROOT:
        print(f"the crate root has {len(names)} public names, more than {MAX_ROOT}: put new items in the module they belong to")
        failed = True
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
