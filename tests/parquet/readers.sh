#!/usr/bin/env bash
# Parquet files of `acass export` read by two independent readers (hyparquet, parquet-wasm via
# check.mjs): a table with every CQL type, nulls, edge values and collections, tuples and UDTs
# (Parquet LIST/MAP/groups, nested, with leaves of most types; vector stays JSON text), exported with
# small row groups (several row groups and pages), Snappy and uncompressed, single stream and
# --splits; every value must equal the JSON lines export of the same table.
#   readers.sh ACASS_SERVER ACASS NODE
server="$1" acass="$2" node="$3"
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../cli/lib.sh"
start_server

cql "CREATE KEYSPACE pq WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
cql "CREATE TYPE pq.address (street text, \"Zip Code\" int)"
cql "CREATE TABLE pq.every (id int, a ascii, bi bigint, bl blob, bo boolean, d date, de decimal, db double,
  du duration, f float, ip inet, i int, si smallint, t text, tm time, ts timestamp, tu timeuuid, ti tinyint,
  u uuid, vc varchar, vi varint, l list<text>, s set<int>, m map<text, int>, mi map<int, text>,
  tp tuple<int, text>, ad frozen<address>, nested list<frozen<map<text, list<int>>>>,
  lts list<timestamp>, mu map<uuid, frozen<tuple<double, blob, boolean>>>, sd set<date>, lde list<decimal>,
  tx tuple<bigint, time, inet, varint, frozen<list<float>>>, la list<frozen<address>>, ve vector<float, 3>,
  PRIMARY KEY (id))"
cols="id, a, bi, bl, bo, d, de, db, du, f, ip, i, si, t, tm, ts, tu, ti, u, vc, vi, l, s, m, mi, tp, ad, nested"
cql "INSERT INTO pq.every ($cols) VALUES (1, 'plain', 9223372036854775807, 0xcafe, true, '2024-02-29', 123.456,
  3.141592653589793, 1y2mo3d4h5m6s7ms8us9ns, 1.5, '192.168.0.1', 2147483647, 32767,
  'comma, \"quote\" and ''apostrophe''', '13:14:15.123456789', '2024-01-02T03:04:05.678Z',
  50554d6e-29bb-11e5-b345-feff819cdc9f, -128, 123e4567-e89b-12d3-a456-426614174000, 'line one
