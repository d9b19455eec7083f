#!/usr/bin/env bash
# Streaming benchmarks (issue 6), each measured side by side in one run against acass-server
# --synthetic N started here on 127.0.0.1 with --port 0 (and stopped on exit, also on failure):
#   1. throughput: SELECT * FROM synthetic.rows at several fetch sizes, for
#        - our client (bench_streaming: execute_stream, row by row, every cell read typed),
#        - raw_socket_read (blocking socket, frames only, no row decoding: the limit),
#        - the DataStax Python driver paging the same query (bench/python/stream_paging.py),
#          which gets PY_ROWS rows (it is much slower; rows/s is the comparable figure);
#   2. latency hiding: a server delaying every page by LAT_DELAY_MS (--fault delay_pages=MS),
#      a caller spending LAT_WORK_MS per page, prefetch_pages 0 vs 1;
#   3. memory: peak RSS (VmHWM) of the client process streaming MEM_SMALL vs MEM_LARGE rows.
# Results go to $RESULTS_DIR (default $BUILD_DIR/bench-streaming): *.raw (RESULT lines), *.md
# (tables), summary.md (everything, also printed at the end).
#
# Knobs (environment):
#   ROWS=10000000            table size and rows streamed by our client and the raw reader
#   FETCH_SIZES=100,1000,5000,10000
#   PY_ROWS=1000000          rows the Python driver streams per fetch size (it stops there)
#   PREFETCH=1               prefetch_pages of our client in the throughput runs
#   YIELD_VARIANT=0          1: also run our client with --yields 2 (two extra event-loop passes at
#                            the start of each page; a diagnostic from before the library sent the
#                            next page request ahead of handing out a page)
#   PROTOCOL=5               protocol version of all three clients (4 or 5)
#   ROUNDS=3                 throughput runs per fetch size and client; tables show medians
#   LAT_FETCH=1000 LAT_PAGES=200 LAT_DELAY_MS=5 LAT_WORK_MS=5   latency-hiding scenario
#   MEM_SMALL=1000000 MEM_LARGE=100000000 MEM_FETCH=5000          memory scenario (prefetch 1)
#   CLIENT_TIMEOUT=900       seconds per client run (a hung client fails the script)
#   SKIP_BUILD=1             use the existing build in BUILD_DIR (default: build RelWithDebInfo)
#   SKIP_PYTHON=1  SKIP_THROUGHPUT=1  SKIP_LATENCY=1  SKIP_MEMORY=1
#   BUILD_DIR (default build/), RESULTS_DIR
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

ROWS="${ROWS:-10000000}"
FETCH_SIZES="${FETCH_SIZES:-100,1000,5000,10000}"
PY_ROWS="${PY_ROWS:-1000000}"
PREFETCH="${PREFETCH:-1}"
YIELD_VARIANT="${YIELD_VARIANT:-0}"
PROTOCOL="${PROTOCOL:-5}"
ROUNDS="${ROUNDS:-3}"
LAT_FETCH="${LAT_FETCH:-1000}"
LAT_PAGES="${LAT_PAGES:-200}"
LAT_DELAY_MS="${LAT_DELAY_MS:-5}"
LAT_WORK_MS="${LAT_WORK_MS:-5}"
MEM_SMALL="${MEM_SMALL:-1000000}"
MEM_LARGE="${MEM_LARGE:-100000000}"
MEM_FETCH="${MEM_FETCH:-5000}"
CLIENT_TIMEOUT="${CLIENT_TIMEOUT:-900}"
RESULTS_DIR="${RESULTS_DIR:-$BUILD_DIR/bench-streaming}"
# Debian's python3-cassandra only imports under the system interpreter, whatever is on PATH.
PYTHON=/usr/bin/python3

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  install_packages
  configure_and_build "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
for tool in acass-server bench_streaming raw_socket_read; do
  [[ -x "$BUILD_DIR/bin/$tool" ]] || { log "$BUILD_DIR/bin/$tool is missing (build first, or unset SKIP_BUILD)"; exit 1; }
done
mkdir -p "$RESULTS_DIR"

source "$ROOT/scripts/lib/server.sh"
PORT=""
stop_server() { stop_acass_server; }
trap stop_server EXIT
trap 'exit 130' INT   # turn signals into an exit, so that the EXIT trap stops the server
trap 'exit 143' TERM

# start_server ROWS [more acass-server flags]: sets PORT (the server's output: server.log).
start_server() {
  local rows="$1"; shift
  stop_server
  start_acass_server "$BUILD_DIR/bin/acass-server" "$RESULTS_DIR/server.log" --synthetic "$rows" "$@"
  PORT="$ACASS_PORT"
  log "acass-server --synthetic $rows $* on port $PORT"
}

