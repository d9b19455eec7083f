#!/usr/bin/env bash
# Checks the documentation:
#  (a) the API reference builds: scripts/docs.sh runs doxygen; a doxygen failure, an "error:" in
#      its log or a missing html/index.html fails the check (warnings are only counted);
#  (b) every relative link in README.md and docs/*.md points to an existing file;
#  (c) the README's quick start is the core of examples/quick_start.cpp (which ctest runs);
#  (d) the C++ snippets marked <!-- snippet: ... --> in README.md and docs/*.md compile
#      (g++ -fsyntax-only against include/; CXX overrides the compiler; ACASS_DOCS_SKIP_SNIPPETS=1
#      skips this step);
#  (e) the fault matrix table of docs/reliability.md matches docs/reliability-matrix.json
#      (scripts/reliability_table.py --check).
# Usage: tests/docs/check_docs.sh [SOURCE_DIR] [WORK_DIR]   (defaults: the checkout, build/docs-check)
set -uo pipefail

ROOT="$(cd "${1:-$(dirname "${BASH_SOURCE[0]}")/../..}" && pwd)"
WORK="${2:-$ROOT/build/docs-check}"
HERE="$ROOT/tests/docs"
mkdir -p "$WORK"
failed=()

echo "== (a) API reference"
if "$ROOT/scripts/docs.sh" "$WORK/api"; then
  if grep -q 'error:' "$WORK/api/doxygen-warnings.log"; then
    grep 'error:' "$WORK/api/doxygen-warnings.log" | head -20
    failed+=("doxygen reported errors")
  fi
else
  failed+=("doxygen run")
fi
[[ -s "$WORK/api/html/index.html" ]] || failed+=("html/index.html missing")

echo "== (b) relative links"
docs=("$ROOT/README.md" "$ROOT"/docs/*.md "$ROOT/tools/README.md" "$ROOT/examples/README.md" "$ROOT/server/net/README.md")
python3 "$HERE/check_links.py" "${docs[@]}" || failed+=("broken links")

echo "== (c) README quick start"
python3 "$HERE/check_quick_start.py" "$ROOT" || failed+=("README quick start out of sync")

echo "== (e) generated fault matrix"
python3 "$ROOT/scripts/reliability_table.py" --check || failed+=("docs/reliability.md matrix stale")

if [[ "${ACASS_DOCS_SKIP_SNIPPETS:-0}" != 1 ]]; then
  echo "== (d) C++ snippets"
  python3 "$HERE/compile_snippets.py" "$ROOT" "$WORK/snippets" "${docs[@]}" || failed+=("snippets do not compile")
fi

if ((${#failed[@]})); then
  printf 'check_docs: FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "check_docs: ok"