line two', -123456789012345678901234567890, ['x', 'y, z'], {3, 1, 2}, {'k1': 1, 'k,2': 2}, {5: 'five'},
  (7, 'seven'), {street: 'Main St', \"Zip Code\": 12345}, [{'k': [1, 2], 'e': []}])"
cql "UPDATE pq.every SET lts = ['2024-01-02T03:04:05.678Z', '1969-12-31T23:59:59.999Z'],
  mu = {123e4567-e89b-12d3-a456-426614174000: (1.5, 0xff00, true), 00000000-0000-1000-8000-000000000000: (null, null, null)},
  sd = {'2024-02-29', '1970-01-01'}, lde = [1.50, -0.001, 123456789012345678901234567890.5],
  tx = (-9223372036854775808, '23:59:59.999999999', '::1', 98765432109876543210, [1.5, -0.0]),
  la = [{street: 'a', \"Zip Code\": 1}, {street: null, \"Zip Code\": null}], ve = [1.5, -2, 3.25] WHERE id = 1"
cql "UPDATE pq.every SET tx = (null, null, null, null, []), la = [], lts = ['2000-01-01T00:00:00Z'] WHERE id = 2"
cql "INSERT INTO pq.every ($cols) VALUES (2, '', -9223372036854775808, 0x, false, '1970-01-01', -0.001,
  -1.0E-300, -3d, -0.0, '::1', -2147483648, -32768, '', '00:00:00', '1969-12-31T23:59:59.999Z',
  00000000-0000-1000-8000-000000000000, 127, ffffffff-ffff-ffff-ffff-ffffffffffff, 'tab	and \\ backslash', 0,
  [], {}, {}, {}, (null, ''), {street: '', \"Zip Code\": null}, [])"
cql "INSERT INTO pq.every (id) VALUES (3)"   # every other column NULL
cql "INSERT INTO pq.every (id, t, db, f, l, d, ts) VALUES (4, '\"', NaN, Infinity, ['', '\"', 'a''b'], '-0100-03-01', '1900-01-01T00:00:00.001Z')"
cql "INSERT INTO pq.every (id, t, vc, db, f) VALUES (5, 'ünïcödé ✓', 'null', -Infinity, 3.4028235E38)"
cql "INSERT INTO pq.every (id, de, vi) VALUES (6, -99999999999999999999999999999999999.999, 99999999999999999999999999999999999999)"
# Enough rows for several row groups and pages, with nulls in between.
for i in $(seq 10 129); do
  if (( i % 3 == 0 )); then
    printf '{"id": %d, "bi": %d, "t": "row %d", "d": "2001-01-%02d", "tm": "01:02:03.%d"}\n' $i $((i * 1000003)) $i $((i % 28 + 1)) $i
  else
    printf '{"id": %d, "i": %d, "db": %d.25, "bo": %s, "u": "%08x-0000-4000-8000-000000000000", "l": ["%d"]}\n' \
      $i $((i * -7)) $i "$( (( i % 2 == 0 )) && echo true || echo false)" $i $i
  fi
done > "$work/rows.jsonl"
"$acass" load --port "$port" --table pq.every --in "$work/rows.jsonl" --format jsonl -q

"$acass" export --port "$port" --table pq.every --out "$work/every.jsonl" -q
"$acass" export --port "$port" --table pq.every --out "$work/every.parquet" --fetch-size 7 --row-group-rows 40 -q
groups=l,s,m,mi,tp,ad,nested,lts,mu,sd,lde,tx,la
# decimal (one scale, 3) and varint (up to 38 digits) are DECIMAL; lde mixes scales: text.
numbers=(--decimal de=3,vi=0,tx._4=0 --decimal-text lde.list.element)
"$node" "$here/check.mjs" --min-row-groups 3 --nested "$groups" "${numbers[@]}" --dictionary t,l.list.element \
  "$work/every.parquet" "$work/every.jsonl"
"$acass" export --port "$port" --table pq.every --out "$work/plain.parquet" --parquet-compression none -q
"$node" "$here/check.mjs" --nested "$groups" "${numbers[@]}" "$work/plain.parquet" "$work/every.jsonl"
"$acass" export --port "$port" --table pq.every --out "$work/text.parquet" --parquet-decimal text -q
"$node" "$here/check.mjs" --nested "$groups" --decimal-text de,vi,tx._4,lde.list.element "$work/text.parquet" "$work/every.jsonl"
# A decimal whose scale changes after its first row group (one row each here): DECIMAL cannot
# hold it without changing its text, so the column becomes text for the whole file (the row
# groups written so far are rewritten, tests/parquet/decimal_switch.sh); --parquet-decimal
# decimal keeps DECIMAL while every value fits exactly and stops with exit 9 otherwise.
cql "CREATE TABLE pq.scales (id int PRIMARY KEY, de decimal)"
for i in $(seq 1 12); do cql "INSERT INTO pq.scales (id, de) VALUES ($i, 0.$(printf '7%.0s' $(seq 1 $(( i % 3 + 1 )))))"; done
"$acass" export --port "$port" --table pq.scales --out "$work/scales.jsonl" -q
if ! head -1 "$work/scales.jsonl" | grep -q '^{"id": 5,'; then
  echo "pq.scales: the first row is not id 5 any more; pick the scales again" >&2; exit 1
fi
"$acass" export --port "$port" --table pq.scales --out "$work/scales.parquet" --row-group-rows 1 --fetch-size 1 -q 2>"$work/scales.err"
grep -q "Parquet column de becomes text for the whole file" "$work/scales.err" || { cat "$work/scales.err" >&2; exit 1; }
"$node" "$here/check.mjs" --decimal-text de "$work/scales.parquet" "$work/scales.jsonl"
# Row 5 (scale 3) comes first: with --parquet-decimal decimal every later value fits
# DECIMAL(38, 3) exactly (0.7 as 0.700).
"$acass" export --port "$port" --table pq.scales --out "$work/scales.parquet" --row-group-rows 1 --fetch-size 1 -q \
  --parquet-decimal decimal
"$node" "$here/check.mjs" --decimal de=3 "$work/scales.parquet" "$work/scales.jsonl"
cql "UPDATE pq.scales SET de = 0.7 WHERE id = 5"  # now scale 1 first, then 0.77, 0.777: not exact
status=0
"$acass" export --port "$port" --table pq.scales --out "$work/scales.parquet" --row-group-rows 1 --fetch-size 1 -q \
  --parquet-decimal decimal 2>"$work/scales.err" || status=$?
[[ $status == 9 ]] && grep -q "column de: the decimal 0.77.* does not fit this file's DECIMAL(38, 1) exactly.*--parquet-decimal auto" "$work/scales.err" \
  || { echo "expected exit 9 naming --parquet-decimal auto, got $status:" >&2; cat "$work/scales.err" >&2; exit 1; }
"$acass" export --port "$port" --table pq.scales --out "$work/scales.jsonl" -q
"$acass" export --port "$port" --table pq.scales --out "$work/scales.parquet" --row-group-rows 1 --fetch-size 1 -q --parquet-decimal text
"$node" "$here/check.mjs" --decimal-text de "$work/scales.parquet" "$work/scales.jsonl"
"$acass" export --port "$port" --table pq.scales --out "$work/scales.parquet" --row-group-rows 1 --fetch-size 1 -q 2>/dev/null
"$node" "$here/check.mjs" --decimal-text de "$work/scales.parquet" "$work/scales.jsonl"
echo "parquet readers OK"