# run_client RAW_FILE COMMAND...: runs one client with the time limit, appends its RESULT line.
run_client() {
  local raw="$1"; shift
  timeout "$CLIENT_TIMEOUT" "$@" 2>>"$RESULTS_DIR/clients.err" | tee -a "$raw"
}

have_python=0
if [[ "${SKIP_PYTHON:-0}" != 1 ]] && "$PYTHON" -c 'import cassandra' 2>/dev/null; then
  have_python=1
else
  log "skipping the Python driver (SKIP_PYTHON=1 or python3-cassandra not importable by $PYTHON)"
fi
: >"$RESULTS_DIR/clients.err"
PARTS=()  # the parts run this time, for the summary

# Median of the values of one key, used by the table builders below.
AWK_LIB='
  function median_of(key,    m, i, j, t, a) {
    m = cnt[key]
    for (i = 1; i <= m; i++) a[i] = val[key, i] + 0
    for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
  }
  function add(key, v) { val[key, ++cnt[key]] = v }
  function fields(    i, kv) { delete f; for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } }
'

# ---------------------------------------------------------------- 1. throughput
if [[ "${SKIP_THROUGHPUT:-0}" != 1 ]]; then
  RAW="$RESULTS_DIR/throughput.raw"
  : >"$RAW"
  start_server "$ROWS"
  IFS=, read -r -a fetch_sizes <<<"$FETCH_SIZES"
  # Clients are interleaved fetch size by fetch size (raw, cpp, python), so that the three
  # figures of a table row see the same background load on a shared machine.
  for round in $(seq 1 "$ROUNDS"); do
    for fetch in "${fetch_sizes[@]}"; do
      log "round $round/$ROUNDS, fetch $fetch: raw_socket_read, bench_streaming$( ((have_python)) && echo ", stream_paging.py" || true)"
      run_client "$RAW" "$BUILD_DIR/bin/raw_socket_read" --port "$PORT" --fetch-size "$fetch" \
        --protocol "$PROTOCOL" --rows-expected "$ROWS"
      run_client "$RAW" "$BUILD_DIR/bin/bench_streaming" --port "$PORT" --fetch-size "$fetch" \
        --prefetch "$PREFETCH" --protocol "$PROTOCOL" --rows-expected "$ROWS" --label throughput
      if [[ "$YIELD_VARIANT" == 1 ]]; then
        run_client "$RAW" "$BUILD_DIR/bin/bench_streaming" --port "$PORT" --fetch-size "$fetch" \
          --prefetch "$PREFETCH" --protocol "$PROTOCOL" --rows-expected "$ROWS" --yields 2 --label throughput_yield2
      fi
      if ((have_python)); then
        run_client "$RAW" "$PYTHON" "$ROOT/bench/python/stream_paging.py" --port "$PORT" --fetch-size "$fetch" \
          --max-rows "$PY_ROWS" --protocol "$PROTOCOL"
      fi
    done
  done
  stop_server
  awk "$AWK_LIB"'
    /^RESULT / {
      fields(); fe = f["fetch"]; impl = f["impl"]
      if (f["label"] == "throughput_yield2") impl = "cppy"
      if (!(fe in seen)) { seen[fe] = 1; order[++n] = fe }
      add(impl SUBSEP fe SUBSEP "rps", f["rps"]); add(impl SUBSEP fe SUBSEP "mbps", f["mbps"])
      add(impl SUBSEP fe SUBSEP "rss", f["peak_rss_mb"]); rows[impl, fe] = f["rows"]
      # CPU per row of the client process, and (ours) the share of the wall time spent waiting
      # in next() for a page to arrive.
      if (f["rows"] > 0) add(impl SUBSEP fe SUBSEP "cpu_ns", f["cpu_s"] * 1e9 / f["rows"])
      if (impl == "cpp" && f["seconds"] > 0) add(impl SUBSEP fe SUBSEP "wait", 100 * f["page_wait_s"] / f["seconds"])
      if (f["pages"] > 0) add(impl SUBSEP fe SUBSEP "page_us", f["seconds"] * 1e6 / f["pages"])
      if (impl == "cppy") have_yield = 1
      # The k-th runs of the clients at one fetch size ran back to back (same round): their
      # ratio is taken per round, and the table shows the median of those ratios.
      k = cnt[impl SUBSEP fe SUBSEP "rps"]; rps[impl, fe, k] = f["rps"]
      if (impl == "cpp" && (("raw", fe, k) in rps) && rps["raw", fe, k] > 0) add("cpp/raw" SUBSEP fe, f["rps"] / rps["raw", fe, k])
      if (impl == "python" && (("cpp", fe, k) in rps) && f["rps"] > 0) add("cpp/python" SUBSEP fe, rps["cpp", fe, k] / f["rps"])
      if (impl == "cppy" && (("raw", fe, k) in rps) && rps["raw", fe, k] > 0) add("cppy/raw" SUBSEP fe, f["rps"] / rps["raw", fe, k])
    }
    function m(impl, fe, what) { return ((impl SUBSEP fe SUBSEP what) in cnt) ? median_of(impl SUBSEP fe SUBSEP what) : "" }
    function num(x, fmt) { return x == "" ? "-" : sprintf(fmt, x) }
    function ratio(key) { return (key in cnt) ? sprintf("%.2f", median_of(key)) : "-" }
    END {
      print "| fetch size | cpp rows/s | cpp MB/s | cpp peak RSS (MB) | raw rows/s | raw MB/s | python rows/s | python peak RSS (MB) | cpp / raw | cpp / python |"
      print "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
      for (k = 1; k <= n; k++) {
        fe = order[k]
        c = m("cpp", fe, "rps"); r = m("raw", fe, "rps"); p = m("python", fe, "rps")
        printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", fe, num(c, "%.0f"), num(m("cpp", fe, "mbps"), "%.0f"),
               num(m("cpp", fe, "rss"), "%.1f"), num(r, "%.0f"), num(m("raw", fe, "mbps"), "%.0f"), num(p, "%.0f"),
               num(m("python", fe, "rss"), "%.1f"), ratio("cpp/raw" SUBSEP fe), ratio("cpp/python" SUBSEP fe)
      }
      print "\nWhere the time goes (medians): wall time per page, client CPU per row (user + system, from getrusage), and the share of our client'"'"'s wall time spent waiting in next() for a page.\n"
      print "| fetch size | cpp us/page | raw us/page | cpp CPU ns/row | raw CPU ns/row | python CPU ns/row | cpp waiting for pages |"
      print "|---:|---:|---:|---:|---:|---:|---:|"
      for (k = 1; k <= n; k++) {
        fe = order[k]
        printf "| %s | %s | %s | %s | %s | %s | %s |\n", fe, num(m("cpp", fe, "page_us"), "%.0f"), num(m("raw", fe, "page_us"), "%.0f"),
               num(m("cpp", fe, "cpu_ns"), "%.0f"), num(m("raw", fe, "cpu_ns"), "%.0f"), num(m("python", fe, "cpu_ns"), "%.0f"),
               num(m("cpp", fe, "wait"), "%.0f%%")
      }
      if (have_yield) {
        print "\nOur client again, letting the event loop run twice at the start of every page (`--yields 2`: two `co_await asio::post`), so that the request for the next page leaves before the page'"'"'s rows are read:\n"
        print "| fetch size | cpp rows/s | cpp, 2 yields/page, rows/s | cpp / raw | cpp, 2 yields/page / raw |"
        print "|---:|---:|---:|---:|---:|"
        for (k = 1; k <= n; k++) {
          fe = order[k]
          printf "| %s | %s | %s | %s | %s |\n", fe, num(m("cpp", fe, "rps"), "%.0f"), num(m("cppy", fe, "rps"), "%.0f"),
                 ratio("cpp/raw" SUBSEP fe), ratio("cppy/raw" SUBSEP fe)
        }
      }
      fe = order[1]
      printf "\nrows per run: cpp %s, raw %s, python %s; every figure is the median of the rounds, ratios the median of the per-round ratios (rows/s).\n", rows["cpp", fe], rows["raw", fe],
             (("python", fe) in rows) ? rows["python", fe] : "-"
    }' "$RAW" >"$RESULTS_DIR/throughput.md"
  PARTS+=(throughput)
