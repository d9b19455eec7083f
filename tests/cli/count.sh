#!/usr/bin/env bash
# acass count: streamed count (partition key columns only) and --server-side COUNT(*) agree
# with the synthetic table's size, for a table name with and without --keyspace.
#   count.sh ACASS_SERVER ACASS
server="$1" acass="$2"
source "$(dirname "$0")/lib.sh"
rows=123457
start_server --synthetic "$rows"

[[ "$("$acass" count --port "$port" --table synthetic.rows --fetch-size 1000 -q)" == "$rows" ]] || fail "streamed count"
[[ "$("$acass" count --port "$port" --keyspace synthetic --table rows --server-side -q)" == "$rows" ]] ||
  fail "server-side count"
"$acass" count --port "$port" --table synthetic.rows 2>"$work/summary" >/dev/null
grep -q "^acass count: $rows rows of synthetic.rows in [0-9]* pages" "$work/summary" || fail "summary: $(cat "$work/summary")"

cql "CREATE KEYSPACE ck WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
cql "CREATE TABLE ck.t (a int, b text, c int, v int, PRIMARY KEY ((a, b), c))"
for i in 1 2 3; do for j in 1 2; do cql "INSERT INTO ck.t (a, b, c, v) VALUES ($i, 'x', $j, 0)"; done; done
[[ "$("$acass" count --port "$port" --table ck.t -q)" == 6 ]] || fail "count with a composite partition key"
[[ "$("$acass" count --port "$port" --table ck.t --server-side -q)" == 6 ]] || fail "server-side count of ck.t"
expect_status 5 "$acass" count --port "$port" --table ck.missing -q
echo "count OK"
