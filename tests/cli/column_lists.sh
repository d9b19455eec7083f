#!/usr/bin/env bash
# --columns of acass export (plain and --splits) and acass load: the comma-separated list's edges.
# Names are split at every comma and trimmed of spaces and tabs; an empty name anywhere (a leading,
# trailing or doubled comma, a blank list) is refused with exit 2 before any row moves; an empty
# --columns means "no list" (every column).
#   column_lists.sh ACASS_SERVER ACASS [AVRO_DUMP]
server="$1" acass="$2"
source "$(dirname "$0")/lib.sh"
start_server
cql "CREATE KEYSPACE cl WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
cql "CREATE TABLE cl.t (id int PRIMARY KEY, name text)"
cql "INSERT INTO cl.t (id, name) VALUES (1, 'one')"
printf '2,two\n' >"$work/in.csv"

# expect CODE COMMAND...: exit status CODE; a refusal (2) names --columns on stderr.
expect() {
  local want="$1"
  shift
  local got=0
  "$@" >/dev/null 2>"$work/err" || got=$?
  [[ "$got" == "$want" ]] || fail "expected exit $want, got $got from: $* ($(cat "$work/err"))"
  [[ "$want" != 2 ]] || grep -q -- '--columns' "$work/err" || fail "stderr of '$*' does not name --columns: $(cat "$work/err")"
}
export_columns() {
  rm -f "$work/out.csv" "$work/out.csv.resume"
  "$acass" export --port "$port" --table cl.t --out "$work/out.csv" -q "$@"
}
load_columns() {
  "$acass" load --port "$port" --table cl.t --in "$work/in.csv" --header false -q --columns "$@"
}

for splits in "" "--splits 2"; do
  # shellcheck disable=SC2086  # $splits is zero or two words
  {
    expect 0 export_columns $splits --columns 'id,name'
    [[ "$(head -1 "$work/out.csv")" == "id,name" ]] || fail "header $(head -1 "$work/out.csv")"
    expect 0 export_columns $splits --columns $' id ,\tname '
    [[ "$(head -1 "$work/out.csv")" == "id,name" ]] || fail "trimmed header $(head -1 "$work/out.csv")"
    expect 0 export_columns $splits --columns 'name'
    [[ "$(head -1 "$work/out.csv")" == "name" ]] || fail "one column: $(head -1 "$work/out.csv")"
    expect 0 export_columns $splits --columns ''
    [[ "$(head -1 "$work/out.csv")" == "id,name" ]] || fail "no list: $(head -1 "$work/out.csv")"
    for bad in 'id,' ',id' 'id,,name' ',' ' ' 'id, ,name'; do
      expect 2 export_columns $splits --columns "$bad"
    done
  }
done

expect 0 load_columns 'id,name'
expect 0 load_columns $' id ,\tname '
expect 0 load_columns ''  # no list: the table's columns, in order
for bad in 'id,' ',id' 'id,,name' ',' ' ' 'id, ,name'; do
  expect 2 load_columns "$bad"
done
# Only the accepted loads wrote (all the same row).
[[ "$("$acass" query --port "$port" "SELECT count(*) FROM cl.t" | grep -Eo '^[0-9]+' | head -1)" == 2 ]] ||
  fail "rows after the loads: $("$acass" query --port "$port" "SELECT count(*) FROM cl.t")"
echo "column_lists: ok"
