#!/usr/bin/env python3
"""Checks that every relative link of the given Markdown files points to an existing file or
directory (the #anchor part is ignored). Links inside fenced code blocks and inline code are not
links. External links (http:, https:, mailto:) and pure #anchors are skipped.
Usage: check_links.py FILE.md...   (exit 1 and one line per broken link if any)
"""
import os
import re
import sys

INLINE = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
CODE_SPAN = re.compile(r"`+[^`]*`+")


def targets(path):
    """Yields (line number, link target) outside code."""
    fenced = False
    for n, line in enumerate(open(path, encoding="utf-8"), start=1):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        if fenced:
            continue
        text = CODE_SPAN.sub("", line)
        for m in INLINE.finditer(text):
            yield n, m.group(1)
        m = REFERENCE.match(text)
        if m:
            yield n, m.group(1)


def main():
    files = sys.argv[1:]
    if not files:
        raise SystemExit(__doc__)
    broken = 0
    checked = 0
    for md in files:
        base = os.path.dirname(os.path.abspath(md))
        for n, target in targets(md):
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith("#"):
                continue
            path = target.split("#", 1)[0].split("?", 1)[0]
            if not path:
                continue
            checked += 1
            if not os.path.exists(os.path.join(base, path)):
                print(f"{md}:{n}: broken link: {target}")
                broken += 1
    print(f"check_links: {checked} relative link(s) in {len(files)} file(s), {broken} broken")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
