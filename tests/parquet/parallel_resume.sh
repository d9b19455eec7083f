#!/usr/bin/env bash
# Resumable parallel export: `acass export --splits 8 --resume-file F` interrupted by SIGINT at
# random moments and by kill -9, then run again until it completes, gives exactly the rows of one
# uninterrupted export (no loss, no duplicate) for CSV, JSON lines and Parquet. Then a node of the
# 3-node server is stopped in the middle of an export: the export finishes (or, if a range fails
# beyond its retries, the rerun completes it) with the same rows.
#   parallel_resume.sh ACASS_SERVER ACASS NODE
server="$1" acass="$2" node="$3"
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../cli/lib.sh"
# 50,000 rows in pages of 250: the same 200 pages (the same interruption points and page
# boundaries) as 200,000 rows in pages of 1,000, at a quarter of the rows to export and compare.
rows=50000
fetch=250

# A server whose nodes can be stopped: commands on its standard input (a FIFO kept open here).
mkfifo "$work/control"
exec 3<>"$work/control"
# Range pages are slowed a little (10 ms) so that a run lasts long enough to be interrupted.
"$server" --port 0 --nodes 3 --synthetic "$rows" --fault 'delay=10,pattern=token(' --control-stdin <&3 >"$work/server.log" 2>&1 &
server_pid=$!
started_pids+=("$server_pid")
for _ in $(seq 1 300); do
  port="$(sed -n 's/^acass-server listening on [^ ]*:\([0-9][0-9]*\) .*/\1/p' "$work/server.log")"
  [[ -n "$port" ]] && break
  sleep 0.1
done
[[ -n "$port" ]] || { cat "$work/server.log" >&2; fail "acass-server did not start"; }

"$acass" export --port "$port" --table synthetic.rows --out "$work/reference.jsonl" -q
sort "$work/reference.jsonl" >"$work/reference.sorted"

# Runs the export until it exits 0, interrupting each run after a random delay (SIGINT, or
# kill -9 on odd attempts). Slowed range pages (server fault delay) leave time to interrupt.
interrupted_export() {
  local out="$1" resume="$2"
  shift 2
  local attempt status delay signal
  # First a deterministic stop (the testing hook), then real signals at random moments.
  status=0
  "$acass" export --port "$port" --table synthetic.rows --out "$out" --resume-file "$resume" \
    --splits 8 --concurrency 3 --fetch-size $fetch -q --stop-after-pages 7 "$@" || status=$?
  [[ "$status" == 130 ]] || fail "--stop-after-pages: exit $status"
  interruptions=1
  for attempt in $(seq 1 12); do  # bounded: a slow machine would otherwise interrupt every run
    "$acass" export --port "$port" --table synthetic.rows --out "$out" --resume-file "$resume" \
      --splits 8 --concurrency 3 --fetch-size $fetch --fsync-interval 0.5 -q "$@" &
    local pid=$!
    delay="0.$(( RANDOM % 6 + 2 ))"
    signal=INT
    (( attempt % 2 == 1 )) && signal=KILL  # kill -9 first, then alternate
    sleep "$delay"
    kill -s "$signal" "$pid" 2>/dev/null || true
    status=0
    wait "$pid" || status=$?
    case "$status" in
      0) echo "$out: complete after $attempt runs"; return 0 ;;
      130 | 137) interruptions=$((interruptions + 1)) ;;
      *) fail "export exited $status (attempt $attempt)" ;;
    esac
  done
  # Finish without interrupting (the machine may be slow).
  "$acass" export --port "$port" --table synthetic.rows --out "$out" --resume-file "$resume" \
    --splits 8 --concurrency 3 --fetch-size $fetch -q "$@"
}

for format in csv jsonl parquet; do
  interruptions=0
  out="$work/out.$format"
  interrupted_export "$out" "$work/resume.$format" --format "$format"
  grep -q '^range ' "$work/resume.$format" || fail "$format: the resume file has no ranges"
  case "$format" in
    csv)
      [[ "$(grep -c '' "$out")" == $((rows + 1)) ]] || fail "csv: $(grep -c '' "$out") lines, expected $((rows + 1))"
      # Compare with the reference through a CSV export that was not interrupted.
      "$acass" export --port "$port" --table synthetic.rows --out "$work/plain.csv" -q
      [[ "$(head -1 "$out")" == "$(head -1 "$work/plain.csv")" ]] || fail "csv: header differs"
      cmp <(tail -n +2 "$out" | sort) <(tail -n +2 "$work/plain.csv" | sort) || fail "csv: rows differ after resumes"
      ;;
    jsonl)
      cmp <(sort "$out") "$work/reference.sorted" || fail "jsonl: rows differ after resumes"
      ;;
    parquet)
      "$node" "$here/check.mjs" "$out" "$work/reference.jsonl" || fail "parquet: rows differ after resumes"
      # A run killed after its last manifest save (every range done) but before the footer was
      # whole: the output ends at the recorded size plus part of a footer. The rerun must finish
      # the file, not just say "complete" and leave it unreadable.
      recorded="$(sed -n 's/^bytes //p' "$work/resume.$format")"
      truncate -s "$((recorded + 5))" "$out"
      "$acass" export --port "$port" --table synthetic.rows --out "$out" --resume-file "$work/resume.$format" \
        --splits 8 --concurrency 3 --fetch-size $fetch -q --format parquet 2>"$work/complete.log" ||
        fail "parquet: the rerun of a complete export failed"
      grep -q "says this export is complete" "$work/complete.log" || fail "parquet: no 'complete' message"
      "$node" "$here/check.mjs" "$out" "$work/reference.jsonl" || fail "parquet: footer not rewritten after a crash"
      # The same window of a single-stream export (its own resume file format).
      "$acass" export --port "$port" --query "SELECT pk, ck FROM synthetic.rows WHERE pk = 1" \
        --out "$work/one.jsonl" -q
      "$acass" export --port "$port" --query "SELECT pk, ck FROM synthetic.rows WHERE pk = 1" \
        --out "$work/one.parquet" --resume-file "$work/one.resume" -q
      recorded="$(sed -n 's/^bytes //p' "$work/one.resume")"
      truncate -s "$((recorded + 2))" "$work/one.parquet"
      "$acass" export --port "$port" --query "SELECT pk, ck FROM synthetic.rows WHERE pk = 1" \
        --out "$work/one.parquet" --resume-file "$work/one.resume" -q 2>/dev/null || fail "single stream: rerun failed"
      "$node" "$here/check.mjs" "$work/one.parquet" "$work/one.jsonl" || fail "single stream: footer not rewritten"
      ;;
  esac
  echo "$format: $interruptions interruptions, same rows as one export"
done

# A node stopped in the middle of an export.
rm -f "$work/node.resume" "$work/node.jsonl"
"$acass" export --port "$port" --table synthetic.rows --out "$work/node.jsonl" --resume-file "$work/node.resume" \
  --format jsonl --splits 8 --concurrency 3 --fetch-size $((fetch / 2)) -q &
pid=$!
sleep 0.5
echo "stop 2" >&3
status=0
wait "$pid" || status=$?
if [[ "$status" != 0 ]]; then
  echo "export failed with exit $status after the node stopped; continuing it"
  "$acass" export --port "$port" --table synthetic.rows --out "$work/node.jsonl" --resume-file "$work/node.resume" \
    --format jsonl --splits 8 --concurrency 3 --fetch-size $((fetch / 2)) -q
fi
cmp <(sort "$work/node.jsonl") "$work/reference.sorted" || fail "node loss: rows differ"
echo "quit" >&3
echo "parallel resume OK"
