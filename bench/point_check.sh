#!/usr/bin/env bash
# A quick, fair A/B check of point-query throughput: our client (bench_point_queries) against gocql
# (gocql_bench), interleaved round by round against the same node, with the ratio of each round
# and the median / min / max of those paired ratios. One slow round of either client moves the
# min or the max, not the median. Use it to judge a client or node change before the full suite.
#
#   bench/point_check.sh [--rounds 5] [--requests 100000 | --seconds 2] [--conc 64,1024]
#                        [--ours BIN] [--ours2 BIN] [--server BIN] [--server2 BIN]
#                        [--gocql both|off|default|none]
#
#   --rounds N       rounds (default 5); every round runs every client at every level once, the
#                    order of the clients reversed every other round (ABBA...), so a drift in the
#                    background load does not favour the client that always runs first
#   --requests N     requests per measurement (default 100000: ~1-2 s each at 64 and 1,024)
#   --seconds S      instead, about S seconds per measurement: a 20,000-request pilot of each client
#                    at each level sets its request count (rate x S)
#   --conc LIST      concurrency levels (default 64,1024), each measured by its own process
#   --ours BIN       our bench_point_queries (default: $BUILD_DIR/bin/bench_point_queries)
#   --ours2 BIN      a second bench_point_queries (e.g. main's build, for before/after): adds
#                    ours2/gocql and ours2/ours
#   --server BIN     the node (default: $BUILD_DIR/bin/acass-server)
#   --server2 BIN    a second node binary: every client runs against both, adds X@node2/X@node
#   --gocql WHICH    gocql's write coalescing: "off" (WriteCoalesceWaitTime 0, its fastest at
#                    concurrency 1), "default" (its 200 us, its fastest at 64 and 1,024 here),
#                    "both" (the default: adds ours/fastest-gocql, the faster of the two in each
#                    round), "none" (our before/after only; --no-gocql is the same)
#   --ours-args "A"  our client's configuration (default "--config default", the issue's target)
#   --gocql-args "A" gocql's other settings (default "-config default -release": NewCluster's
#                    2 connections, queries released to gocql's pool as its docs show; see
#                    docs/benchmarks.md, "gocql's fastest point-query setting")
#   --rows N         rows of the node's synthetic table (default 1000000)
#   --warmup N       warm-up requests of each process at concurrency 64, not measured (default 2000)
#   --raw FILE       keep the RESULT lines there (default: a temporary file)
#
# "client busy" is the client's CPU time over its measured time (1.00: CPU 1 was the limit);
# "node busy" the node's CPU time over the client process's life (1.00: CPU 0 was the limit).
# The node runs on CPU 0 (taskset -c 0), every client on CPU 1 (taskset -c 1). gocql_bench is
# built (GOPATH mode against Debian's gocql) into $BUILD_DIR/bin when missing or older than its
# source. BUILD_DIR defaults to build/. The load average is printed before every round: on a
# shared 2-core machine the ratios of rounds with a similar load are the ones to compare.
#
# Example, a client change against main's build (before/after and both against gocql):
#   bench/point_check.sh --ours2 /work/main/build/bin/bench_point_queries --seconds 2 --rounds 6
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
source "$ROOT/scripts/lib/server.sh"

ROUNDS=5 REQUESTS=100000 SECONDS_EACH="" CONC=64,1024 ROWS=1000000 WARMUP=2000 RAW=""
OURS="$BUILD_DIR/bin/bench_point_queries" OURS2="" SERVER="$BUILD_DIR/bin/acass-server" SERVER2=""
GOCQL="$BUILD_DIR/bin/gocql_bench" GOCQL_WHICH=both
OURS_ARGS="--config default" GOCQL_ARGS="-config default -release"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
  case "$1" in
    --rounds) ROUNDS="$2"; shift ;;
    --requests) REQUESTS="$2"; shift ;;
    --seconds) SECONDS_EACH="$2"; shift ;;
    --conc) CONC="$2"; shift ;;
    --ours) OURS="$2"; shift ;;
    --ours2) OURS2="$2"; shift ;;
    --server) SERVER="$2"; shift ;;
    --server2) SERVER2="$2"; shift ;;
    --gocql) GOCQL_WHICH="$2"; shift ;;
    --no-gocql) GOCQL_WHICH=none ;;
    --ours-args) OURS_ARGS="$2"; shift ;;
    --gocql-args) GOCQL_ARGS="$2"; shift ;;
    --rows) ROWS="$2"; shift ;;
    --warmup) WARMUP="$2"; shift ;;
    --raw) RAW="$2"; shift ;;
    -h|--help) usage ;;
    *) echo "point_check.sh: unknown option $1" >&2; usage ;;
  esac
  shift
