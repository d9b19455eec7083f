#!/usr/bin/env python3
"""Checks that the README's quick start is the core of examples/quick_start.cpp (which ctest
builds and runs): every code line of the ```cpp block that follows the marker
`<!-- quick-start: examples/quick_start.cpp -->` must appear, whitespace aside, in that file.
Comment-only lines and `// ...` elisions are exempt.
Usage: check_quick_start.py SOURCE_DIR
"""
import os
import re
import sys

MARK = re.compile(r"<!--\s*quick-start:\s*(\S+)\s*-->")


def squash(line):
    return re.sub(r"\s+", "", line)


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    root = sys.argv[1]
    lines = open(os.path.join(root, "README.md"), encoding="utf-8").read().split("\n")
    for i, line in enumerate(lines):
        m = MARK.search(line)
        if not m:
            continue
        source = open(os.path.join(root, m.group(1)), encoding="utf-8").read()
        known = {squash(l) for l in source.split("\n")}
        known |= {squash(l.split("//")[0]) for l in source.split("\n")}
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        missing = []
        k = j + 1
        while k < len(lines) and not lines[k].startswith("```"):
            code = lines[k]
            stripped = code.strip()
            if stripped and not stripped.startswith("//"):
                if squash(code) not in known and squash(code.split("//")[0]) not in known:
                    missing.append(f"README.md:{k + 1}: {stripped}")
            k += 1
        if missing:
            print(f"check_quick_start: lines not in {m.group(1)}:")
            print("\n".join(missing))
            return 1
        print(f"check_quick_start: README quick start matches {m.group(1)}")
        return 0
    print("check_quick_start: no <!-- quick-start: FILE --> marker in README.md")
    return 1


if __name__ == "__main__":
    sys.exit(main())
