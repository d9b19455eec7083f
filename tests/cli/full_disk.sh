#!/usr/bin/env bash
# Honest exits: a write that fails (a full disk) is exit 8 with the OS reason, for every
# subcommand and format: query (table, CSV, JSON), count, export (CSV, JSON lines, gzip, Avro,
# Parquet), load's reject file. /dev/full fails every write with ENOSPC; a 64 KB tmpfs (when this user
# may mount one) shows the same for files that fill up part way, Avro included.
#   full_disk.sh ACASS_SERVER ACASS [AVRO_DUMP]
server="$1" acass="$2" avro_dump="${3:-}"
source "$(dirname "$0")/lib.sh"
start_server --synthetic 20000
[[ -w /dev/full ]] || fail "/dev/full is missing"

full() {  # full COMMAND...: exit 8 and "No space left on device" on stderr
  local got=0
  "$@" 2>"$work/err" || got=$?
  [[ "$got" == 8 ]] || fail "expected exit 8, got $got from: $* ($(cat "$work/err"))"
  grep -q 'No space left on device' "$work/err" || fail "no OS reason from '$*': $(cat "$work/err")"
}
q=("$acass" query --port "$port")
full "${q[@]}" "SELECT * FROM synthetic.rows" >/dev/full
full "${q[@]}" -f csv "SELECT * FROM synthetic.rows" >/dev/full
full "${q[@]}" -f json "SELECT * FROM synthetic.rows WHERE pk = 1" >/dev/full
full "$acass" count --port "$port" --table synthetic.rows >/dev/full
ex=("$acass" export --port "$port" --table synthetic.rows -q)
full "${ex[@]}" --out - >/dev/full
full "${ex[@]}" --out /dev/full
full "${ex[@]}" --out /dev/full --format jsonl
full "${ex[@]}" --out - --format jsonl >/dev/full
full "${ex[@]}" --out /dev/full --format parquet
[[ -z "$avro_dump" ]] || full "${ex[@]}" --out /dev/full --format avro
cql "CREATE KEYSPACE fd WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
cql "CREATE TABLE fd.t (id int PRIMARY KEY)"
printf 'id\n1\nx\n' >"$work/in.csv"
full "$acass" load --port "$port" --table fd.t --in "$work/in.csv" --reject-file /dev/full -q

# A small filesystem that fills up part way (root, or a user allowed to mount).
mkdir -p "$work/small"
if mount -t tmpfs -o size=64k tmpfs "$work/small" 2>/dev/null; then
  trap 'umount "$work/small" 2>/dev/null || true; cleanup' EXIT
  full "${ex[@]}" --out "$work/small/x.csv"
  rm -f "$work/small/"*
  full "${ex[@]}" --out "$work/small/x.csv.gz"
  rm -f "$work/small/"*
  full "${q[@]}" "SELECT * FROM synthetic.rows" >"$work/small/q.txt"
  rm -f "$work/small/"*
  if [[ -n "$avro_dump" ]]; then
    ACASS_AVRO_CODEC=null full "${ex[@]}" --out "$work/small/x.avro" --format avro
    rm -f "$work/small/"*
  fi
  umount "$work/small"
  echo "full disk OK (/dev/full and a 64 KB tmpfs)"
else
  echo "full disk OK (/dev/full only: mounting a tmpfs is not allowed here)"
fi
