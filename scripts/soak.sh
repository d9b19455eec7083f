#!/usr/bin/env bash
# Soak test (issue 17): a mixed workload (streams, a parallel scan, point reads, inserts, and
# `acass export` runs) against a 3-node acass-server while faults rotate on it (a node stopped and
# restarted, dropped connections, Overloaded answers). The client (build/bin/acass_soak_driver)
# samples its RSS, open sockets, stream ids in flight, connections and throughput every second
# into a CSV; gnuplot draws them as PNG plots.
#
#   scripts/soak.sh [--minutes N | --seconds N] [--out DIR] [--check] [--no-build]
#
#   --minutes/--seconds  how long (default 30 minutes)
#   --out DIR            where soak.csv, summary.txt, exports.log, phases.log, the server log and
#                        the plots soak_memory.png / soak_resources.png / soak_throughput.png go
#                        (default build/soak)
#   --check              exit 1 unless: RSS after warm-up grew by at most SOAK_MAX_RSS_GROWTH_MB
#                        (default 8), no stream id in flight and no socket open at the end, no row
#                        lost, duplicated or wrong, no error but the typed ones the faults cause,
#                        and every `acass export` exited 0 with every row exactly once
#                        (scripts/test.sh runs `--seconds 60 --check`)
#   --no-build           use the binaries already in $BUILD_DIR
#
# Fault phases (PHASE_SECONDS each, default 10; the last 12 s are fault-free so the end state can
# be checked): quiet, stop node 2, dropped connections, Overloaded, stop node 1 (the contact
# point of the control connection), stop node 3; then again from the start.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$ROOT/scripts/lib/server.sh"

seconds=1800
out="$BUILD_DIR/soak"
check=0
build=1
while (($#)); do
  case "$1" in
    --minutes) seconds=$(($2 * 60)); shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --check) check=1; shift ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "soak.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
((seconds >= 30)) || { echo "soak.sh: at least 30 seconds" >&2; exit 2; }
PHASE_SECONDS="${PHASE_SECONDS:-10}"
ROWS="${SOAK_ROWS:-20000}"

install_packages
if ((build)); then
  if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  cmake --build "$BUILD_DIR" -j "$JOBS" --target acass-server acass acass_soak_driver
fi
BIN="$BUILD_DIR/bin"
mkdir -p "$out"
rm -f "$out"/soak.csv "$out"/summary.txt "$out"/exports.log "$out"/phases.log "$out"/soak_*.png

