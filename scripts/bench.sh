#!/usr/bin/env bash
# The benchmark suite (issue 16): our client against the limits and against the peer drivers
# users would otherwise pick, every scenario against the same acass-server in the same run.
#
#   scripts/bench.sh [--quick] [--no-docs]
#
# It installs what is missing (Debian packages through scripts/lib/common.sh, npm packages of
# bench/node with `npm ci`), builds the Release binaries it needs in $BUILD_DIR (default
# build-release/), builds the gocql peer (GOPATH mode against Debian's gocql), then runs:
#
#   1 stream     SELECT * of the synthetic table, fetch 1,000 and 5,000: raw socket reader (the
#                limit), our client (v5 as negotiated, and v4; row by row, and page at a time),
#                gocql (write coalescing off, and
#                its default), Node.js cassandra-driver, DataStax Python driver; every client
#                reads every column of every row; rows/s, CPU ns/row, peak RSS. Against the
#                replay node too (acass-server --replay-pages) when the server has that mode.
#   2 latency    every page delayed 5 ms by the node, 5 ms of caller work per page, prefetch 0/1/2
#   3 ticker     lag of a 1 ms ticker on the client's event loop while it streams
#   4 point      prepared point queries by key, concurrency 1/64/1024: our client with the default
#                ClusterConfig and tuned, gocql (coalescing off, and default), Node.js, Python;
#                POINT_ROUNDS rounds (5; 3 with --quick) of one process per client and level,
#                the clients' order reversed every other round; the ratios are the median of the
#                per-round paired ratios (bench/paired_ratios.py), with their min-max
#   5 insert     prepared INSERTs at concurrency 256, same clients
#   6 scan       parallel token-range scan (acass count --splits 8) at concurrency 1..8, --nodes 3
#   7 export     acass export CSV / JSON lines / Avro
#   8 limits     decode-only speed (bench_rows_decode: memcpy, page validation, typed decoding)
#
# Every client run is tagged and appended to $RESULTS_DIR/results.raw ("RESULT ..." lines);
# bench/report.py turns that file into bench/results/<date>.json (with the machine's description)
# and, unless --no-docs, regenerates the marked section of docs/benchmarks.md and its plots
# (docs/img/bench_*.png). Clients are interleaved round by round (ROUNDS, default 3) so every
# client of a table row sees the same background load; the report shows the best round and the
# spread. The node runs on CPU 0 and the clients on CPU 1 (taskset) when the machine has 2+ CPUs.
#
# Knobs (environment): ROUNDS, STREAM_ROWS, POINT_ROUNDS, POINT_REQUESTS (per measurement at 64
# and 1,024), POINT_REQUESTS_C1, POINT_SLOW_REQUESTS (Node.js, Python), INSERT_REQUESTS,
# GOCQL_POINT_ARGS (gocql_bench's connection settings for scenarios 4-5), SCAN_ROWS, EXPORT_ROWS (smaller values keep a run on a loaded machine within its time), SKIP_BUILD=1,
# BUILD_TYPE (Release), SKIP_PEERS=1, ONLY="stream point ..." (a subset of the scenarios), PIN=0, BUILD_DIR, RESULTS_DIR.
BUILD_DIR="${BUILD_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build-release}"
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

QUICK=0
UPDATE_DOCS=1
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    --no-docs) UPDATE_DOCS=0 ;;
    *) echo "usage: scripts/bench.sh [--quick] [--no-docs]" >&2; exit 2 ;;
  esac
done

if ((QUICK)); then
  ROUNDS="${ROUNDS:-1}"; STREAM_ROWS="${STREAM_ROWS:-300000}"
  POINT_ROUNDS="${POINT_ROUNDS:-3}"; POINT_REQUESTS="${POINT_REQUESTS:-40000}"; POINT_REQUESTS_C1="${POINT_REQUESTS_C1:-1000}"
  POINT_SLOW_REQUESTS="${POINT_SLOW_REQUESTS:-1000}"; INSERT_REQUESTS="${INSERT_REQUESTS:-3000}"
  LAT_PAGES=40; SCAN_ROWS="${SCAN_ROWS:-1000000}"; EXPORT_ROWS="${EXPORT_ROWS:-300000}"
