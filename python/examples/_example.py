"""Shared by the examples: --host/--port flags and running main() (exit 0 when the example's own
checks passed, 1 when one failed)."""
import argparse
import asyncio
import sys


def parse_args(**extra):
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9042)
    for name, default in extra.items():
        ap.add_argument("--" + name.replace("_", "-"), type=type(default), default=default)
    return ap.parse_args()


def main(coro):
    ok = asyncio.run(coro)
    sys.exit(0 if ok else 1)
