#!/usr/bin/env bash
# acass load with bad input: malformed records, wrong field counts, values that do not parse and
# records the server refuses go to the reject file (in the input's format, with its header, so
# it loads again as it is) and their reasons with file and line to FILE.reasons; every good
# record loads; the exit status is 6 (some records rejected). CSV and JSON lines, single inserts and
# batches (a failed batch is retried row by row so that only the bad rows are rejected).
# --max-errors N stops once N records were rejected (exit 6). Last, SIGINT stops a slow load
# cleanly (exit 130, what was sent is loaded) and the same command with the same --resume-file
# loads exactly the rest; on a terminal the load shows a percentage and an ETA.
#   load_rejects.sh ACASS_SERVER ACASS
server="$1" acass="$2"
source "$(dirname "$0")/lib.sh"
start_server --fault "delay=5,pattern=INSERT INTO ld.slow"

cql "CREATE KEYSPACE ld WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
for t in csv1 csv8 js; do
  cql "CREATE TABLE ld.$t (id int PRIMARY KEY, name text, score double, tags set<text>)"
done

cat >"$work/in.csv" <<'CSV'
id,name,score,tags
1,one,1.5,"{'a', 'b'}"
2,two
3,three,not-a-number,
4,"multi
line, ""quoted""",4.0,{}
5,five,5,{'x'}
x6,six,6,
,no id,7,
8,eight"bad,8,
9,nine,9,"{'unclosed'"
10,ten,10,
11,"closed"garbage,11,
12,twelve,12,{}
13,"never closed,13,
CSV
# Rejected: line 3 (2 fields), 4 (score), 9 (id: null, refused by the server), 8 (id: x6),
# 10 (quote in unquoted field), 11 (set literal), 13 (text after closing quote), 15 (unterminated).
expected_rejects="3 4 8 9 10 11 13 15"
expected_loaded=5   # ids 1, 4, 5, 10, 12

rejected_lines() {  # rejected_lines REJECT_FILE: the input lines of its reasons, sorted
  cut -f1 "$1.reasons" | sed 's/.*://' | sort -n | tr '\n' ' ' | sed 's/ $//'
}
check_rejects() {  # check_rejects TABLE REJECT_FILE
  local got
  got="$(rejected_lines "$2")"
  [[ "$got" == "$expected_rejects" ]] || { cat "$2" >&2; fail "$1: rejected lines '$got', expected '$expected_rejects'"; }
  [[ "$("$acass" count --port "$port" --table "ld.$1" -q)" == "$expected_loaded" ]] || fail "$1: wrong number of rows loaded"
  "$acass" query --port "$port" -f csv "SELECT id, name FROM ld.$1 WHERE id = 4" | grep -q '"multi' ||
    fail "$1: the multi-line record did not load"
}

expect_status 6 "$acass" load --port "$port" --table ld.csv1 --in "$work/in.csv" --reject-file "$work/r1" -q
check_rejects csv1 "$work/r1"
grep -q $'in.csv:4\tcolumn score (double): ' "$work/r1.reasons" || fail "reason of line 4 missing"
grep -q $'in.csv:3\texpected 4 fields, got 2$' "$work/r1.reasons" || fail "reason of line 3 missing"
grep -qx '2,two' "$work/r1" || fail "record of line 3 not in the reject file as it was"
[[ "$(head -1 "$work/r1")" == "id,name,score,tags" ]] || fail "reject file without the input's header"
[[ "$(wc -l <"$work/r1.reasons")" == 8 ]] || fail "one reason per rejected record expected"
# The reject file loads as it is (same header and format): the records are rejected again for
# the same reasons, and nothing loads. (The unterminated quote of line 15 now swallows the
# record written after it, so there are 7 rejects instead of 8.)
cql "CREATE TABLE ld.again (id int PRIMARY KEY, name text, score double, tags set<text>)"
expect_status 6 "$acass" load --port "$port" --table ld.again --in "$work/r1" --reject-file "$work/r1b" -q
[[ "$(wc -l <"$work/r1b.reasons")" == 7 ]] || { cat "$work/r1b.reasons" >&2; fail "reloaded reject file: not 7 rejects"; }
[[ "$(cut -f2 "$work/r1b.reasons" | sort)" == "$(cut -f2 "$work/r1.reasons" | grep -v ^Invalid | sort)" ]] ||
  fail "reloaded reject file: other reasons"
[[ "$("$acass" count --port "$port" --table ld.again -q)" == 0 ]] || fail "a reloaded reject loaded"
expect_status 6 "$acass" load --port "$port" --table ld.csv8 --in "$work/in.csv" --reject-file "$work/r8" \
  --batch-size 8 --concurrency 2 -q
check_rejects csv8 "$work/r8"

cat >"$work/in.jsonl" <<'JSON'
{"id": 1, "name": "one", "score": 1.5, "tags": ["a"]}
{"id": 2, "name": "two", "score": "NaN"}
not json
{"id": 4, "nope": 1}
{"id": 5, "score": "five"}

{"id": 7, "name": null, "tags": []}
{"name": "no id"}
JSON
# Rejected: 3 (not JSON), 4 (unknown column), 5 (score), 8 (no id: refused by the server).
expect_status 6 "$acass" load --port "$port" --table ld.js --in "$work/in.jsonl" --format jsonl --reject-file "$work/rj" -q
got="$(rejected_lines "$work/rj")"
[[ "$got" == "3 4 5 8" ]] || { cat "$work/rj" >&2; fail "jsonl: rejected lines '$got', expected '3 4 5 8'"; }
[[ "$("$acass" count --port "$port" --table ld.js -q)" == 3 ]] || fail "jsonl: wrong number of rows loaded"

# A clean file loads with exit 0 and an empty reject file.
grep -v -e '^2,two$' -e '^3,three' "$work/in.csv" | head -2 >"$work/good.csv"
expect_status 0 "$acass" load --port "$port" --table ld.csv1 --in "$work/good.csv" --reject-file "$work/r0" -q
[[ ! -s "$work/r0" ]] || fail "clean load wrote rejects"
# --max-errors: 2,000 records of which every other one is bad; the load stops soon after the
# 10th reject (in-flight records still finish) instead of reading the whole file.
cql "CREATE TABLE ld.maxerr (id int PRIMARY KEY, name text)"
{ echo "id,name"; for i in $(seq 1 1000); do echo "$i,n$i"; echo "bad$i,x"; done; } >"$work/maxerr.csv"
expect_status 6 "$acass" load --port "$port" --table ld.maxerr --in "$work/maxerr.csv" --reject-file "$work/rm" \
  --max-errors 10 --concurrency 1 2>"$work/maxerr.log"
grep -q 'stopped after 1[0-9] rejected records (--max-errors 10)' "$work/maxerr.log" ||
  fail "--max-errors message: $(cat "$work/maxerr.log")"
rejected="$(( $(wc -l <"$work/rm") - 1 ))"
(( rejected >= 10 && rejected < 20 )) || fail "--max-errors 10: $rejected rejects written"
(( $("$acass" count --port "$port" --table ld.maxerr -q) < 100 )) || fail "--max-errors did not stop the load"

# SIGINT: inserts into ld.slow take 5 ms each on the server; one at a time, 3000 rows take 15 s.
cql "CREATE TABLE ld.slow (id int PRIMARY KEY, name text)"
{ echo "id,name"; for i in $(seq 1 3000); do echo "$i,n$i"; done; } >"$work/slow.csv"
"$acass" load --port "$port" --table ld.slow --in "$work/slow.csv" --concurrency 1 --reject-file "$work/rs" \
  --resume-file "$work/slow.resume" 2>"$work/slow.log" &
load_pid=$!
for _ in $(seq 1 300); do   # until some rows are in (slow machines, sanitizer builds)
  [[ "$("$acass" count --port "$port" --table ld.slow -q)" != 0 ]] && break
  sleep 0.1
done
sleep 0.2
kill -INT "$load_pid"
status=0
wait "$load_pid" || status=$?
[[ "$status" == 130 ]] || fail "interrupted load exited with $status, expected 130"
loaded="$(sed -n 's/^acass load: \([0-9]*\) loaded, 0 rejected.*/\1/p' "$work/slow.log")"
[[ -n "$loaded" ]] || fail "no summary after SIGINT: $(cat "$work/slow.log")"
(( loaded > 0 && loaded < 3000 )) || fail "interrupted load loaded $loaded rows"
[[ "$("$acass" count --port "$port" --table ld.slow -q)" == "$loaded" ]] || fail "summary and table disagree"
# Resumed (on a terminal: percentage and ETA drawn): exactly the records not done before are sent.
cql "TRUNCATE ld.slow"
resume_cmd="'$acass' load --port $port --table ld.slow --in '$work/slow.csv' --concurrency 4 --reject-file '$work/rs' --resume-file '$work/slow.resume'"
if command -v script >/dev/null; then
  SHELL=/bin/sh script -qec "$resume_cmd" "$work/resume.log" >/dev/null
  grep -aq '\[#*\.*\] *[0-9.]*%.*ETA [0-9]*:[0-9][0-9]:[0-9][0-9]' "$work/resume.log" ||
    fail "no percentage and ETA on a TTY: $(tr '\r' '\n' <"$work/resume.log" | head -3)"
else
  bash -c "$resume_cmd" 2>"$work/resume.log"
fi
skipped="$(sed -n 's/.* \([0-9]*\) skipped as done before.*/\1/p' "$work/resume.log")"
[[ "$skipped" == "$loaded" ]] || fail "resume skipped '$skipped' records, the interrupted run loaded $loaded"
# The table was emptied before the rerun: it holds exactly the records the rerun sent.
[[ "$("$acass" count --port "$port" --table ld.slow -q)" == "$((3000 - loaded))" ]] ||
  fail "resumed load sent $("$acass" count --port "$port" --table ld.slow -q) records, expected $((3000 - loaded))"
echo "load rejects OK (SIGINT after $loaded of 3000 rows, resumed with the other $((3000 - loaded)))"