fi

# ---------------------------------------------------------------- 2. latency hiding
if [[ "${SKIP_LATENCY:-0}" != 1 ]]; then
  RAW="$RESULTS_DIR/latency.raw"
  : >"$RAW"
  LAT_ROWS=$((LAT_FETCH * LAT_PAGES))
  start_server "$LAT_ROWS" --fault "delay_pages=$LAT_DELAY_MS"
  common=(--port "$PORT" --fetch-size "$LAT_FETCH" --protocol "$PROTOCOL" --rows-expected "$LAT_ROWS")
  log "latency hiding: $LAT_PAGES pages of $LAT_FETCH rows, server delay $LAT_DELAY_MS ms/page, work $LAT_WORK_MS ms/page"
  # The network alone (no work), then the work as a timer await on the client's io_context (the
  # realistic case: the caller awaits I/O of its own), then as busy CPU work on that thread,
  # which only overlaps once the caller lets the event loop run twice before working (--yields 2).
  run_client "$RAW" "$BUILD_DIR/bin/raw_socket_read" --port "$PORT" --fetch-size "$LAT_FETCH" --protocol "$PROTOCOL"
  run_client "$RAW" "$BUILD_DIR/bin/bench_streaming" "${common[@]}" --prefetch 1 --label network_only
  for work in timer busy; do
    for prefetch in 0 1; do
      run_client "$RAW" "$BUILD_DIR/bin/bench_streaming" "${common[@]}" --prefetch "$prefetch" \
        --work-ms "$LAT_WORK_MS" --work "$work" --label "$work"
    done
  done
  for prefetch in 0 1; do
    run_client "$RAW" "$BUILD_DIR/bin/bench_streaming" "${common[@]}" --prefetch "$prefetch" \
      --work-ms "$LAT_WORK_MS" --work busy --yields 2 --label busy_yield2
  done
  stop_server
  awk -v work_ms="$LAT_WORK_MS" '
    /^RESULT / {
      delete f; for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
      if (f["impl"] == "raw") { raw = f["seconds"]; raw_pages = f["pages"]; next }
      if (f["label"] == "network_only") { net = f["seconds"]; pages = f["pages"]; next }
      t[f["label"], f["prefetch"]] = f["seconds"]; labels[f["label"]] = 1; work_pages = f["work_pages"]
    }
    END {
      work = work_pages * work_ms / 1000
      printf "pages: %d (%d with rows, each worked on); network alone: %.3f s with our client (prefetch 1, no work), %.3f s raw; work alone: %d x %g ms = %.3f s\n\n",
             pages, work_pages, net, raw, work_pages, work_ms, work
      print "| caller work per page | prefetch 0 (s) | prefetch 1 (s) | speed-up (p0 / p1) | sum network + work (s) | max(network, work) (s) |"
      print "|---|---:|---:|---:|---:|---:|"
      split("timer busy busy_yield2", order, " ")
      name["timer"] = "timer await on the same io_context"
      name["busy"] = "busy CPU loop on the client thread"
      name["busy_yield2"] = "busy CPU loop after 2 event-loop passes (`co_await post` x2)"
      for (k = 1; k <= 3; k++) {
        l = order[k]
        if (!(l in labels)) continue
        printf "| %s | %.3f | %.3f | %.2fx | %.3f | %.3f |\n", name[l], t[l, 0], t[l, 1], t[l, 0] / t[l, 1], net + work,
               (net > work ? net : work)
      }
    }' "$RAW" >"$RESULTS_DIR/latency.md"
  PARTS+=(latency)
