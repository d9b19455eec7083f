#!/usr/bin/env bash
# Runs one Python example against its own acass-server: starts `acass-server --port 0 FLAGS` where
# FLAGS is the example's "# server-flags:" header line, runs `PYTHON EXAMPLE --host 127.0.0.1
# --port PORT`, stops the server (always) and exits with the example's status.
#   run_example.sh SERVER_BINARY PYTHON EXAMPLE.py
set -euo pipefail
server="$1" python="$2" example="$3"
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/server.sh"
read -r -a flags <<<"$(sed -n 's/^# server-flags: //p' "$example" | head -n 1)"
log_file="$(mktemp)"
cleanup() {
  stop_acass_server
  rm -f "$log_file"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
start_acass_server "$server" "$log_file" "${flags[@]}"
status=0
"$python" "$example" --host 127.0.0.1 --port "$ACASS_PORT" || status=$?
exit "$status"
