#!/usr/bin/env bash
# CSV files as users meet them: a spreadsheet export (UTF-8 BOM, CRLF, "ID, Name" header with
# spaces and capitals, a JSON list column, empty fields as NULL); files without a header
# (--header false --columns); other delimiters, quotes, escapes and null strings, on load and
# export; tuples and UDTs as JSON; --skip-records/--max-records; several files and a glob;
# export --columns/--where.
#   csv_dialects.sh ACASS_SERVER ACASS
server="$1" acass="$2"
source "$(dirname "$0")/lib.sh"
start_server
cql "CREATE KEYSPACE cd WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
cql "CREATE TYPE cd.point (x int, label text)"
for t in sheet plain multi; do
  cql "CREATE TABLE cd.$t (id int PRIMARY KEY, name text, tags list<text>, score double)"
done
cql "CREATE TABLE cd.nested (id int PRIMARY KEY, pair tuple<int, text>, p frozen<point>, m map<text, int>)"
q() { "$acass" query --port "$port" -f json "$1"; }
load=("$acass" load --port "$port" -q)

# 1. The spreadsheet file.
printf '\xef\xbb\xbfID, Name ,Tags,SCORE\r\n1,Ann,"[""a"", ""b""]",1.5\r\n2,,,\r\n3,"Bob, Jr.","[""x""]",3\r\n' >"$work/sheet.csv"
expect_status 0 "${load[@]}" --table cd.sheet --in "$work/sheet.csv" --reject-file "$work/r1"
[[ "$(q "SELECT id, name, tags, score FROM cd.sheet WHERE id = 1")" == '{"id": 1, "name": "Ann", "tags": ["a", "b"], "score": 1.5}' ]] ||
  fail "spreadsheet row 1: $(q "SELECT * FROM cd.sheet WHERE id = 1")"
[[ "$(q "SELECT id, name, tags, score FROM cd.sheet WHERE id = 2")" == '{"id": 2, "name": null, "tags": null, "score": null}' ]] ||
  fail "spreadsheet row 2 (empty fields are NULL): $(q "SELECT * FROM cd.sheet WHERE id = 2")"
[[ "$(q "SELECT name, tags FROM cd.sheet WHERE id = 3")" == '{"name": "Bob, Jr.", "tags": ["x"]}' ]] ||
  fail "spreadsheet row 3: $(q "SELECT * FROM cd.sheet WHERE id = 3")"
# A header that names no column is refused before anything loads (exit 2), naming the columns.
printf 'id,nmae\n1,x\n' >"$work/typo.csv"
expect_status 2 "${load[@]}" --table cd.plain --in "$work/typo.csv" 2>"$work/typo.err"
grep -qF "'nmae' is not a column of cd.plain (columns: id, name, score, tags)" "$work/typo.err" ||
  fail "unknown header column message: $(cat "$work/typo.err")"

# 2. No header, semicolons, single quotes with backslash escapes, NULL spelled out.
cat >"$work/plain.txt" <<'TXT'
10;'it\'s; fine';NULL;NULL
11;NULL;["p"];2.5
12;'';NULL;NULL
TXT
expect_status 0 "${load[@]}" --table cd.plain --in "$work/plain.txt" --header false --columns 'id, name,TAGS, score' \
  --delimiter ';' --quote "'" --escape '\' --null-string NULL
[[ "$(q "SELECT name, tags FROM cd.plain WHERE id = 10")" == '{"name": "it'"'"'s; fine", "tags": null}' ]] ||
  fail "headerless row 10: $(q "SELECT * FROM cd.plain WHERE id = 10")"
[[ "$(q "SELECT name FROM cd.plain WHERE id = 11")" == '{"name": null}' ]] || fail "NULL string not read as NULL"
[[ "$(q "SELECT name FROM cd.plain WHERE id = 12")" == '{"name": ""}' ]] || fail "quoted empty string not kept"
# Exported in the same dialect and loaded back: the same file.
"$acass" export --port "$port" --table cd.plain --out "$work/p.txt" --header false --delimiter ';' --quote "'" \
  --escape '\' --null-string NULL -q