else
  ROUNDS="${ROUNDS:-3}"; STREAM_ROWS="${STREAM_ROWS:-2000000}"
  POINT_ROUNDS="${POINT_ROUNDS:-5}"; POINT_REQUESTS="${POINT_REQUESTS:-150000}"; POINT_REQUESTS_C1="${POINT_REQUESTS_C1:-5000}"
  POINT_SLOW_REQUESTS="${POINT_SLOW_REQUESTS:-5000}"; INSERT_REQUESTS="${INSERT_REQUESTS:-20000}"
  LAT_PAGES=200; SCAN_ROWS="${SCAN_ROWS:-10000000}"; EXPORT_ROWS="${EXPORT_ROWS:-2000000}"
fi
# The Node.js and Python drivers stream a quarter of the rows (they are 10-20x slower; rows/s and
# CPU per row are the comparable figures, and they stay the same past the first pages).
SLOW_PEER_ROWS=$((STREAM_ROWS / 4))
POINT_ROWS=1000000
INSERT_CONCURRENCY=256
# gocql's connection settings for point queries and inserts (its coalescing is set per client):
# Query.Release after each request, as gocql's documentation shows (see docs/benchmarks.md).
GOCQL_POINT_ARGS="${GOCQL_POINT_ARGS:--config default -release}"
CLIENT_TIMEOUT="${CLIENT_TIMEOUT:-600}"
BUILD_TYPE="${BUILD_TYPE:-Release}"
RESULTS_DIR="${RESULTS_DIR:-$BUILD_DIR/bench-results}"
ONLY="${ONLY:-stream latency ticker point insert scan export profile limits}"
PYTHON=/usr/bin/python3  # Debian's python3-cassandra and matplotlib import only under it
BENCH_PACKAGES=(golang-go golang-github-gocql-gocql-dev python3-matplotlib python3-cassandra util-linux)
TARGETS=(acass-server acass bench_streaming bench_point_queries raw_socket_read bench_rows_decode)

wants() { [[ " $ONLY " == *" $1 "* ]]; }

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  install_packages "${BENCH_PACKAGES[@]}"
  log "configuring $BUILD_DIR ($BUILD_TYPE)"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" >/dev/null
  log "building ${TARGETS[*]}"
  cmake --build "$BUILD_DIR" -j "$JOBS" --target "${TARGETS[@]}"
fi
BIN="$BUILD_DIR/bin"
for tool in "${TARGETS[@]}"; do
  [[ -x "$BIN/$tool" ]] || { log "$BIN/$tool is missing (build first, or unset SKIP_BUILD)"; exit 1; }
done

