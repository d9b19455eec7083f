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
trap 'exit 130' INT
trap 'exit 143' TERM

"$server" --port 0 --synthetic "$rows" "${server_flags[@]}" >"$log_file" 2>&1 &
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
echo "acass-server (pid $server_pid) serving $rows synthetic rows on 127.0.0.1:$port (flags: ${server_flags[*]:-none})"

status=0
"$example" --host 127.0.0.1 --port "$port" --rows-expected "$rows" "$@" || status=$?
exit "$status"
