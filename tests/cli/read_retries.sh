#!/usr/bin/env bash
# The SELECTs acass sends (export, count, export/count with a server-side COUNT(*), query of a
# SELECT) are idempotent: under an injected write timeout, Overloaded answer and a request that
# is never answered (a client timeout) the driver's retry policy sends them again, and the
# command exits 0 with every row. A write through `acass query` is not idempotent: the same
# write timeout ends it with exit 7 (it is never sent twice).
#   read_retries.sh ACASS_SERVER ACASS
server="$1" acass="$2"
source "$(dirname "$0")/lib.sh"

rows=20000
# start_faulty: a fresh node whose 2nd, 4th and 6th executions on synthetic.rows fail (apart, so
# that each failure is followed by a good attempt: the default retry policy retries once).
# start_faulty_count: a fresh node whose first server-side COUNT(*) (one request) fails.
# Before the SELECTs were marked idempotent the write timeout ended every command with exit 7
# (Overloaded answers and client timeouts of pages were already retried).
start_faulty() {
  start_server --synthetic "$rows" --fault "error=write_timeout,nth=2,prepare=0,pattern=FROM synthetic.rows" \
    --fault "error=overloaded,nth=4,prepare=0,pattern=FROM synthetic.rows" \
    --fault "stall,nth=6,prepare=0,pattern=FROM synthetic.rows"
}
start_faulty_count() {
  start_server --synthetic "$rows" --fault "error=write_timeout,nth=1,prepare=0,pattern=COUNT(*)"
}
# retried NAME START COMMAND...: COMMAND exits 0 on a fresh node started by START.
retried() {
  local name="$1" start="$2"
  shift 2
  "$start"
  local status=0
  "$@" --port "$port" --timeout 1 >"$work/out" 2>"$work/err" || status=$?
  stop_acass_server
  [[ "$status" == 0 ]] || fail "$name: exit $status under injected timeouts: $(cat "$work/err")"
}

retried export start_faulty "$acass" export --table synthetic.rows --out "$work/e.csv" --fetch-size 1000 -q
[[ "$(wc -l <"$work/e.csv")" == $((rows + 1)) ]] || fail "export: $(wc -l <"$work/e.csv") lines"
retried "export --query" start_faulty "$acass" export --query "SELECT pk, ck FROM synthetic.rows" \
  --out "$work/q.csv" --fetch-size 1000 -q
[[ "$(wc -l <"$work/q.csv")" == $((rows + 1)) ]] || fail "export --query: $(wc -l <"$work/q.csv") lines"
retried "export --count" start_faulty_count "$acass" export --table synthetic.rows --count --out "$work/c.csv" -q
[[ "$(wc -l <"$work/c.csv")" == $((rows + 1)) ]] || fail "export --count: $(wc -l <"$work/c.csv") lines"
retried count start_faulty "$acass" count --table synthetic.rows --fetch-size 1000 -q
[[ "$(cat "$work/out")" == "$rows" ]] || fail "count printed '$(cat "$work/out")'"
retried "count --server-side" start_faulty_count "$acass" count --table synthetic.rows --server-side -q
[[ "$(cat "$work/out")" == "$rows" ]] || fail "count --server-side printed '$(cat "$work/out")'"
retried query start_faulty "$acass" query -f csv --fetch-size 1000 "SELECT pk FROM synthetic.rows"
[[ "$(wc -l <"$work/out")" == $((rows + 1)) ]] || fail "query: $(wc -l <"$work/out") lines"

# A write is not retried: the write timeout ends it (exit 7, the driver's server-error exit).
# Nor is a write whose answer never comes (a client timeout: it may have been applied); before,
# the stream's page retries sent it again and the second attempt's success gave exit 0.
start_server --fault "error=write_timeout,nth=1,pattern=INSERT INTO rr.t" \
  --fault "stall,nth=1,pattern=INSERT INTO rr.t (id) VALUES (2)"
cql "CREATE KEYSPACE rr WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
cql "CREATE TABLE rr.t (id int PRIMARY KEY)"
expect_status 7 "$acass" query --port "$port" "INSERT INTO rr.t (id) VALUES (1)" 2>/dev/null
expect_status 7 "$acass" query --port "$port" --timeout 1 "INSERT INTO rr.t (id) VALUES (2)" 2>"$work/err"
grep -q "timed out" "$work/err" || fail "stalled write: $(cat "$work/err")"
[[ "$("$acass" query --port "$port" -f csv "SELECT id FROM rr.t WHERE id = 2")" == "" ]] || fail "a write was sent twice"
echo "read retries OK"
