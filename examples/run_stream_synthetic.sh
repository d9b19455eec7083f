#!/usr/bin/env bash
# Starts acass-server with a synthetic table of ROWS rows on a free port, streams and verifies it
# with stream_synthetic, and stops the server (always: trap on EXIT). Exits with the example's
# status. Used by scripts/demo.sh and by the ctest examples.stream_synthetic.
#   run_stream_synthetic.sh SERVER_BINARY EXAMPLE_BINARY ROWS [stream_synthetic flags...]
set -euo pipefail
server="$1" example="$2" rows="$3"
shift 3

log_file="$(mktemp)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -f "$log_file"
}
trap cleanup EXIT
trap 'exit 130' INT   # turn signals into an exit, so that the EXIT trap stops the server
trap 'exit 143' TERM

"$server" --port 0 --synthetic "$rows" >"$log_file" 2>&1 &
server_pid=$!

# The server prints "acass-server listening on 127.0.0.1:PORT (1 node)" once it accepts.
port=""
for _ in $(seq 1 300); do
  port="$(sed -n 's/^acass-server listening on [^ ]*:\([0-9][0-9]*\) .*/\1/p' "$log_file")"
  [[ -n "$port" ]] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "acass-server exited before listening:" >&2
    cat "$log_file" >&2
    exit 2
  fi
  sleep 0.1
done
if [[ -z "$port" ]]; then
  echo "acass-server did not report its port within 30 s" >&2
  exit 2
fi
echo "acass-server (pid $server_pid) serving $rows synthetic rows on 127.0.0.1:$port"

status=0
"$example" --host 127.0.0.1 --port "$port" --rows-expected "$rows" "$@" || status=$?
exit "$status"
