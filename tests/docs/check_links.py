#!/usr/bin/env python3
"""Checks the links of the given Markdown files: every relative link points to an existing file or
directory, and every #anchor (in this file, `#section`, or in another Markdown file,
`other.md#section`) names a heading that exists there, with GitHub's rules for heading anchors.
Links inside fenced code blocks and inline code are not links. External links (http:, https:,
mailto:) are skipped.
Usage: check_links.py FILE.md...   (exit 1 and one line per broken link if any)
"""
import os
import re
import sys

INLINE = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
CODE_SPAN = re.compile(r"`+[^`]*`+")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
EXPLICIT_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"")


def lines_outside_fences(path):
    """Yields (line number, line) of the lines that are not inside fenced code blocks."""
    fenced = False
    for n, line in enumerate(open(path, encoding="utf-8"), start=1):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        if not fenced:
            yield n, line


def targets(path):
    """Yields (line number, link target) outside code."""
    for n, line in lines_outside_fences(path):
        text = CODE_SPAN.sub("", line)
        for m in INLINE.finditer(text):
            yield n, m.group(1)
        m = REFERENCE.match(text)
        if m:
            yield n, m.group(1)


def slug(heading):
    """GitHub's anchor for a heading: markup and punctuation dropped, lower case, spaces to '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links keep their text
    text = re.sub(r"<[^>]+>", "", text)                         # inline HTML
    text = text.lower().replace("`", "")
    text = "".join(c for c in text if c.isalnum() or c in " -_")
    return text.replace(" ", "-")


_anchor_cache = {}


def anchors(path):
    """The set of anchors a Markdown file defines (duplicate headings get -1, -2, ...)."""
    path = os.path.abspath(path)
    if path not in _anchor_cache:
        found, seen = set(), {}
        for _, line in lines_outside_fences(path):
            found.update(EXPLICIT_ANCHOR.findall(line))
            m = HEADING.match(line)
            if not m:
                continue
            base = slug(m.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
        _anchor_cache[path] = found
    return _anchor_cache[path]


def main():
    files = sys.argv[1:]
    if not files:
        raise SystemExit(__doc__)
    broken = 0
    checked = 0
    for md in files:
        base = os.path.dirname(os.path.abspath(md))
        for n, target in targets(md):
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
                continue
            path, _, anchor = target.partition("#")
            path = path.split("?", 1)[0]
            checked += 1
            full = os.path.join(base, path) if path else os.path.abspath(md)
            if not os.path.exists(full):
                print(f"{md}:{n}: broken link: {target}")
                broken += 1
                continue
            if anchor and full.endswith(".md") and anchor not in anchors(full):
                print(f"{md}:{n}: no heading for anchor #{anchor} in {os.path.relpath(full)}")
                broken += 1
    print(f"check_links: {checked} relative link(s) in {len(files)} file(s), {broken} broken")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
