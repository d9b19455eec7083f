#!/usr/bin/env bash
# acass query: DDL and DML print nothing, SELECT prints an aligned table (default), CSV or JSON
# lines, and a large result is streamed page by page (every row printed, memory bounded).
#   query.sh ACASS_SERVER ACASS
server="$1" acass="$2"
source "$(dirname "$0")/lib.sh"
rows=30000
start_server --synthetic "$rows"
q=("$acass" query --port "$port")

[[ -z "$("${q[@]}" "CREATE KEYSPACE qk WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")" ]] ||
  fail "DDL printed something"
"${q[@]}" "CREATE TABLE qk.t (id int PRIMARY KEY, name text, n bigint)"
"${q[@]}" "INSERT INTO qk.t (id, name, n) VALUES (1, 'a', 10)"
"${q[@]}" "INSERT INTO qk.t (id, name, n) VALUES (22, 'longer name', NULL)"

# Aligned table: header, rule, rows padded to the widest cell, row count.
"${q[@]}" --keyspace qk "SELECT id, name, n FROM t" >"$work/table.txt"
cat >"$work/expected.txt" <<'TXT'
id | name        | n
---+-------------+-----
1  | a           | 10
22 | longer name | null

(2 rows)
TXT
sort_body() { head -2 "$1"; sed -n '3,4p' "$1" | sort; tail -2 "$1"; }
diff <(sort_body "$work/expected.txt") <(sort_body "$work/table.txt") || fail "table output differs"

[[ "$("${q[@]}" "SELECT * FROM qk.t WHERE id = 3")" == "(0 rows)" ]] || fail "empty SELECT should say (0 rows)"
[[ "$("${q[@]}" -f csv "SELECT id, name, n FROM qk.t WHERE id = 22")" == $'id,name,n\n22,longer name,' ]] ||
  fail "csv output"
[[ "$("${q[@]}" -f json "SELECT id, name, n FROM qk.t WHERE id = 1")" == '{"id": 1, "name": "a", "n": 10}' ]] ||
  fail "json output"

# A large result streams: every row arrives, in pages of --fetch-size.
"${q[@]}" -f csv --fetch-size 1000 "SELECT pk, ck FROM synthetic.rows" >"$work/big.csv"
[[ "$(wc -l <"$work/big.csv")" == $((rows + 1)) ]] || fail "streamed CSV has $(wc -l <"$work/big.csv") lines"
[[ "$(sort -u "$work/big.csv" | wc -l)" == $((rows + 1)) ]] || fail "streamed CSV has duplicate rows"
"${q[@]}" --fetch-size 700 "SELECT pk, ck, name FROM synthetic.rows" >"$work/big.txt"
[[ "$(tail -1 "$work/big.txt")" == "($rows rows)" ]] || fail "table footer: $(tail -1 "$work/big.txt")"
[[ "$(wc -l <"$work/big.txt")" == $((rows + 4)) ]] || fail "table of a large result has the wrong line count"
echo "query OK"
