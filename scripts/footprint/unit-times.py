#!/usr/bin/env python3
"""Prints the time of some units of a `cargo build --timings` report, one line each:

    scripts/footprint/unit-times.py target/cargo-timings/cargo-timing.html sync-openai ...

`NAME SECONDS FRONTEND CODEGEN`: the unit's whole duration and, where cargo records them
(`sections`), its front end (parsing to metadata) and codegen parts; `-` when a part is not
recorded. A name that is not in the report prints `NAME - - -`. The report is the HTML
stable cargo writes: its embedded `UNIT_DATA = [...]` JSON is read; only library and binary
units count (not build scripts)."""
import json
import sys


def units(path):
    text = open(path, encoding="utf-8").read()
    start = text.index("UNIT_DATA = ") + len("UNIT_DATA = ")
    data, _ = json.JSONDecoder().raw_decode(text[start:])
    return [u for u in data if "build-script" not in u.get("target", "")]


def main():
    report, names = sys.argv[1], sys.argv[2:]
    found = units(report)
    for name in names:
        unit = next((u for u in found if u["name"] == name), None)
        if unit is None:
            print(f"{name} - - -")
            continue
        parts = dict(unit.get("sections") or [])
        part = lambda key: (
            f"{parts[key]['end'] - parts[key]['start']:.2f}" if key in parts else "-"
        )
        print(f"{name} {unit['duration']:.2f} {part('frontend')} {part('codegen')}")


if __name__ == "__main__":
    main()