have_go=0 have_node=0 have_python=0
if [[ "${SKIP_PEERS:-0}" != 1 ]]; then
  if command -v go >/dev/null && [[ -d /usr/share/gocode/src/github.com/gocql/gocql ]]; then
    log "building the gocql peer (GOPATH mode, Debian's gocql)"
    (cd "$ROOT/bench/go" && GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$BUILD_DIR/go-cache" \
      go build -o "$BIN/gocql_bench" gocql_bench.go) && have_go=1
  fi
  if command -v npm >/dev/null; then
    # npm ci only when the lockfile changed since the last install (it wipes node_modules).
    lock="$ROOT/bench/node/package-lock.json" stamp="$ROOT/bench/node/node_modules/.installed-lock"
    if ! cmp -s "$lock" "$stamp" 2>/dev/null; then
      log "npm ci (bench/node)"
      (cd "$ROOT/bench/node" && npm ci --no-audit --no-fund --loglevel=error) && cp "$lock" "$stamp"
    fi
    [[ -f "$stamp" ]] && have_node=1
  fi
  "$PYTHON" -c 'import cassandra' 2>/dev/null && have_python=1
fi
((have_go)) || log "gocql peer not available: skipped"
((have_node)) || log "Node.js peer not available: skipped"
((have_python)) || log "Python driver not available: skipped"

mkdir -p "$RESULTS_DIR"
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
RAW="$RESULTS_DIR/results.raw"
: >"$RAW"
: >"$RESULTS_DIR/clients.err"

# CPU 0 for the node, CPU 1 for the client under test (they would otherwise fight for the same
# core while the other stays busy with something else).
SERVER_CPU="" CLIENT=()
if [[ "${PIN:-1}" == 1 ]] && (($(nproc) >= 2)) && command -v taskset >/dev/null; then
  SERVER_CPU=0 CLIENT=(taskset -c 1)
fi

source "$ROOT/scripts/lib/server.sh"
PORT=""
trap stop_acass_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_server ARGS...: acass-server on a free port, pinned; sets PORT.
start_server() {
  stop_acass_server
  start_acass_server "$BIN/acass-server" "$RESULTS_DIR/server.log" "$@"
  PORT="$ACASS_PORT"
  [[ -n "$SERVER_CPU" ]] && taskset -apc "$SERVER_CPU" "$ACASS_SERVER_PID" >/dev/null
  log "acass-server $* on port $PORT"
}

# run TAGS -- COMMAND...: runs one client (pinned, time-limited); its RESULT lines get TAGS
# ("scenario=stream round=2 ...") prepended and go to $RAW. A failing client fails the suite.
run() {
  local tags=()
  while [[ "$1" != -- ]]; do tags+=("$1"); shift; done
  shift
  local out t0 t1 n0 n1
  # node_busy: the node's CPU time over the client process's life (1.00: the node was the limit).
  n0="$(node_ticks)" t0="$(date +%s.%N)"
  if ! out="$(timeout "$CLIENT_TIMEOUT" "${CLIENT[@]}" "$@" 2>>"$RESULTS_DIR/clients.err")"; then
    printf '%s\n' "$out" >&2
    log "FAILED: $*"
    tail -5 "$RESULTS_DIR/clients.err" >&2
    exit 1
  fi
  n1="$(node_ticks)" t1="$(date +%s.%N)"
  tags+=("node_busy=$(awk -v n="$((n1 - n0))" -v hz="$(getconf CLK_TCK)" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", n / hz / (b - a) }')")
  printf '%s\n' "$out" | sed -n "s/^RESULT /RESULT ${tags[*]} /p" | tee -a "$RAW"
}
node_ticks() { awk '{ print $14 + $15 }' "/proc/$ACASS_SERVER_PID/stat" 2>/dev/null || echo 0; }

# ---------------------------------------------------------------- 1. streaming (and limits)
stream_round() {  # stream_round NODE_LABEL ROUND ROWS
  local node="$1" round="$2" rows="$3" fetch
  local t=(scenario=stream node="$node" round="$round")
  for fetch in 1000 5000; do
    run "${t[@]}" -- "$BIN/raw_socket_read" --port "$PORT" --fetch-size "$fetch" --protocol 5 --rows-expected "$rows"
    run "${t[@]}" -- "$BIN/raw_socket_read" --port "$PORT" --fetch-size "$fetch" --protocol 4 --rows-expected "$rows"
    run "${t[@]}" -- "$BIN/bench_streaming" --port "$PORT" --fetch-size "$fetch" --rows-expected "$rows" --label default
    run "${t[@]}" -- "$BIN/bench_streaming" --port "$PORT" --fetch-size "$fetch" --rows-expected "$rows" --protocol 4 --label v4
    run "${t[@]}" -- "$BIN/bench_streaming" --port "$PORT" --fetch-size "$fetch" --rows-expected "$rows" --api page --label page
    [[ "$node" == replay ]] && continue  # the peers are compared end to end only
    if ((have_go)); then
      run "${t[@]}" -- "$BIN/gocql_bench" -mode stream -port "$PORT" -fetch "$fetch" -rows-expected "$rows" -coalesce 0 -label best
      run "${t[@]}" -- "$BIN/gocql_bench" -mode stream -port "$PORT" -fetch "$fetch" -rows-expected "$rows" -coalesce 200us -config default -label default
    fi
    if ((have_node)); then run "${t[@]}" -- node "$ROOT/bench/node/bench.js" --mode stream --port "$PORT" --fetch "$fetch" --max-rows "$SLOW_PEER_ROWS"; fi
    if ((have_python)); then run "${t[@]}" -- "$PYTHON" "$ROOT/bench/python/stream_paging.py" --port "$PORT" --fetch-size "$fetch" --max-rows "$SLOW_PEER_ROWS"; fi
  done
}

if wants stream; then
  start_server --synthetic "$STREAM_ROWS"
  for round in $(seq 1 "$ROUNDS"); do
    log "stream: round $round/$ROUNDS, $STREAM_ROWS rows"
    stream_round synthetic "$round" "$STREAM_ROWS"
  done
  # The replay node serves pre-encoded pages, so the client (not the node's encoder) is measured.
  if [[ "$("$BIN/acass-server" --help 2>&1)" == *--replay-pages* ]]; then
    start_server --synthetic "$STREAM_ROWS" --replay-pages
    for round in $(seq 1 "$ROUNDS"); do
      log "stream against the replay node: round $round/$ROUNDS"
      stream_round replay "$round" "$STREAM_ROWS"
    done
  else
    log "acass-server has no --replay-pages yet: streaming measured against the ordinary node only"
  fi
fi

# ---------------------------------------------------------------- 2. latency hiding, 3. ticker lag
if wants latency; then
  start_server --synthetic $((1000 * LAT_PAGES)) --fault delay_pages=5
  run scenario=latency -- "$BIN/bench_streaming" --port "$PORT" --fetch-size 1000 --rows-expected $((1000 * LAT_PAGES)) --label network_only
  for prefetch in 0 1 2; do
    run scenario=latency -- "$BIN/bench_streaming" --port "$PORT" --fetch-size 1000 --rows-expected $((1000 * LAT_PAGES)) \
      --prefetch "$prefetch" --work-ms 5 --work busy --label busy
  done
fi
if wants ticker; then
  start_server --synthetic "$STREAM_ROWS"
  for round in $(seq 1 "$ROUNDS"); do
    for fetch in 1000 5000; do
      run scenario=ticker round="$round" -- "$BIN/bench_streaming" --port "$PORT" --fetch-size "$fetch" \
        --rows-expected "$STREAM_ROWS" --ticker-ms 1 --label ticker
    done
  done
fi

# ---------------------------------------------------------------- 4. point queries, 5. inserts
# Every client at every level in a process of its own, each level a round of its own: the clients
# of one level run back to back, in the reverse order every other round (ABBA), so each round's
# ratios compare clients that saw the same load; report.py takes the median of those per-round
# paired ratios. POINT_REQUESTS per measurement at 64 and 1,024 keeps each of them ~1-3 s long.
POINT_CLIENTS=(cpp_default cpp_tuned)
((have_go)) && POINT_CLIENTS+=(gocql_off gocql_default)
((have_node)) && POINT_CLIENTS+=(node)
((have_python)) && POINT_CLIENTS+=(python)

point_client() {  # point_client CLIENT OP LEVEL ROUND REQUESTS
  local client="$1" op="$2" level="$3" round="$4" n="$5"
  local t=(scenario="$op" round="$round")
  local ours=("$BIN/bench_point_queries" --port "$PORT" --rows "$POINT_ROWS" --requests "$n" --warmup 1000 --concurrency "$level" --op "$op")
  local go=("$BIN/gocql_bench" -port "$PORT" -rows "$POINT_ROWS" -warmup 1000 -mode "$op" -conc "$level" $GOCQL_POINT_ARGS)
  # The slow peers (and gocql's coalescing at concurrency 1, ~1 ms per request) make fewer requests.
  local few=$((level == 1 ? POINT_REQUESTS_C1 / 5 : POINT_SLOW_REQUESTS))
  local slow=(--port "$PORT" --rows "$POINT_ROWS" --requests "$few" --requests-c1 "$few" --warmup 500)
  case "$client" in
    cpp_default) run "${t[@]}" -- "${ours[@]}" --config default ;;
    cpp_tuned) run "${t[@]}" -- "${ours[@]}" --config tuned --protocol 4 ;;
    gocql_off) run "${t[@]}" -- "${go[@]}" -requests "$n" -coalesce 0 ;;
    gocql_default) run "${t[@]}" -- "${go[@]}" -requests "$((level == 1 ? n / 5 : n))" -coalesce 200us ;;
    node) run "${t[@]}" -- node "$ROOT/bench/node/bench.js" --mode "$op" --conc "$level" "${slow[@]}" ;;
    python) run "${t[@]}" -- "$PYTHON" "$ROOT/bench/python/point_queries.py" --op "$op" --concurrency "$level" "${slow[@]}" ;;
  esac
}
point_round() {  # point_round OP LEVEL ROUND REQUESTS
  local order=("${POINT_CLIENTS[@]}") i
  if (($3 % 2 == 0)); then order=(); for ((i = ${#POINT_CLIENTS[@]} - 1; i >= 0; i--)); do order+=("${POINT_CLIENTS[$i]}"); done; fi
  for client in "${order[@]}"; do point_client "$client" "$1" "$2" "$3" "$4"; done
}
if wants point || wants insert; then
  start_server --synthetic "$POINT_ROWS"
  if wants point; then
    for round in $(seq 1 "$POINT_ROUNDS"); do
      log "point queries: round $round/$POINT_ROUNDS (load average $(cut -d' ' -f1-3 /proc/loadavg))"
      point_round select 1 "$round" "$POINT_REQUESTS_C1"
      point_round select 64 "$round" "$POINT_REQUESTS"
      point_round select 1024 "$round" "$POINT_REQUESTS"
    done
  fi
  if wants insert; then
    for round in $(seq 1 "$ROUNDS"); do
      log "inserts: round $round/$ROUNDS"
      point_round insert "$INSERT_CONCURRENCY" "$round" "$INSERT_REQUESTS"
    done
  fi
fi

# ---------------------------------------------------------------- 6. parallel scan on 3 nodes
# time_run TAGS -- COMMAND...: a command that prints no RESULT line; its wall and CPU time become one.
time_run() {
  local tags=()
  while [[ "$1" != -- ]]; do tags+=("$1"); shift; done
  shift
  local start end cpu0 cpu1
  cpu0="$(awk '{print $16 + $17}' /proc/$$/stat)"  # CPU ticks of the children waited for so far
  start="$(date +%s.%N)"
  if ! timeout "$CLIENT_TIMEOUT" "${CLIENT[@]}" "$@" >"$RESULTS_DIR/last.out" 2>>"$RESULTS_DIR/clients.err"; then
    log "FAILED: $*"; tail -5 "$RESULTS_DIR/clients.err" >&2; exit 1
  fi
  end="$(date +%s.%N)"
  cpu1="$(awk '{print $16 + $17}' /proc/$$/stat)"
  awk -v tags="${tags[*]}" -v s="$start" -v e="$end" -v c0="$cpu0" -v c1="$cpu1" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "RESULT %s seconds=%.3f cpu_s=%.2f\n", tags, e - s, (c1 - c0) / hz }' | tee -a "$RAW"
}
if wants scan; then
  start_server --nodes 3 --synthetic "$SCAN_ROWS"
  for round in $(seq 1 "$ROUNDS"); do
    for c in 1 2 4 8; do
      time_run scenario=scan round="$round" impl=cpp conc="$c" rows="$SCAN_ROWS" -- \
        "$BIN/acass" count --port "$PORT" --table synthetic.rows --splits 8 --concurrency "$c" -q
      [[ "$(cat "$RESULTS_DIR/last.out")" == "$SCAN_ROWS" ]] || { log "scan counted $(cat "$RESULTS_DIR/last.out") rows"; exit 1; }
    done
  done
fi

# ---------------------------------------------------------------- 7. export
if wants export; then
  start_server --synthetic "$EXPORT_ROWS"
  out="$RESULTS_DIR/export.out"
  for round in $(seq 1 "$ROUNDS"); do
    run scenario=export round="$round" -- "$BIN/bench_streaming" --port "$PORT" --rows-expected "$EXPORT_ROWS" --label stream
    for format in csv jsonl avro; do
      time_run scenario=export round="$round" impl=cpp format="$format" rows="$EXPORT_ROWS" -- \
        "$BIN/acass" export --port "$PORT" --table synthetic.rows --format "$format" --out "$out" -q
    done
    rm -f "$out"
  done
fi

# ---------------------------------------------------------------- where the time goes
# A CPU profile of our client streaming (v5, fetch 5,000), where perf works on this machine.
PROFILE="$RESULTS_DIR/profile.txt"
rm -f "$PROFILE"
if wants profile && perf stat -e task-clock true >/dev/null 2>&1; then
  start_server --synthetic "$STREAM_ROWS"
  if "${CLIENT[@]}" perf record -q -e cpu-clock -F 4999 -o "$RESULTS_DIR/perf.data" -- "$BIN/bench_streaming" --port "$PORT" \
       --fetch-size 5000 --rows-expected "$STREAM_ROWS" --label profile >/dev/null 2>>"$RESULTS_DIR/clients.err"; then
    perf report -i "$RESULTS_DIR/perf.data" --stdio --no-children --sort dso,symbol --percent-limit 1 2>/dev/null >"$PROFILE" || true
  fi
fi
stop_acass_server

# ---------------------------------------------------------------- 8. decode-only limits
if wants limits; then
  "${CLIENT[@]}" "$BIN/bench_rows_decode" --benchmark_format=json --benchmark_out="$RESULTS_DIR/rows_decode.json" \
    --benchmark_out_format=json --benchmark_repetitions=3 --benchmark_min_time=0.05 \
    --benchmark_filter='BM_Memcpy|BM_PageValidateUnindexed|BM_PageOnlyAsTuple|BM_PageOnlyRowGet|BM_DecodeRowGet' >/dev/null 2>>"$RESULTS_DIR/clients.err"
fi

[[ -s "$RESULTS_DIR/clients.err" ]] && sort -u "$RESULTS_DIR/clients.err" | grep -v '^#' | head -20 >&2 || true

# --no-docs (a subset, a trial): the JSON stays in $RESULTS_DIR, the committed results are left alone.
json_dir="$ROOT/bench/results"
((UPDATE_DOCS)) || json_dir="$RESULTS_DIR"
report=("$PYTHON" "$ROOT/bench/report.py" --raw "$RAW" --out-dir "$json_dir" --quick "$QUICK"
        --rounds "$ROUNDS" --build-type "$BUILD_TYPE"
        --sizes "STREAM_ROWS=$STREAM_ROWS POINT_ROUNDS=$POINT_ROUNDS POINT_REQUESTS=$POINT_REQUESTS POINT_REQUESTS_C1=$POINT_REQUESTS_C1 SCAN_ROWS=$SCAN_ROWS EXPORT_ROWS=$EXPORT_ROWS"
        --pinned "$([[ -n "$SERVER_CPU" ]] && echo 1 || echo 0)" --load-start "$LOAD_START")
[[ -s "$PROFILE" ]] && report+=(--profile "$PROFILE")
[[ -f "$RESULTS_DIR/rows_decode.json" ]] && report+=(--decode "$RESULTS_DIR/rows_decode.json")
((UPDATE_DOCS)) && report+=(--doc "$ROOT/docs/benchmarks.md" --img-dir "$ROOT/docs/img")
"${report[@]}"
