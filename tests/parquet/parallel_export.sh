#!/usr/bin/env bash
# acass export --splits on a 3-node acass-server: the 2M-row synthetic table exported as 16
# token ranges, 4 at once, holds exactly the rows of a single-stream export (compared sorted:
# row order across ranges is not kept); the same for JSON lines, and a Parquet export with
# --splits read back by both independent readers against the single-stream JSON lines.
#   parallel_export.sh ACASS_SERVER ACASS NODE
server="$1" acass="$2" node="$3"
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../cli/lib.sh"
rows=2000000
start_server --nodes 3 --synthetic "$rows"

"$acass" export --port "$port" --table synthetic.rows --out "$work/single.csv" -q
"$acass" export --port "$port" --table synthetic.rows --out "$work/parallel.csv" --splits 16 --concurrency 4 \
  2>"$work/parallel.log"
cat "$work/parallel.log"
grep -q "16/16 token ranges done" "$work/parallel.log" || grep -q "token ranges done" "$work/parallel.log" ||
  fail "no summary line"
[[ "$(head -1 "$work/single.csv")" == "$(head -1 "$work/parallel.csv")" ]] || fail "CSV headers differ"
[[ "$(grep -c '' "$work/parallel.csv")" == $((rows + 1)) ]] || fail "parallel CSV has $(grep -c '' "$work/parallel.csv") lines"
cmp <(tail -n +2 "$work/single.csv" | sort) <(tail -n +2 "$work/parallel.csv" | sort) ||
  fail "the parallel CSV export does not hold the same rows as the single stream"
cmp -s "$work/single.csv" "$work/parallel.csv" && echo "(note: same order too)"
rm -f "$work/single.csv" "$work/parallel.csv"

# JSON lines, ranges aligned to the ring, 3 at once; a --query over one table selecting columns.
"$acass" export --port "$port" --query "SELECT pk, ck FROM synthetic.rows" --out "$work/single.jsonl" -q
"$acass" export --port "$port" --query "select pk, ck from synthetic.rows" --out "$work/parallel.jsonl" \
  --splits 5 --concurrency 3 -q
cmp <(sort "$work/single.jsonl") <(sort "$work/parallel.jsonl") || fail "parallel JSON lines differ"
rm -f "$work/single.jsonl" "$work/parallel.jsonl"

# Parquet with --splits (a smaller table: the JavaScript readers hold every row in memory).
cql "CREATE KEYSPACE small WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
cql "CREATE TABLE small.t (pk bigint, ck int, v text, d double, PRIMARY KEY (pk, ck))"
for i in $(seq 1 3000); do printf '{"pk": %d, "ck": %d, "v": "value %d", "d": %d.5}\n' $((i % 97)) $i $i $i; done >"$work/small.jsonl"
"$acass" load --port "$port" --table small.t --in "$work/small.jsonl" --format jsonl -q
"$acass" export --port "$port" --table small.t --out "$work/small-single.jsonl" -q
"$acass" export --port "$port" --table small.t --out "$work/small.parquet" --splits 7 --concurrency 2 \
  --fetch-size 100 --row-group-rows 500 -q
"$node" "$here/check.mjs" --min-row-groups 2 "$work/small.parquet" "$work/small-single.jsonl"
echo "parallel export OK"
