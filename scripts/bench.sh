#!/usr/bin/env bash
# Builds (RelWithDebInfo, in build/) and runs the benchmarks:
#   1. bench_rows_decode   - Google Benchmark, decoding a 5,000-row page (no I/O);
#   2. bench_point_queries - single-row prepared SELECTs by key against one acass-server,
#      concurrency 1, 64 and 1024, and in the same run the DataStax Python driver doing the same
#      (bench/python/point_queries.py), so that the ratio is taken under the same machine load.
# Results go to $RESULTS_DIR (default build/bench-results) and are printed at the end.
# The streaming benchmarks (throughput vs raw socket and Python driver, latency hiding, memory)
# are a separate script: scripts/bench_streaming.sh (docs/benchmarks.md).
#
# Knobs (environment): ROWS (synthetic table size, default 1000000), REQUESTS (per level, default
# 20000), REQUESTS_C1 (at concurrency 1, default 5000), CONCURRENCY (default 1,64,1024), WARMUP
# (default 2000), PROTOCOL (native protocol version both clients use: 5 (default), 4, or "auto" to
# let each negotiate), ROUNDS (default 3: every level is run ROUNDS times and the table shows
# the median of each figure), CLIENT_TIMEOUT (seconds per client run, default 900: a hung client
# fails the script instead of stalling CI), SKIP_BUILD=1 (use the existing build), SKIP_PYTHON=1.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

ROWS="${ROWS:-1000000}"
REQUESTS="${REQUESTS:-20000}"
REQUESTS_C1="${REQUESTS_C1:-5000}"
CONCURRENCY="${CONCURRENCY:-1,64,1024}"
WARMUP="${WARMUP:-2000}"
PROTOCOL="${PROTOCOL:-5}"
ROUNDS="${ROUNDS:-3}"
CLIENT_TIMEOUT="${CLIENT_TIMEOUT:-900}"
RESULTS_DIR="${RESULTS_DIR:-$BUILD_DIR/bench-results}"
# Debian's python3-cassandra only imports under the system interpreter, whatever is on PATH.
PYTHON=/usr/bin/python3

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  install_packages
  configure_and_build "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
mkdir -p "$RESULTS_DIR"

source "$ROOT/scripts/lib/server.sh"
stop_server() { stop_acass_server; }
trap stop_server EXIT

log "bench_rows_decode"
"$BUILD_DIR/bin/bench_rows_decode" --benchmark_format=console | tee "$RESULTS_DIR/rows_decode.txt"

if [[ ! -x "$BUILD_DIR/bin/bench_point_queries" ]]; then
  # Only built when the client library (src/net, src/session, src/cluster) exists.
  log "bench_point_queries was not built (no client library?): stopping here"
  exit 1
fi

log "starting acass-server --synthetic $ROWS"
start_acass_server "$BUILD_DIR/bin/acass-server" "$RESULTS_DIR/server.log" --synthetic "$ROWS"
PORT="$ACASS_PORT"
log "acass-server on port $PORT"

common_args=(--port "$PORT" --rows "$ROWS" --requests "$REQUESTS" --requests-c1 "$REQUESTS_C1"
             --warmup "$WARMUP")
# Forced by default so that both columns of the table are known to use the same version (the
# C++ API does not report the negotiated one).
if [[ "$PROTOCOL" != auto ]]; then common_args+=(--protocol "$PROTOCOL"); fi
RAW="$RESULTS_DIR/point_queries.raw"
: >"$RAW"
: >"$RESULTS_DIR/python.err"
have_python=0
if [[ "${SKIP_PYTHON:-0}" != 1 ]] && "$PYTHON" -c 'import cassandra' 2>/dev/null; then
  have_python=1
else
  log "skipping the Python driver (SKIP_PYTHON=1 or python3-cassandra not importable by $PYTHON)"
