#!/usr/bin/env bash
# acass count: streamed count (partition key columns only), the parallel token-range count
# (--splits/--concurrency) and --server-side COUNT(*) agree with the synthetic table's size, for a
# table name with and without --keyspace.
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

# Parallel token-range scans: the same number for several split/concurrency settings.
for sc in "8 4" "1 1" "37 3" "64 16"; do
  read -r splits conc <<<"$sc"
  got="$("$acass" count --port "$port" --table synthetic.rows --splits "$splits" --concurrency "$conc" --fetch-size 2000 -q)"
  [[ "$got" == "$rows" ]] || fail "count --splits $splits --concurrency $conc: $got"
done
"$acass" count --port "$port" --keyspace synthetic --table rows --splits 8 --concurrency 4 2>"$work/summary" >"$work/n"
[[ "$(cat "$work/n")" == "$rows" ]] || fail "parallel count with --keyspace: $(cat "$work/n")"
grep -q "^acass count: $rows rows of synthetic.rows in [0-9]* pages, 8 token ranges (4 at once)" "$work/summary" ||
  fail "parallel summary: $(cat "$work/summary")"
expect_status 2 "$acass" count --port "$port" --table synthetic.rows --splits 0 -q
expect_status 2 "$acass" count --port "$port" --table synthetic.rows --concurrency 4 -q
expect_status 2 "$acass" count --port "$port" --table synthetic.rows --splits 4 --server-side -q

cql "CREATE KEYSPACE ck WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
cql "CREATE TABLE ck.t (a int, b text, c int, v int, PRIMARY KEY ((a, b), c))"
for i in 1 2 3; do for j in 1 2; do cql "INSERT INTO ck.t (a, b, c, v) VALUES ($i, 'x', $j, 0)"; done; done
[[ "$("$acass" count --port "$port" --table ck.t -q)" == 6 ]] || fail "count with a composite partition key"
[[ "$("$acass" count --port "$port" --table ck.t --server-side -q)" == 6 ]] || fail "server-side count of ck.t"
[[ "$("$acass" count --port "$port" --table ck.t --splits 5 --concurrency 2 -q)" == 6 ]] ||
  fail "parallel count with a composite partition key"
expect_status 5 "$acass" count --port "$port" --table ck.missing -q
expect_status 5 "$acass" count --port "$port" --table ck.missing --splits 4 -q
echo "count OK"