fi

# ---------------------------------------------------------------- 3. memory
if [[ "${SKIP_MEMORY:-0}" != 1 ]]; then
  RAW="$RESULTS_DIR/memory.raw"
  : >"$RAW"
  # A server per size, so that each stream runs to the table's end (values are computed on the
  # fly: a server of 100M rows costs no more memory than one of 1M).
  for rows in "$MEM_SMALL" "$MEM_LARGE"; do
    start_server "$rows"
    run_client "$RAW" "$BUILD_DIR/bin/bench_streaming" --port "$PORT" --fetch-size "$MEM_FETCH" --prefetch 1 \
      --protocol "$PROTOCOL" --rows-expected "$rows" --label memory
  done
  stop_server
  awk '
    /^RESULT / {
      delete f; for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
      r[++n] = sprintf("| %d | %d | %.2f | %.0f | %.1f | %d |", f["rows"], f["pages"], f["seconds"], f["rps"],
                       f["peak_rss_mb"], f["mismatches"])
      rss[n] = f["peak_rss_mb"]
    }
    END {
      print "| rows streamed | pages | seconds | rows/s | peak RSS of the client (MB, VmHWM) | mismatches |"
      print "|---:|---:|---:|---:|---:|---:|"
      for (i = 1; i <= n; i++) print r[i]
      if (n >= 2) printf "\npeak RSS difference (last - first): %+.1f MB\n", rss[n] - rss[1]
    }' "$RAW" >"$RESULTS_DIR/memory.md"
  PARTS+=(memory)
fi

[[ -s "$RESULTS_DIR/clients.err" ]] && sort -u "$RESULTS_DIR/clients.err" >&2

log "results ($RESULTS_DIR)"
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); nproc: $(nproc); load average: $(cut -d' ' -f1-3 /proc/loadavg); cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  echo "ROWS=$ROWS FETCH_SIZES=$FETCH_SIZES PY_ROWS=$PY_ROWS PREFETCH=$PREFETCH PROTOCOL=$PROTOCOL ROUNDS=$ROUNDS"
  for part in "${PARTS[@]}"; do
    echo
    echo "### $part"
    echo
    cat "$RESULTS_DIR/$part.md"
  done
} | tee "$RESULTS_DIR/summary.md"
