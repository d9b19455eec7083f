#!/usr/bin/env bash
# Installs what is missing, builds, and runs the demos:
#  1. the protocol layer on its own (encode a paged QUERY in v5 with LZ4 segments, decode a Rows
#     page zero-copy), a few lines;
#  2. the streaming demo: acass-server with a generated table of 10,000,000 rows on a free port,
#     and stream_synthetic reading all of it row by row with execute_stream, checking every row,
#     printing rows/s and the resident set (which stays flat: memory is bounded by the pages in
#     flight, not by the result size). The server is stopped on exit whatever happens.
# ROWS=N overrides the table size.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
install_packages
configure_and_build "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo
log "running the codec demo"
"$BUILD_DIR/bin/codec_demo"
ROWS="${ROWS:-10000000}"
log "streaming $ROWS rows from acass-server with stream_synthetic"
# run_stream_synthetic.sh starts the server (--port 0), reads the port from its ready line,
# runs the example and stops the server from an EXIT trap; its status is the example's.
exec "$ROOT/examples/run_stream_synthetic.sh" "$BUILD_DIR/bin/acass-server" "$BUILD_DIR/bin/stream_synthetic" \
  "$ROWS" --fetch-size 5000 --prefetch 1
