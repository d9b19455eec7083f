#!/usr/bin/env bash
# Installs what is missing, builds, and runs the demo against the embedded node:
#  1. the protocol layer on its own (encode a paged QUERY in v5 with LZ4 segments, decode a Rows
#     page zero-copy), a few lines;
#  2. acass-server with a generated table of 10,000,000 rows (on 127.0.0.1, a free port);
#  3. stream_synthetic streams all of it row by row with execute_stream and checks every row
#     against the generator's formulas, printing rows/s and the resident set, which stays flat:
#     memory is bounded by the pages in flight, not by the result size;
#  4. the acass CLI exports the same table to CSV with a progress bar (on a terminal), then prints
#     rows/s and its peak memory; the first lines of the file are shown and the file removed.
# The server is stopped on exit whatever happens. ROWS=N overrides the table size; KEEP_CSV=1
# keeps the export (its path is printed).
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$ROOT/scripts/lib/server.sh"
install_packages
configure_and_build "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo

log "running the codec demo"
"$BUILD_DIR/bin/codec_demo"

ROWS="${ROWS:-10000000}"
work="$(mktemp -d)"
cleanup() {
  stop_acass_server
  if [[ "${KEEP_CSV:-0}" != 1 ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT   # turn signals into an exit, so that the EXIT trap stops the server
trap 'exit 143' TERM

log "starting acass-server with $ROWS generated rows"
start_acass_server "$BUILD_DIR/bin/acass-server" "$work/server.log" --synthetic "$ROWS"
echo "acass-server (pid $ACASS_SERVER_PID) listening on 127.0.0.1:$ACASS_PORT"

log "streaming and checking every row with execute_stream (examples/stream_synthetic.cpp)"
"$BUILD_DIR/bin/stream_synthetic" --host 127.0.0.1 --port "$ACASS_PORT" --rows-expected "$ROWS" \
  --fetch-size 5000 --prefetch 1

log "exporting the table to CSV with the acass CLI"
"$BUILD_DIR/bin/acass" export --host 127.0.0.1 --port "$ACASS_PORT" --table synthetic.rows --count \
  --out "$work/synthetic.csv"
exported="$(($(wc -l <"$work/synthetic.csv") - 1))"
echo "first lines of $work/synthetic.csv ($exported data lines):"
head -4 "$work/synthetic.csv"
if [[ "$exported" != "$ROWS" ]]; then
  echo "the export has $exported rows, expected $ROWS" >&2
  exit 1
fi
log "demo complete"