done
for bin in "$OURS" "$SERVER" ${OURS2:+"$OURS2"} ${SERVER2:+"$SERVER2"}; do
  [[ -x "$bin" ]] || { echo "point_check.sh: $bin is not an executable (build it first)" >&2; exit 2; }
done

case "$GOCQL_WHICH" in both|off|default|none) ;; *) echo "point_check.sh: --gocql both|off|default|none" >&2; exit 2 ;; esac
if [[ "$GOCQL_WHICH" != none ]]; then
  src="$ROOT/bench/go/gocql_bench.go"
  if [[ ! -x "$GOCQL" || "$src" -nt "$GOCQL" ]]; then
    echo "building $GOCQL (GOPATH mode, Debian's gocql)" >&2
    (cd "$ROOT/bench/go" && GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$BUILD_DIR/go-cache" \
      go build -o "$GOCQL" gocql_bench.go)
  fi
fi

PIN_NODE=() PIN_CLIENT=()
if (($(nproc) >= 2)) && command -v taskset >/dev/null; then PIN_NODE=(taskset -c 0) PIN_CLIENT=(taskset -c 1); fi

WORK="$(mktemp -d /tmp/point_check.XXXXXX)"
[[ -n "$RAW" ]] || RAW="$WORK/results.raw"
: >"$RAW"
NODE_PIDS=()
cleanup() {
  local pid
  for pid in "${NODE_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The nodes: started once, both kept running (an idle node costs nothing), each pinned to CPU 0.
declare -A PORT NODE_PID
start_node() {  # start_node NAME BINARY
  start_acass_server "$2" "$WORK/$1.log" --synthetic "$ROWS"
  NODE_PIDS+=("$ACASS_SERVER_PID")
  NODE_PID[$1]="$ACASS_SERVER_PID"
  ((${#PIN_NODE[@]})) && taskset -apc 0 "$ACASS_SERVER_PID" >/dev/null
  PORT[$1]="$ACASS_PORT"
  ACASS_SERVER_PID=""  # stopped by cleanup, not by server.sh's stop_acass_server
}
start_node node "$SERVER"
NODES=(node)
[[ -n "$SERVER2" ]] && { start_node node2 "$SERVER2"; NODES+=(node2); }

CLIENTS=()
[[ "$GOCQL_WHICH" == off || "$GOCQL_WHICH" == both ]] && CLIENTS+=(gocql_off)
[[ "$GOCQL_WHICH" == default || "$GOCQL_WHICH" == both ]] && CLIENTS+=(gocql_default)
CLIENTS+=(ours)
[[ -n "$OURS2" ]] && CLIENTS+=(ours2)

# measure CLIENT NODE CONC REQUESTS: one process, one level; prints its RESULT line.
measure() {
  local client="$1" node="$2" conc="$3" n="$4" cmd
  case "$client" in
    gocql_off|gocql_default)
      local coalesce=0
      [[ "$client" == gocql_default ]] && coalesce=200us
      cmd=("$GOCQL" -port "${PORT[$node]}" -rows "$ROWS" -mode select -conc "$conc" -requests "$n" -warmup "$WARMUP" -coalesce "$coalesce" $GOCQL_ARGS) ;;
    ours) cmd=("$OURS" --port "${PORT[$node]}" --rows "$ROWS" --op select --concurrency "$conc" --requests "$n" --warmup "$WARMUP" $OURS_ARGS) ;;
    ours2) cmd=("$OURS2" --port "${PORT[$node]}" --rows "$ROWS" --op select --concurrency "$conc" --requests "$n" --warmup "$WARMUP" $OURS_ARGS) ;;
  esac
  local out t0 t1 n0 n1
  # The node's CPU time over the client's whole process (connection and warm-up included): the
  # share of CPU 0 it used, to see which side is the bottleneck.
  n0="$(node_ticks "$node")" t0="$(date +%s.%N)"
  if ! out="$(timeout 600 "${PIN_CLIENT[@]}" "${cmd[@]}" 2>"$WORK/client.err")"; then
    echo "point_check.sh: FAILED: ${cmd[*]}" >&2
    cat "$WORK/client.err" >&2
    exit 1
  fi
  n1="$(node_ticks "$node")" t1="$(date +%s.%N)"
  local line
  line="$(grep -m1 '^RESULT ' <<<"$out")" || { echo "point_check.sh: no RESULT line from ${cmd[*]}" >&2; exit 1; }
  awk -v l="$line" -v n="$((n1 - n0))" -v hz="$(getconf CLK_TCK)" -v w="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
    'BEGIN { printf "%s node_busy=%.2f\n", l, n / hz / w }'
}
node_ticks() { awk '{ print $14 + $15 }' "/proc/${NODE_PID[$1]}/stat"; }

# --seconds: a pilot of each client at each level sets its request count.
declare -A COUNT
IFS=, read -r -a LEVELS <<<"$CONC"
for node in "${NODES[@]}"; do
  for client in "${CLIENTS[@]}"; do
    for c in "${LEVELS[@]}"; do
      COUNT[$client,$node,$c]="$REQUESTS"
      if [[ -n "$SECONDS_EACH" ]]; then
        rps="$(measure "$client" "$node" "$c" 20000 | sed -n 's/.* rps=\([0-9.]*\).*/\1/p')"
        COUNT[$client,$node,$c]="$(awk -v r="$rps" -v s="$SECONDS_EACH" 'BEGIN { n = int(r * s); print (n < 20000 ? 20000 : n) }')"
      fi
    done
  done
done

echo "point check: ${CLIENTS[*]} against ${NODES[*]}, concurrency $CONC, $ROUNDS rounds"
echo "  ours:  $OURS $OURS_ARGS"
[[ -n "$OURS2" ]] && echo "  ours2: $OURS2 $OURS_ARGS"
[[ "$GOCQL_WHICH" != none ]] && echo "  gocql: $GOCQL $GOCQL_ARGS, -coalesce 0 (gocql_off) / 200us (gocql_default)"
echo "  node:  $SERVER --synthetic $ROWS${SERVER2:+; node2: $SERVER2}"
echo "  pinned: ${PIN_NODE[*]:-no} (node), ${PIN_CLIENT[*]:-no} (clients)"
for key in "${!COUNT[@]}"; do echo "$key ${COUNT[$key]}"; done | sort | awk '{ printf "  requests per measurement %s: %s\n", $1, $2 }'
echo "uptime at start: $(uptime)"

for round in $(seq 1 "$ROUNDS"); do
  order=("${CLIENTS[@]}")
  if ((round % 2 == 0)); then  # ABBA: reverse the order every other round
    order=()
    for ((i = ${#CLIENTS[@]} - 1; i >= 0; i--)); do order+=("${CLIENTS[$i]}"); done
  fi
  echo "round $round/$ROUNDS (load average $(cut -d' ' -f1-3 /proc/loadavg)), order: ${order[*]}"
  for c in "${LEVELS[@]}"; do
    for node in "${NODES[@]}"; do
      for client in "${order[@]}"; do
        line="$(measure "$client" "$node" "$c" "${COUNT[$client,$node,$c]}")"
        echo "RESULT round=$round client=$client node=$node ${line#RESULT }" >>"$RAW"
      done
    done
  done
  /usr/bin/python3 "$ROOT/bench/paired_ratios.py" "$RAW" --round "$round"
done
echo "uptime at end: $(uptime)"
echo "summary (median of the rounds; ratios: median of the per-round paired ratios):"
/usr/bin/python3 "$ROOT/bench/paired_ratios.py" "$RAW" --summary