control="$out/control.fifo"
rm -f "$control"
mkfifo "$control"
exec 3<>"$control"  # held open for writing, so the server's read end never sees end-of-file
export_pid=""
cleanup() {
  [[ -n "$export_pid" ]] && kill "$export_pid" 2>/dev/null
  stop_acass_server
  exec 3>&-
  rm -f "$control"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ACASS_SERVER_STDIN="$control" start_acass_server "$BIN/acass-server" "$out/server.log" \
  --nodes 3 --synthetic "$ROWS" --control-stdin
log "acass-server: 3 nodes on port $ACASS_PORT, $ROWS synthetic rows; soak for $seconds s into $out"
send() { echo "$*" >&3; }

phase_file="$out/phase"
echo quiet >"$phase_file"
: >"$out/phases.log"
set_phase() {  # set_phase NAME COMMANDS...: the fault phase the driver's samples are tagged with
  local name="$1"; shift
  local cmd
  send clear-faults
  for n in 1 2 3; do send "restart $n"; done  # (a no-op for a running node)
  for cmd in "$@"; do send "$cmd"; done
  echo "$name" >"$phase_file"
  echo "$(($(date +%s) - t0)) $name" >>"$out/phases.log"
}

# `acass export` of the whole synthetic table every 15 s, through whatever fault is on.
export_loop() {
  local i=0 status rows unique
  while :; do
    sleep 15
    i=$((i + 1))
    status=0
    "$BIN/acass" export --table synthetic.rows -o "$out/export.csv" --host 127.0.0.1 --host 127.0.0.2 \
      --host 127.0.0.3 --port "$ACASS_PORT" --fetch-size 1000 --timeout 2 -q 2>"$out/export.err" || status=$?
    rows=$(($(wc -l <"$out/export.csv") - 1))
    unique=$(($(sort -u "$out/export.csv" | wc -l) - 1))
    echo "export $i at $(($(date +%s) - t0)) s: exit=$status rows=$rows unique=$unique phase=$(cat "$phase_file") $(head -c 300 "$out/export.err" | tr '\n' ' ')" >>"$out/exports.log"
  done
}

t0=$(date +%s)
export_loop &
export_pid=$!

allowed=(Overloaded ConnectionClosed NoHostAvailable Timeout StreamTimeout
         "StreamError(Overloaded)" "StreamError(ConnectionClosed)" "StreamError(NoHostAvailable)"
         "StreamError(Timeout)")
driver_args=(--port "$ACASS_PORT" --host 127.0.0.1 --host 127.0.0.2 --host 127.0.0.3 --seconds "$seconds"
             --rows "$ROWS" --csv "$out/soak.csv" --phase-file "$phase_file"
             --max-rss-growth-mb "${SOAK_MAX_RSS_GROWTH_MB:-8}")
((check)) && driver_args+=(--check)
for e in "${allowed[@]}"; do driver_args+=(--allow-error "$e"); done
driver_status=0
"$BIN/acass_soak_driver" "${driver_args[@]}" >"$out/summary.txt" 2>&1 &
driver_pid=$!

phases=("quiet" "stop node 2" "drops" "overloaded" "stop node 1" "stop node 3")
phase_cmds=("" "stop 2" "fault drop_mid_frame,fraction=0.002" "fault error=overloaded,fraction=0.02" "stop 1" "stop 3")
p=0
while (($(date +%s) - t0 < seconds - 12 - PHASE_SECONDS)); do
  i=$((p % ${#phases[@]}))
  if [[ -n "${phase_cmds[$i]}" ]]; then set_phase "${phases[$i]}" "${phase_cmds[$i]}"; else set_phase "${phases[$i]}"; fi
  sleep "$PHASE_SECONDS"
  p=$((p + 1))
done
set_phase "quiet (end)"
wait "$driver_pid" || driver_status=$?
kill "$export_pid" 2>/dev/null; wait "$export_pid" 2>/dev/null || true
export_pid=""
cat "$out/summary.txt"

# Exports: every one complete (exit 0, every row exactly once).
export_failures=0
if [[ -s "$out/exports.log" ]]; then
  cat "$out/exports.log"
  export_failures=$(grep -cv "exit=0 rows=$ROWS unique=$ROWS " "$out/exports.log" || true)
fi
echo "soak: exports=$(wc -l <"$out/exports.log") failed=$export_failures" | tee -a "$out/summary.txt"

# Plots.
gnuplot <<EOF
set datafile separator ','
set terminal pngcairo size 900,380 font ',10'
set key outside right top
set xlabel 'seconds'
set grid
set output '$out/soak_memory.png'
set title 'client RSS (MB), $seconds s soak with rotating faults'
set ylabel 'MB'
set yrange [0:*]
plot '$out/soak.csv' every ::1 using 1:(\$2/1024) with lines lw 2 title 'RSS'
set output '$out/soak_resources.png'
set title 'open sockets, connections and stream ids in flight'
set ylabel 'count'
plot '$out/soak.csv' every ::1 using 1:3 with lines lw 2 title 'sockets', \
     '' every ::1 using 1:5 with lines lw 2 title 'pooled connections', \
     '' every ::1 using 1:4 with lines title 'stream ids in flight'
set output '$out/soak_throughput.png'
set title 'throughput per second and cumulative errors'
set ylabel 'per second'
set y2label 'errors (cumulative)'
set y2tics
plot '$out/soak.csv' every ::1 using 1:6 with lines title 'point reads/s', \
     '' every ::1 using 1:7 with lines title 'inserts/s', \
     '' every ::1 using 1:(\$8/100) with lines title 'streamed rows/s / 100', \
     '' every ::1 using 1:9 axes x1y2 with lines lw 2 title 'errors'
EOF
log "plots: $out/soak_memory.png $out/soak_resources.png $out/soak_throughput.png"

if ((check)); then
  ((driver_status == 0 && export_failures == 0)) || { log "soak check FAILED (see $out/summary.txt)"; exit 1; }
  log "soak check passed"
fi
exit "$driver_status"
