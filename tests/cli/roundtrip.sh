#!/usr/bin/env bash
# CSV round trip: export table A (every scalar CQL type, collections, a tuple, NULLs and strings
# with commas, quotes and newlines), load the file into table B of the same schema, export B:
# the two files must be identical. The same with JSON lines.
#   roundtrip.sh ACASS_SERVER ACASS
server="$1" acass="$2"
source "$(dirname "$0")/lib.sh"
start_server

columns="id int, a ascii, bi bigint, bl blob, bo boolean, d date, de decimal, db double, du duration,
  f float, ip inet, si smallint, t text, tm time, ts timestamp, tu timeuuid, ti tinyint, u uuid,
  vc varchar, vi varint, l list<text>, s set<int>, m map<text, int>, tp tuple<int, text>"
cql "CREATE KEYSPACE rt WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
for table in a b c; do
  cql "CREATE TABLE rt.$table ($columns, PRIMARY KEY (id))"
done

insert="INSERT INTO rt.a (id, a, bi, bl, bo, d, de, db, du, f, ip, si, t, tm, ts, tu, ti, u, vc, vi, l, s, m, tp)"
cql "$insert VALUES (1, 'plain', 9223372036854775807, 0xcafe, true, '2024-02-29', 123.456, 3.141592653589793,
  1y2mo3d4h5m6s7ms8us9ns, 1.5, '192.168.0.1', 32767, 'comma, \"quote\" and ''apostrophe''', '13:14:15.123456789',
  '2024-01-02T03:04:05.678Z', 50554d6e-29bb-11e5-b345-feff819cdc9f, -128, 123e4567-e89b-12d3-a456-426614174000,
  'line one
line two', -123456789012345678901234567890, ['x', 'y, z'], {3, 1, 2}, {'k1': 1, 'k,2': 2}, (7, 'seven'))"
cql "$insert VALUES (2, '', -9223372036854775808, 0x, false, '1970-01-01', -0.001, -1.0E-300, -3d, -0.0,
  '::1', -32768, '', '00:00:00', '1969-12-31T23:59:59.999Z', 00000000-0000-1000-8000-000000000000, 127,
  00000000-0000-0000-0000-000000000000, 'tab	and \\ backslash', 0, [], {}, {}, (null, ''))"
cql "INSERT INTO rt.a (id) VALUES (3)"   # every other column NULL
cql "INSERT INTO rt.a (id, t, db, f, l) VALUES (4, '\"', NaN, Infinity, ['', '\"', 'a''b'])"
cql "INSERT INTO rt.a (id, t, vc) VALUES (5, 'ünïcödé ✓', 'null')"

"$acass" export --port "$port" --table rt.a --out "$work/a.csv" --fetch-size 2 -q
[[ "$(grep -c '' "$work/a.csv")" -gt 5 ]] || fail "a.csv is too short"
"$acass" load --port "$port" --table rt.b --in "$work/a.csv" --reject-file "$work/b.rejects" -q ||
  { cat "$work/b.rejects" >&2; fail "loading a.csv into rt.b rejected records"; }
[[ ! -s "$work/b.rejects" ]] || fail "reject file not empty"
"$acass" export --port "$port" --table rt.b --out "$work/b.csv" -q
cmp "$work/a.csv" "$work/b.csv" || { diff "$work/a.csv" "$work/b.csv" >&2 || true; fail "CSV round trip differs"; }
expected_field="\"comma, \"\"quote\"\" and 'apostrophe'\""
grep -qF "$expected_field" "$work/a.csv" || fail "quoting of commas and quotes not as expected"
grep -q '^3,,,,,,' "$work/a.csv" || fail "NULL cells are not empty fields"

# The same through JSON lines (loaded into rt.c, exported again as CSV to compare with a.csv).
"$acass" export --port "$port" --table rt.a --out "$work/a.jsonl" --format jsonl -q
"$acass" load --port "$port" --table rt.c --in "$work/a.jsonl" --format jsonl --batch-size 2 -q
"$acass" export --port "$port" --table rt.c --out "$work/c.csv" -q
cmp "$work/a.csv" "$work/c.csv" || { diff "$work/a.csv" "$work/c.csv" >&2 || true; fail "JSON lines round trip differs"; }
records="$("$acass" count --port "$port" --table rt.c -q)"
[[ "$records" == 5 ]] || fail "rt.c has $records rows, expected 5"
echo "round trips OK: $records records, $(head -1 "$work/a.csv" | tr ',' '\n' | wc -l) columns"