grep -qx "10;'it\\\\'s; fine';NULL;NULL" "$work/p.txt" || fail "export dialect: $(cat "$work/p.txt")"
cql "TRUNCATE cd.plain"
"${load[@]}" --table cd.plain --in "$work/p.txt" --header false --delimiter ';' --quote "'" --escape '\' --null-string NULL
"$acass" export --port "$port" --table cd.plain --out "$work/p2.txt" --header false --delimiter ';' --quote "'" \
  --escape '\' --null-string NULL -q
cmp "$work/p.txt" "$work/p2.txt" || fail "dialect round trip differs"
# Tab-separated, with --delimiter '\t'.
printf 'id\tname\n20\ttabbed\n' >"$work/t.tsv"
expect_status 0 "${load[@]}" --table cd.plain --in "$work/t.tsv" --delimiter '\t'
[[ "$(q "SELECT name FROM cd.plain WHERE id = 20")" == '{"name": "tabbed"}' ]] || fail "tab-separated input"

# 3. Tuples, UDTs and maps as JSON or as CQL literals.
cat >"$work/nested.csv" <<'CSV'
id,pair,p,m
1,"[1, ""one""]","{""x"": 5, ""label"": ""five""}","{""a"": 1}"
2,"(2, 'two')","{x: 6, label: 'six'}","{'b': 2}"
CSV
expect_status 0 "${load[@]}" --table cd.nested --in "$work/nested.csv"
[[ "$(q "SELECT pair, p, m FROM cd.nested WHERE id = 1")" == "$(q "SELECT pair, p, m FROM cd.nested WHERE id = 1")" ]]
q "SELECT pair, p, m FROM cd.nested WHERE id = 1" | grep -q '"pair": \[1, "one"\], "p": {"x": 5, "label": "five"}, "m": {"a": 1}' ||
  fail "JSON tuple/UDT/map: $(q "SELECT * FROM cd.nested WHERE id = 1")"
q "SELECT pair, p, m FROM cd.nested WHERE id = 2" | grep -q '"pair": \[2, "two"\], "p": {"x": 6, "label": "six"}, "m": {"b": 2}' ||
  fail "CQL tuple/UDT/map: $(q "SELECT * FROM cd.nested WHERE id = 2")"

# 4. --skip-records / --max-records, several files and a glob.
{ echo "id,name"; for i in 1 2 3 4 5 6 7 8; do echo "$i,n$i"; done; } >"$work/part-1.csv"
{ echo "id,name"; for i in 9 10 11; do echo "$i,n$i"; done; } >"$work/part-2.csv"
expect_status 0 "${load[@]}" --table cd.multi --in "$work/part-1.csv" --skip-records 2 --max-records 3
[[ "$(q "SELECT id FROM cd.multi" | tr -dc '0-9\n' | sort -n | tr '\n' ' ')" == "3 4 5 " ]] ||
  fail "skip 2 / max 3 loaded: $(q "SELECT id FROM cd.multi")"
cql "TRUNCATE cd.multi"
expect_status 0 "${load[@]}" --table cd.multi --in "$work/part-*.csv"
[[ "$("$acass" count --port "$port" --table cd.multi -q)" == 11 ]] || fail "glob: not 11 rows"
cql "TRUNCATE cd.multi"
expect_status 0 "${load[@]}" --table cd.multi --in "$work/part-2.csv" "$work/part-1.csv"
[[ "$("$acass" count --port "$port" --table cd.multi -q)" == 11 ]] || fail "two --in files: not 11 rows"

# 5. export --columns and --where.
"$acass" export --port "$port" --table cd.multi --columns 'name, id' --where 'id = 3' --out "$work/w.csv" -q
[[ "$(cat "$work/w.csv")" == $'name,id\nn3,3' ]] || fail "export --columns --where: $(cat "$work/w.csv")"
echo "CSV dialects OK"
