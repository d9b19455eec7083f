#!/usr/bin/env bash
# Starts acass-server with a synthetic table of ROWS rows on a free port, runs the example against
# it and stops the server (always): run_with_server.sh without server flags. Used by
# scripts/demo.sh and the ctest examples.
#   run_stream_synthetic.sh SERVER_BINARY EXAMPLE_BINARY ROWS [example flags...]
set -euo pipefail
server="$1" example="$2" rows="$3"
shift 3
exec "$(dirname "${BASH_SOURCE[0]}")/run_with_server.sh" "$server" "$example" "$rows" -- "$@"
