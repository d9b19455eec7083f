# Shared by the tests/cli/*.sh scripts: starts acass-server on a free port (stopped on exit) and
# small assertion helpers. Source it after setting `server` and `acass`.
#   start_server [acass-server flags...]   sets $port; the server log is $work/server.log
set -euo pipefail

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT   # turn signals into an exit, so that the EXIT trap stops the server
trap 'exit 143' TERM

start_server() {
  : >"$work/server.log"  # exists before the poll below reads it (the child opens it later)
  "$server" --port 0 "$@" >"$work/server.log" 2>&1 &
  server_pid=$!
  port=""
  for _ in $(seq 1 300); do
    port="$(sed -n 's/^acass-server listening on [^ ]*:\([0-9][0-9]*\) .*/\1/p' "$work/server.log")"
    [[ -n "$port" ]] && return 0
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "acass-server exited before listening:" >&2
      cat "$work/server.log" >&2
      exit 2
    fi
    sleep 0.1
  done
  echo "acass-server did not report its port within 30 s" >&2
  exit 2
}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# expect_status CODE COMMAND...: runs COMMAND, fails unless it exits with CODE.
expect_status() {
  local want="$1"
  shift
  local got=0
  "$@" || got=$?
  [[ "$got" == "$want" ]] || fail "expected exit $want, got $got from: $*"
}

# cql STATEMENT: runs a statement through acass query against the test server.
cql() {
  "$acass" query --port "$port" "$1" >/dev/null
}
