#!/usr/bin/env bash
# Memory: `acass load` and `acass export` of one 50 MB text value stay within 2.5x the value
# (issue 13), over v4 and v5. The peak RSS (/usr/bin/time) of each run, less the peak of the
# same command on a one-byte value (the binary, its libraries and threads), must be at most 2.5x
# the value. Load holds 2x: the statement kept for retries and the reject file, from which the
# driver encodes the request (Session::try_execute of a shared BoundStatement), and the request
# frame. Export holds 1x (the response: a large value is written out straight from it). Before
# the fixes load took 4x (the frame buffer doubled while the value was encoded; v5 segments were
# a second copy of the frame), then 3x (try_execute took its own copy of the statement), export
# 3x (the CSV line doubled; again when the line's buffer was sized exactly for the value and the
# newline after it doubled it).
#   large_value.sh ACASS_SERVER ACASS
server="$1" acass="$2"
source "$(dirname "$0")/lib.sh"
[[ -x /usr/bin/time ]] || fail "/usr/bin/time is missing (Debian package 'time')"

value_bytes=$((50 * 1024 * 1024))
{ printf 'id,v\n1,'; head -c "$value_bytes" /dev/zero | tr '\0' 'a'; printf '\n'; } >"$work/big.csv"
printf 'id,v\n1,a\n' >"$work/tiny.csv"

start_server
cql "CREATE KEYSPACE lv WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"

peak_kb() {  # peak_kb COMMAND...: runs COMMAND (exit 0 required), prints its peak RSS in KB
  local status=0
  /usr/bin/time -f "%M" -o "$work/time" "$@" 2>"$work/err" || status=$?
  [[ "$status" == 0 ]] || fail "exit $status from: $* ($(cat "$work/err"))"
  tail -1 "$work/time"
}

# check NAME BASELINE_KB PEAK_KB LIMIT: the peak above the baseline is at most LIMIT (in
# tenths: 25 is 2.5x) times the value.
check() {
  local extra=$(($3 - $2)) limit="$4"
  local ratio
  ratio="$(awk -v e="$extra" -v v="$value_bytes" 'BEGIN { printf "%.2f", e * 1024 / v }')"
  echo "$1: peak ${3} KB, baseline ${2} KB, ${ratio}x the value"
  ((extra * 1024 * 10 <= limit * value_bytes)) ||
    fail "$1 held ${ratio}x the 50 MB value (limit $((limit / 10)).$((limit % 10))x)"
}

for version in 4 5; do
  cql "CREATE TABLE lv.big$version (id int PRIMARY KEY, v text)"
  cql "CREATE TABLE lv.tiny$version (id int PRIMARY KEY, v text)"
  load=("$acass" load --port "$port" --protocol-version "$version" -q)
  base="$(peak_kb "${load[@]}" --table "lv.tiny$version" --in "$work/tiny.csv")"
  peak="$(peak_kb "${load[@]}" --table "lv.big$version" --in "$work/big.csv")"
  check "load v$version" "$base" "$peak" 25

  export=("$acass" export --port "$port" --protocol-version "$version" -q)
  base="$(peak_kb "${export[@]}" --table "lv.tiny$version" --out "$work/tiny-out.csv")"
  peak="$(peak_kb "${export[@]}" --table "lv.big$version" --out "$work/big-out.csv")"
  check "export v$version" "$base" "$peak" 25
  cmp -s "$work/big.csv" "$work/big-out.csv" || fail "export v$version: the value did not come back as loaded"
  rm -f "$work/big-out.csv"
done
echo "large value OK"
