#!/usr/bin/env bash
# Runs COMMAND... and succeeds only when it fails its own check: exit status 1 and a
# "CHECK FAILED" line on stderr. A crash, a usage error or a pass all make this test fail, so an
# example's negative test cannot pass for the wrong reason.
#   expect_check_failure.sh COMMAND [ARGS...]
set -uo pipefail
err="$(mktemp)"
trap 'rm -f "$err"' EXIT
"$@" 2> >(tee "$err" >&2)
status=$?
wait
if [[ $status -eq 1 ]] && grep -q "CHECK FAILED" "$err"; then
  echo "failed its check, as expected"
  exit 0
fi
echo "expected exit status 1 with CHECK FAILED, got status $status" >&2
exit 1
