#!/usr/bin/env python3
"""Compiles (syntax only) the C++ snippets of the Markdown docs, so the docs cannot drift from
the API. A snippet is a ```cpp block announced by an HTML comment on the line before it:

  <!-- snippet: body -->   statements; compiled inside
                           `asio::awaitable<void> f(async_cassandra::Session session)`
                           with `namespace ac = async_cassandra;` and the usual headers
  <!-- snippet: file -->   a whole translation unit (its own includes)

Unmarked blocks are not compiled (shell lines, fragments shown for contrast).
Usage: compile_snippets.py SOURCE_DIR WORK_DIR FILE.md...   (exit 1 if any snippet fails)
"""
import os
import re
import subprocess
import sys

MARK = re.compile(r"^<!--\s*snippet:\s*(body|file)\s*-->\s*$")

BODY_PRELUDE = """\
#include <async_cassandra/async_cassandra.hpp>
#include <asio.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
namespace ac = async_cassandra;
"""


def snippets(path):
    """Yields (kind, first line number, code) for each marked block of `path`."""
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        m = MARK.match(lines[i])
        if not m:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        if j >= len(lines) or not lines[j].startswith("```cpp"):
            raise SystemExit(f"{path}:{i + 1}: snippet marker not followed by a ```cpp block")
        k = j + 1
        while k < len(lines) and not lines[k].startswith("```"):
            k += 1
        yield m.group(1), j + 2, "\n".join(lines[j + 1:k])
        i = k + 1


def compile_unit(source_dir, unit, label):
    cxx = os.environ.get("CXX", "g++")
    cmd = [cxx, "-std=c++20", "-fsyntax-only", "-Wall", "-Wno-unused", "-Wno-unused-variable",
           "-Wno-unused-but-set-variable", "-I", os.path.join(source_dir, "include"),
           "-I", os.path.join(source_dir, "src"), unit]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(f"FAILED: {label}\n{r.stderr[-4000:]}\n")
        return False
    return True


def main():
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    source_dir, work_dir, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(work_dir, exist_ok=True)
    ok = True
    count = 0
    for md in files:
        name = re.sub(r"[^A-Za-z0-9]", "_", os.path.relpath(md, source_dir))
        bodies = []
        for n, (kind, line, code) in enumerate(snippets(md)):
            count += 1
            if kind == "file":
                unit = os.path.join(work_dir, f"{name}_{n}.cpp")
                with open(unit, "w") as f:
                    f.write(f'#line {line} "{md}"\n{code}\n')
                ok = compile_unit(source_dir, unit, f"{md}:{line}") and ok
            else:
                bodies.append(f"asio::awaitable<void> snippet_{n}(ac::Session session) {{\n"
                              f'#line {line} "{md}"\n{code}\n    co_return;\n}}\n')
        if bodies:
            unit = os.path.join(work_dir, f"{name}_bodies.cpp")
            with open(unit, "w") as f:
                f.write(BODY_PRELUDE + "\n".join(bodies))
            ok = compile_unit(source_dir, unit, f"{md} (body snippets)") and ok
    print(f"compile_snippets: {count} snippet(s) in {len(files)} file(s): {'ok' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
