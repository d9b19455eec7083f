# Starting and stopping acass-server from shell scripts (demo, CLI tests, example runners).
# Source it, then:
#   start_acass_server BINARY LOG_FILE [acass-server flags...]
#       starts it on 127.0.0.1 with --port 0 and waits for its ready line
#       ("acass-server listening on 127.0.0.1:PORT (...)"); sets ACASS_PORT and ACASS_SERVER_PID;
#       exits 2 with the server's log if it dies or does not listen within 30 s.
#       ACASS_SERVER_STDIN, when set, is the server's standard input (e.g. a FIFO for
#       --control-stdin; open it for writing first so that the server's open does not block)
#   stop_acass_server   (idempotent; call it from an EXIT trap)

ACASS_PORT=""
ACASS_SERVER_PID=""

start_acass_server() {
  local binary="$1" log_file="$2"
  shift 2
  : >"$log_file"  # exists before the poll below reads it (the child opens it later)
  "$binary" --port 0 "$@" <"${ACASS_SERVER_STDIN:-/dev/null}" >"$log_file" 2>&1 &
  ACASS_SERVER_PID=$!
  ACASS_PORT=""
  local _
  for _ in $(seq 1 300); do
    ACASS_PORT="$(sed -n 's/^acass-server listening on [^ ]*:\([0-9][0-9]*\) .*/\1/p' "$log_file")"
    [[ -n "$ACASS_PORT" ]] && return 0
    if ! kill -0 "$ACASS_SERVER_PID" 2>/dev/null; then
      echo "acass-server exited before listening:" >&2
      cat "$log_file" >&2
      exit 2
    fi
    sleep 0.1
  done
  echo "acass-server did not report its port within 30 s" >&2
  exit 2
}

stop_acass_server() {
  if [[ -n "$ACASS_SERVER_PID" ]] && kill -0 "$ACASS_SERVER_PID" 2>/dev/null; then
    kill "$ACASS_SERVER_PID" 2>/dev/null || true
    wait "$ACASS_SERVER_PID" 2>/dev/null || true
  fi
  ACASS_SERVER_PID=""
}
