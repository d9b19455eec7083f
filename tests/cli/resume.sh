#!/usr/bin/env bash
# Interrupted-then-resumed exports must equal one uninterrupted export byte for byte:
#  1. the --stop-after-pages testing hook (deterministic), resumed with another fetch size;
#  2. a real SIGINT mid-way (pages slowed down by the server's delay_pages fault), resumed;
#  3. a page written but not recorded (the process died between the two) is cut off on resume.
#   resume.sh ACASS_SERVER ACASS
server="$1" acass="$2"
source "$(dirname "$0")/lib.sh"
rows=20000
start_server --synthetic "$rows" --fault "delay_pages=20"

export_cmd=("$acass" export --port "$port" --table synthetic.rows -q)
"${export_cmd[@]}" --out "$work/full.csv" --fetch-size 5000
[[ "$(wc -l <"$work/full.csv")" == $((rows + 1)) ]] || fail "reference export has the wrong line count"

# 1. Stop after 7 pages of 300 rows (exit 130), resume with pages of 700 rows.
expect_status 130 "${export_cmd[@]}" --out "$work/hook.csv" --fetch-size 300 --resume-file "$work/hook.resume" \
  --stop-after-pages 7
[[ "$(sed -n 2p "$work/hook.resume")" == "rows 2100" ]] || fail "resume file after 7 pages: $(cat "$work/hook.resume")"
[[ "$(wc -l <"$work/hook.csv")" == 2101 ]] || fail "stopped export should hold 2100 rows"
"${export_cmd[@]}" --out "$work/hook.csv" --fetch-size 700 --resume-file "$work/hook.resume"
cmp "$work/full.csv" "$work/hook.csv" || fail "stop-after-pages + resume differs from the full export"
head -1 "$work/hook.resume" | grep -q ' 1$' || fail "resume file not marked finished"
# A finished resume file makes a rerun a no-op that leaves the file alone.
"${export_cmd[@]}" --out "$work/hook.csv" --fetch-size 700 --resume-file "$work/hook.resume"
cmp "$work/full.csv" "$work/hook.csv" || fail "rerun after completion changed the output"

# 2. SIGINT once some pages are recorded (100 pages of 200 rows, 20 ms each on the server).
"${export_cmd[@]}" --out "$work/int.csv" --fetch-size 200 --resume-file "$work/int.resume" &
export_pid=$!
for _ in $(seq 1 600); do
  if [[ -f "$work/int.resume" ]] && ! grep -q '^rows 0$' "$work/int.resume"; then break; fi
  sleep 0.05
done
kill -INT "$export_pid"
status=0
wait "$export_pid" || status=$?
[[ "$status" == 130 ]] || fail "interrupted export exited with $status, expected 130"
stopped_rows="$(sed -n 's/^rows //p' "$work/int.resume")"
(( stopped_rows > 0 && stopped_rows < rows )) || fail "interrupted export recorded $stopped_rows rows"
[[ "$(wc -l <"$work/int.csv")" == $((stopped_rows + 1)) ]] || fail "output and resume file disagree after SIGINT"
"${export_cmd[@]}" --out "$work/int.csv" --fetch-size 200 --resume-file "$work/int.resume"
cmp "$work/full.csv" "$work/int.csv" || fail "SIGINT + resume differs from the full export"

# 3. Rows appended after the recorded position (as if killed between writing and recording)
#    are cut off when the export continues.
expect_status 130 "${export_cmd[@]}" --out "$work/cut.csv" --fetch-size 1000 --resume-file "$work/cut.resume" \
  --stop-after-pages 3
echo "9999,0,half-written,2023-11-14T22:15:11.000Z,0" >>"$work/cut.csv"
"${export_cmd[@]}" --out "$work/cut.csv" --fetch-size 1000 --resume-file "$work/cut.resume"
cmp "$work/full.csv" "$work/cut.csv" || fail "a page written but not recorded was not cut off"

# JSON lines resume the same way.
"${export_cmd[@]}" --out "$work/full.jsonl" --format jsonl --fetch-size 5000
expect_status 130 "${export_cmd[@]}" --out "$work/part.jsonl" --format jsonl --fetch-size 1500 \
  --resume-file "$work/j.resume" --stop-after-pages 2
"${export_cmd[@]}" --out "$work/part.jsonl" --format jsonl --fetch-size 1500 --resume-file "$work/j.resume"
cmp "$work/full.jsonl" "$work/part.jsonl" || fail "JSON lines resume differs"
echo "resume OK: stopped at 2100 rows (hook) and $stopped_rows rows (SIGINT), both resumed to $rows identical rows"
