#!/usr/bin/env bash
# Compression by extension: export to .gz and .zst (what gzip -d / zstd -d read back equals the
# plain export), load from them, a resumed compressed export (cut back to the last complete
# gzip member / zstd frame, then continued) equal to an uninterrupted one, and corrupt
# compressed input reported as a file error (exit 8), never as a short, successful load.
#   compression.sh ACASS_SERVER ACASS
server="$1" acass="$2"
source "$(dirname "$0")/lib.sh"
rows=20000
start_server --synthetic "$rows"
ex=("$acass" export --port "$port" --table synthetic.rows -q)
"${ex[@]}" --out "$work/plain.csv"
cql "CREATE KEYSPACE z WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"

for ext in gz zst; do
  case "$ext" in  # decoded by the standard tools, not by acass
    gz) decompress() { gzip -dc "$1"; } ;;
    zst) decompress() { zstd -dcq "$1"; } ;;
  esac
  "${ex[@]}" --out "$work/t.csv.$ext"
  (( $(stat -c %s "$work/t.csv.$ext") < $(stat -c %s "$work/plain.csv") / 2 )) || fail ".$ext output is not compressed"
  decompress "$work/t.csv.$ext" "$work/plain.csv" | cmp - "$work/plain.csv" || fail ".$ext export differs after decompression"
  # JSON lines by extension too (x.jsonl.gz is JSON lines).
  "${ex[@]}" --out "$work/t.jsonl.$ext"
  "${ex[@]}" --out "$work/t.jsonl" --format jsonl
  decompress "$work/t.jsonl.$ext" "$work/t.jsonl" | cmp - "$work/t.jsonl" || fail ".jsonl.$ext is not compressed JSON lines"
  # Resume: stopped after 5 pages, a torn tail appended, continued with another page size.
  expect_status 130 "${ex[@]}" --out "$work/r.csv.$ext" --resume-file "$work/r.$ext.resume" --stop-after-pages 5 --fetch-size 1000
  printf 'torn bytes' >>"$work/r.csv.$ext"
  "${ex[@]}" --out "$work/r.csv.$ext" --resume-file "$work/r.$ext.resume" --fetch-size 3000
  decompress "$work/r.csv.$ext" "$work/plain.csv" | cmp - "$work/plain.csv" || fail "resumed .$ext export differs"
  # Load from the compressed file.
  cql "CREATE TABLE z.t_$ext (pk bigint, ck int, name text, ts timestamp, value double, PRIMARY KEY (pk, ck))"
  expect_status 0 "$acass" load --port "$port" --table "z.t_$ext" --in "$work/r.csv.$ext" -q
  [[ "$("$acass" count --port "$port" --table "z.t_$ext" -q)" == "$rows" ]] || fail "load from .$ext: wrong row count"
  # Corrupt input: exit 8 with the reason.
  head -c 3000 "$work/t.csv.$ext" >"$work/cut.csv.$ext"
  status=0
  "$acass" load --port "$port" --table "z.t_$ext" --in "$work/cut.csv.$ext" -q 2>"$work/err" || status=$?
  [[ "$status" == 8 ]] || fail "truncated .$ext input: exit $status ($(cat "$work/err"))"
  grep -q "truncated\|corrupt" "$work/err" || fail "truncated .$ext input: $(cat "$work/err")"
done
echo "compression OK"
