#!/usr/bin/env bash
# acass export: every format from a table and from --query, to a file and to standard output;
# the summary line (rows, pages, MB, rows/s, peak RSS); the TTY progress bar with --count (under
# `script`, when available); Avro read back with avro-c (when built with Avro).
#   export.sh ACASS_SERVER ACASS [AVRO_DUMP]
server="$1" acass="$2" avro_dump="${3:-}"
source "$(dirname "$0")/lib.sh"
rows=25000
start_server --synthetic "$rows"
ex=("$acass" export --port "$port")

# CSV of the whole table: header, one line per row, values as the generator defines them.
"${ex[@]}" --table synthetic.rows --out "$work/t.csv" --fetch-size 1000 2>"$work/summary"
[[ "$(head -1 "$work/t.csv")" == "pk,ck,name,ts,value" ]] || fail "CSV header: $(head -1 "$work/t.csv")"
[[ "$(wc -l <"$work/t.csv")" == $((rows + 1)) ]] || fail "CSV line count"
grep -qx '3,7,name-3-7,2023-11-14T22:13:23.007Z,8.5' "$work/t.csv" || fail "row (3, 7) missing or wrong"
grep -Eq "^acass export: exported $rows rows, 25 pages, [0-9.]+ MB in [0-9.]+ s \([0-9]+ rows/s, [0-9.]+ MB/s\), peak RSS [0-9.]+ MB -> " \
  "$work/summary" || fail "summary line: $(cat "$work/summary")"

# Protocol v4 and v5 give the same file (paging states differ, rows must not).
"${ex[@]}" --table synthetic.rows --out "$work/v4.csv" --fetch-size 999 --protocol-version 4 -q
"${ex[@]}" --table synthetic.rows --out "$work/v5.csv" --fetch-size 1234 --protocol-version 5 --consistency QUORUM -q
cmp "$work/t.csv" "$work/v4.csv" || fail "protocol v4 export differs"
cmp "$work/t.csv" "$work/v5.csv" || fail "protocol v5 export differs"

# --query to standard output, JSON lines.
"${ex[@]}" --query "SELECT pk, ck, name FROM synthetic.rows WHERE pk = 5" --format jsonl --out - -q >"$work/p5.jsonl"
[[ "$(wc -l <"$work/p5.jsonl")" == 100 ]] || fail "partition 5 should have 100 rows"
[[ "$(head -1 "$work/p5.jsonl")" == '{"pk": 5, "ck": 0, "name": "name-5-0"}' ]] || fail "JSON line: $(head -1 "$work/p5.jsonl")"

# An empty result still gets its CSV header.
"${ex[@]}" --query "SELECT pk, ck FROM synthetic.rows WHERE pk = -1" --out "$work/empty.csv" -q
[[ "$(cat "$work/empty.csv")" == "pk,ck" ]] || fail "empty export: $(cat "$work/empty.csv")"

# Progress bar on a terminal, with the total from --count (pages slowed down so it draws).
if command -v script >/dev/null; then
  SHELL=/bin/sh script -qec "'$acass' export --port $port --table synthetic.rows --out '$work/tty.csv' --fetch-size 500 --count" \
    "$work/tty.log" >/dev/null
  grep -aq 'rows/s' "$work/tty.log" || fail "no progress line on a TTY"
  grep -aq '\[#*\.*\] *[0-9.]*%' "$work/tty.log" || fail "no progress bar with --count on a TTY"
  cmp "$work/t.csv" "$work/tty.csv" || fail "export under a TTY differs"
fi
# No TTY: no progress line, only the summary.
"${ex[@]}" --table synthetic.rows --out "$work/t2.csv" --count 2>"$work/summary2"
[[ "$(wc -l <"$work/summary2")" == 1 ]] || fail "non-TTY output should be the summary only: $(cat "$work/summary2")"

if [[ -n "$avro_dump" ]]; then
  "${ex[@]}" --table synthetic.rows --format avro --out "$work/t.avro" --fetch-size 1000 -q
  "$avro_dump" "$work/t.avro" >"$work/t.avro.json"
  [[ "$(wc -l <"$work/t.avro.json")" == $((rows + 1)) ]] || fail "Avro record count"
  grep -q '"name":"pk","type":\[{"type":"null"},{"type":"long"}\]' "$work/t.avro.json" || fail "Avro schema: $(head -1 "$work/t.avro.json")"
  grep -qF '{"pk": {"long": 3}, "ck": {"int": 7}, "name": {"string": "name-3-7"}' "$work/t.avro.json" || fail "Avro row (3, 7)"
  # Interrupted and resumed Avro export: the same records (files differ in sync markers).
  expect_status 130 "${ex[@]}" --table synthetic.rows --format avro --out "$work/r.avro" --fetch-size 700 \
    --resume-file "$work/r.resume" --stop-after-pages 4 -q
  "${ex[@]}" --table synthetic.rows --format avro --out "$work/r.avro" --fetch-size 3000 --resume-file "$work/r.resume" -q
  "$avro_dump" "$work/r.avro" | cmp - "$work/t.avro.json" || fail "resumed Avro export has other records"
else
  expect_status 2 "${ex[@]}" --table synthetic.rows --format avro --out "$work/t.avro"
  echo "(Avro not built: checked the clear refusal only)"
fi
echo "export OK"
