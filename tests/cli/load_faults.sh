#!/usr/bin/env bash
# acass load against a node that misbehaves (server faults, docs/server.md):
#  1. 5% Overloaded and 1% write timeouts: retried with back-off, 0 rejects, every row loaded;
#  2. corrupt frames (the response is lost, the write may have happened): retried, never
#     reported as rejected;
#  3. every INSERT Overloaded: exit 7 after --max-attempts, and no record called rejected;
#     a node that never answers: exit 7 after the request timeout;
#  4. the node stopped mid-way: exit 3 or 7 within the timeout instead of rejecting the rest;
#     after a restart the same command with the same --resume-file loads the rest, skipping
#     exactly the records the first run finished.
#   load_faults.sh ACASS_SERVER ACASS
server="$1" acass="$2"
source "$(dirname "$0")/lib.sh"

rows=200000
{ echo "id,name"; seq 1 "$rows" | awk '{print $1 ",name-" $1}'; } >"$work/in.csv"
setup() {  # setup TABLE
  cql "CREATE KEYSPACE IF NOT EXISTS lf WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
  cql "CREATE TABLE lf.$1 (id int PRIMARY KEY, name text)"
}
count() { "$acass" count --port "$port" --table "lf.$1" -q; }

# 1. Transient errors: all retried.
start_server --fault "error=overloaded,fraction=0.05,pattern=INSERT INTO" \
  --fault "error=write_timeout,fraction=0.01,pattern=INSERT INTO"
setup t1
SECONDS=0
expect_status 0 "$acass" load --port "$port" --table lf.t1 --in "$work/in.csv" --reject-file "$work/r1" 2>"$work/s1"
load_seconds=$SECONDS
grep -q "^acass load: $rows loaded, 0 rejected" "$work/s1" || fail "overloaded load: $(cat "$work/s1")"
retries="$(sed -n 's/.* \([0-9]*\) retries.*/\1/p' "$work/s1")"
(( retries > 1000 )) || fail "expected thousands of retries, got '$retries': $(cat "$work/s1")"
[[ ! -s "$work/r1" ]] || fail "overloaded load rejected records"
[[ "$(count t1)" == "$rows" ]] || fail "overloaded load: $(count t1) rows, expected $rows"
stop_acass_server

# 2. Corrupt frames: the responses are lost; the writes are retried, not rejected. About 40 lost
#    responses per version (5,000 rows at 0.8%; 20,000 at 0.2% before, a quarter of the rows to
#    load for the same number of faults).
head -5001 "$work/in.csv" >"$work/in5k.csv"
for version in 4 5; do
  start_server --fault "corrupt_frame,fraction=0.008,pattern=INSERT INTO"
  setup t2
  status=0
  "$acass" load --port "$port" --table lf.t2 --in "$work/in5k.csv" --reject-file "$work/r2" --protocol-version "$version" \
    2>"$work/s2" || status=$?
  [[ "$status" == 0 ]] || fail "corrupt_frame v$version: exit $status: $(cat "$work/s2")"
  [[ ! -s "$work/r2" ]] || fail "corrupt_frame v$version: records reported rejected: $(head -3 "$work/r2.reasons")"
  [[ "$(count t2)" == 5000 ]] || fail "corrupt_frame v$version: $(count t2) rows"
  grep -Eq ' [1-9][0-9]* retries' "$work/s2" || fail "corrupt_frame v$version: no retries: $(cat "$work/s2")"
  stop_acass_server
done

# 3. Exit 7: retries exhausted (half the INSERTs and their PREPAREs Overloaded: with 3 attempts
#    some records fail every time), or a node that never answers. Nothing is called rejected.
start_server --fault "error=overloaded,fraction=0.5,pattern=INSERT INTO lf.t3" --fault "stall,pattern=INSERT INTO lf.t4"
setup t3
setup t4
head -101 "$work/in.csv" >"$work/in100.csv"
expect_status 7 "$acass" load --port "$port" --table lf.t3 --in "$work/in100.csv" --reject-file "$work/r3" \
  --max-attempts 3 2>"$work/s3"
grep -q 'still failed after 3 attempts (--max-attempts): Overloaded' "$work/s3" || fail "exit 7 message: $(cat "$work/s3")"
[[ ! -s "$work/r3" ]] || fail "records that were never written are not rejects"
SECONDS=0
expect_status 7 "$acass" load --port "$port" --table lf.t4 --in "$work/in100.csv" --timeout 1 2>"$work/s4"
(( SECONDS < 10 )) || fail "stalled node: the load took $SECONDS s to give up"
grep -Eq 'timed out|the cluster is unreachable' "$work/s4" || fail "stalled node message: $(cat "$work/s4")"
expect_status 7 "$acass" query --port "$port" --timeout 1 "INSERT INTO lf.t4 (id, name) VALUES (1, 'x')"
stop_acass_server

# 4. The node stops mid-way: exit 3 or 7 within the timeout; resumed after the restart.
start_controlled_server --fault "delay=2,pattern=INSERT INTO"
setup t5
rows=50000
head -$((rows + 1)) "$work/in.csv" >"$work/in50k.csv"
"$acass" load --port "$port" --table lf.t5 --in "$work/in50k.csv" --resume-file "$work/t5.resume" \
  --reject-file "$work/r5" --timeout 2 2>"$work/s5" &
load_pid=$!
for _ in $(seq 1 300); do
  (( $(count t5) > 5000 )) && break
  sleep 0.1
done
echo "stop 1" >&7
SECONDS=0
status=0
wait "$load_pid" || status=$?
stopped_after=$SECONDS
[[ "$status" == 3 || "$status" == 7 ]] || fail "node stopped: exit $status, expected 3 or 7: $(cat "$work/s5")"
(( stopped_after <= 8 )) || fail "node stopped: the load needed $stopped_after s to stop (timeout 2 s)"
grep -q 'the cluster is unreachable' "$work/s5" || fail "node stopped: message: $(cat "$work/s5")"
first_loaded="$(sed -n 's/^acass load: stopped: \([0-9]*\) loaded.*/\1/p' "$work/s5")"
[[ -n "$first_loaded" ]] && (( first_loaded > 0 && first_loaded < rows )) ||
  fail "node stopped: summary: $(cat "$work/s5")"
[[ ! -s "$work/r5" ]] || fail "node stopped: records rejected: $(head -3 "$work/r5.reasons")"
# The resumed run needs no slow node: without the delay it takes a fraction of the time.
echo "clear-faults" >&7
echo "restart 1" >&7
sleep 0.5
expect_status 0 "$acass" load --port "$port" --table lf.t5 --in "$work/in50k.csv" --resume-file "$work/t5.resume" \
  --reject-file "$work/r5" 2>"$work/s6"
[[ "$(count t5)" == "$rows" ]] || fail "resumed load: $(count t5) rows, expected $rows"
skipped="$(sed -n 's/.* \([0-9]*\) skipped as done before.*/\1/p' "$work/s6")"
second_loaded="$(sed -n 's/^acass load: \([0-9]*\) loaded.*/\1/p' "$work/s6")"
[[ "$skipped" == "$first_loaded" ]] || fail "resume skipped $skipped records, the first run finished $first_loaded"
(( skipped + second_loaded == rows )) || fail "resume: $skipped skipped + $second_loaded loaded != $rows"
exec 7>&-
echo "load faults OK: 200000 rows with $retries retries in $load_seconds s; stopped node: exit $status after ${stopped_after} s, resumed after $first_loaded rows"
