#!/usr/bin/env bash
# Generates the API reference (HTML) from the public headers with Doxygen.
#   scripts/docs.sh [OUT_DIR]      (default: build/docs; a relative path is taken from the checkout)
# Writes OUT_DIR/html/index.html and OUT_DIR/doxygen-warnings.log, and prints the number of
# warnings (they do not fail the run; doxygen errors do). Needs the Debian package doxygen.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-build/docs}"
case "$OUT" in /*) ;; *) OUT="$ROOT/$OUT" ;; esac

if ! command -v doxygen >/dev/null; then
  echo "docs.sh: doxygen not found (Debian: apt-get install doxygen)" >&2
  exit 2
fi

mkdir -p "$OUT"
rm -rf "$OUT/html"
WARNINGS="$OUT/doxygen-warnings.log"
: >"$WARNINGS"
cd "$ROOT"
# The Doxyfile's paths are relative to the checkout; only the output locations change here.
{
  cat docs/api/Doxyfile
  printf 'OUTPUT_DIRECTORY = "%s"\n' "$OUT"
  printf 'WARN_LOGFILE = "%s"\n' "$WARNINGS"
} | doxygen -

if [[ ! -s "$OUT/html/index.html" ]]; then
  echo "docs.sh: doxygen did not produce $OUT/html/index.html" >&2
  exit 1
fi
count=$(grep -c 'warning:' "$WARNINGS" || true)
echo "API reference: $OUT/html/index.html ($count doxygen warning(s), see $WARNINGS)"
