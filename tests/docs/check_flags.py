#!/usr/bin/env python3
"""Checks that every command-line flag the documentation gives to acass or acass-server exists:
each `--flag` on a line (code block or inline code) that runs `acass ...` or `acass-server ...`,
and each bare inline `--flag` in the documents about one tool (tools/README.md: acass;
docs/server.md and server/net/README.md: acass-server), must appear in that tool's --help output
(acass: the top level and every subcommand's --help).
Usage: check_flags.py ACASS ACASS_SERVER SOURCE_DIR   (exit 1 and one line per unknown flag)
"""
import os
import re
import subprocess
import sys

FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")
HELP_FLAG = re.compile(r"(?:^|[\s,])(--[a-z][a-z0-9-]*)")
# The tool as the command of a line, a code span or a pipeline step (not an argument of another
# command, e.g. a script that is given build/bin/acass-server), up to the end of that command.
INVOCATION = re.compile(r"(?:^\s*(?:\$\s+)?|`\s*|[;&|(]\s*)(?:[\w./-]*/)?(acass-server|acass)(?![\w-])([^`|;&#]*)")
CODE_SPAN = re.compile(r"`([^`]+)`")
DOCS = ["README.md", "tools/README.md", "examples/README.md", "server/net/README.md"]
TOOL_OF_DOC = {"tools/README.md": "acass", "docs/server.md": "acass-server", "server/net/README.md": "acass-server"}


def help_flags(command):
    out = subprocess.run(command + ["--help"], capture_output=True, text=True, check=False)
    text = out.stdout + out.stderr
    if out.returncode != 0 or "--help" not in text:
        sys.exit(f"check_flags: `{' '.join(command)} --help` failed (exit {out.returncode})")
    return text, set(HELP_FLAG.findall(text))


def acass_flags(acass):
    text, flags = help_flags([acass])
    section = text.split("Subcommands:", 1)[1] if "Subcommands:" in text else ""
    subcommands = re.findall(r"^\s{2}([a-z][a-z-]*)\s", section, re.M)
    if not subcommands:
        sys.exit("check_flags: no subcommands in `acass --help`")
    for sub in subcommands:
        flags |= help_flags([acass, sub])[1]
    return flags


def main():
    acass, server, root = sys.argv[1:4]
    known = {"acass": acass_flags(acass), "acass-server": help_flags([server])[1]}
    docs = DOCS + sorted("docs/" + f for f in os.listdir(os.path.join(root, "docs")) if f.endswith(".md"))
    bad = []
    for doc in docs:
        path = os.path.join(root, doc)
        if not os.path.exists(path):
            continue
        fenced = False
        for n, line in enumerate(open(path, encoding="utf-8"), start=1):
            if line.lstrip().startswith(("```", "~~~")):
                fenced = not fenced
                continue
            # A command continues on the next line after a trailing backslash: good enough to
            # look at one line at a time, since continuation lines rarely name the tool again.
            found = []
            for m in INVOCATION.finditer(line):
                found += [(m.group(1), f) for f in FLAG.findall(m.group(2))]
            tool = TOOL_OF_DOC.get(doc)
            if tool and not fenced:
                for span in CODE_SPAN.findall(line):
                    if not INVOCATION.search(span) and span.lstrip().startswith("--"):
                        found += [(tool, f) for f in FLAG.findall(span.split()[0])]
            for tool, flag in found:
                if flag not in known[tool]:
                    bad.append(f"{doc}:{n}: {tool} has no {flag} (not in its --help)")
    for b in sorted(set(bad)):
        print(b)
    if bad:
        return 1
    print("check_flags: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
