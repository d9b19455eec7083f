# Shared by the tests/cli/*.sh scripts: starts acass-server on a free port (stopped on exit) and
# small assertion helpers. Source it after setting `server` and `acass`.
#   start_server [acass-server flags...]   sets $port; the server log is $work/server.log
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/server.sh"

work="$(mktemp -d)"
server_pid=""
started_pids=()  # every server start_server launched: a test may run several
cleanup() {
  stop_acass_server  # the server start_server launched last (also one that never became ready)
  local pid
  for pid in "${started_pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  [[ -n "${KEEP_WORK:-}" ]] || rm -rf "$work"  # KEEP_WORK=1 keeps the files of a failed run
}
trap cleanup EXIT
trap 'exit 130' INT   # turn signals into an exit, so that the EXIT trap stops the server
trap 'exit 143' TERM

start_server() {
  start_acass_server "$server" "$work/server.log" "$@"
  port="$ACASS_PORT"
  server_pid="$ACASS_SERVER_PID"
  started_pids+=("$server_pid")
}

# start_controlled_server [acass-server flags...]: like start_server, with --control-stdin fed
# from the file descriptor 7 (a FIFO): `echo "stop 1" >&7`. (A background job's standard input
# is /dev/null unless redirected on the job itself, so start_acass_server cannot be used.)
start_controlled_server() {
  mkfifo "$work/control"
  exec 7<>"$work/control"
  : >"$work/server.log"
  "$server" --port 0 --control-stdin "$@" <"$work/control" >"$work/server.log" 2>&1 &
  server_pid=$!
  started_pids+=("$server_pid")
  port=""
  local _
  for _ in $(seq 1 300); do
    port="$(sed -n 's/^acass-server listening on [^ ]*:\([0-9][0-9]*\) .*/\1/p' "$work/server.log")"
    [[ -n "$port" ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || fail "acass-server exited: $(cat "$work/server.log")"
    sleep 0.1
  done
  fail "acass-server did not report its port"
}

# fail writes to the test's own stderr, kept on a descriptor of its own: a check run as
# `expect_status 7 cmd 2>/dev/null` silences cmd, not the reason the test failed.
exec {acass_test_stderr}>&2
fail() {
  echo "FAIL: $*" >&"$acass_test_stderr"
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