fi
# Levels are interleaved (cpp, python, next level...) rather than one client after the other,
# so that both clients of a row of the table see the same background load on a shared machine.
IFS=, read -r -a levels <<<"$CONCURRENCY"
for round in $(seq 1 "$ROUNDS"); do
for c in "${levels[@]}"; do
  log "round $round/$ROUNDS, concurrency $c: bench_point_queries (async-cassandra-cpp)"
  timeout "$CLIENT_TIMEOUT" "$BUILD_DIR/bin/bench_point_queries" "${common_args[@]}" --concurrency "$c" | tee -a "$RAW"
  if ((have_python)); then
    log "round $round/$ROUNDS, concurrency $c: point_queries.py (DataStax Python driver, execute_async)"
    timeout "$CLIENT_TIMEOUT" "$PYTHON" "$ROOT/bench/python/point_queries.py" "${common_args[@]}" --concurrency "$c" \
      2>>"$RESULTS_DIR/python.err" | tee -a "$RAW"
  fi
done
done
[[ -s "$RESULTS_DIR/python.err" ]] && sort -u "$RESULTS_DIR/python.err" >&2
stop_server

# One markdown row per concurrency: both clients side by side, each figure the median over the
# rounds (a shared machine makes single runs noisy), ratio = median cpp req/s / median python req/s.
TABLE="$RESULTS_DIR/point_queries.md"
awk '
  function median(key,    m, i, j, t, a) {
    m = cnt[key]
    for (i = 1; i <= m; i++) a[i] = val[key, i] + 0
    for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
  }
  function add(key, v) { val[key, ++cnt[key]] = v }
  /^RESULT / {
    delete f
    for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    c = f["conc"]; impl = f["impl"]
    if (!(c in seen)) { seen[c] = 1; order[++n] = c }
    add(impl SUBSEP c SUBSEP "rps", f["rps"]); add(impl SUBSEP c SUBSEP "p50", f["p50_us"])
    add(impl SUBSEP c SUBSEP "p99", f["p99_us"])
    err[impl, c] += f["errors"]; req[impl, c] = f["requests"]; proto[impl] = f["protocol"]; rounds[impl, c]++
  }
  function has(impl, c) { return (impl SUBSEP c SUBSEP "rps") in cnt }
  function cell(impl, c) {
    if (!has(impl, c)) return "- | - | -"
    return sprintf("%.0f | %.0f | %.0f", median(impl SUBSEP c SUBSEP "rps"), median(impl SUBSEP c SUBSEP "p50"),
                   median(impl SUBSEP c SUBSEP "p99"))
  }
  END {
    printf "| concurrency | requests x rounds | cpp req/s | cpp p50 (us) | cpp p99 (us) | python req/s | python p50 (us) | python p99 (us) | req/s ratio cpp/python |\n"
    printf "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    for (k = 1; k <= n; k++) {
      c = order[k]
      ratio = "-"
      if (has("cpp", c) && has("python", c) && median("python" SUBSEP c SUBSEP "rps") > 0)
        ratio = sprintf("%.1fx", median("cpp" SUBSEP c SUBSEP "rps") / median("python" SUBSEP c SUBSEP "rps"))
      printf "| %s | %s x %s | %s | %s | %s |\n", c, req["cpp", c], rounds["cpp", c], cell("cpp", c), cell("python", c), ratio
    }
    printf "\nprotocol: cpp=%s, python=%s. errors (all rounds): ", proto["cpp"], proto["python"]
    for (k = 1; k <= n; k++) printf "C=%s cpp=%d python=%d; ", order[k], err["cpp", order[k]], err["python", order[k]]
    printf "\n"
  }' "$RAW" >"$TABLE"

log "results ($RESULTS_DIR)"
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); nproc: $(nproc); cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  echo "rows=$ROWS requests=$REQUESTS requests_c1=$REQUESTS_C1 warmup=$WARMUP protocol=$PROTOCOL"
  echo
  cat "$TABLE"
} | tee "$RESULTS_DIR/summary.md"
