#!/usr/bin/env bash
# Like run_stream_synthetic.sh, with extra acass-server flags (fault rules, say): starts
# `acass-server --port 0 --synthetic ROWS SERVER_FLAGS...` on a free port, runs
# `EXAMPLE --host 127.0.0.1 --port PORT --rows-expected ROWS EXAMPLE_FLAGS...`, stops the server
# (always: trap on EXIT) and exits with the example's status.
#   run_with_server.sh SERVER_BINARY EXAMPLE_BINARY ROWS [SERVER_FLAGS...] -- [EXAMPLE_FLAGS...]
set -euo pipefail
server="$1" example="$2" rows="$3"
shift 3
server_flags=()
while [[ $# -gt 0 && "$1" != "--" ]]; do
  server_flags+=("$1")
  shift
done
[[ $# -gt 0 ]] && shift  # the "--"

source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/server.sh"
log_file="$(mktemp)"
cleanup() {
  stop_acass_server
  rm -f "$log_file"
}
trap cleanup EXIT
trap 'exit 130' INT   # turn signals into an exit, so that the EXIT trap stops the server
trap 'exit 143' TERM

start_acass_server "$server" "$log_file" --synthetic "$rows" "${server_flags[@]}"
server_pid="$ACASS_SERVER_PID" port="$ACASS_PORT"
echo "acass-server (pid $server_pid) serving $rows synthetic rows on 127.0.0.1:$port (flags: ${server_flags[*]:-none})"

status=0
"$example" --host 127.0.0.1 --port "$port" --rows-expected "$rows" "$@" || status=$?
exit "$status"
