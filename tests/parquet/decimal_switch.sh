#!/usr/bin/env bash
# A decimal and a varint column whose values stop fitting the DECIMAL chosen by the first row
# group (a decimal of another scale in the 9th row group, a 39-digit varint in the 12th): the
# Parquet export switches each to text for the whole file (rewriting the row groups written so
# far), warns on stderr, notes it in the footer and exits 0; both independent readers read every
# value back as the source's exact text. --parquet-decimal decimal refuses instead (exit 9).
# Stopped just before, at and after the switch, and interrupted by SIGINT / kill -9 at random
# moments, the resumed export gives exactly the rows of the uninterrupted one.
#   decimal_switch.sh ACASS_SERVER ACASS NODE
server="$1" acass="$2" node="$3"
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../cli/lib.sh"
# Pages of the export slowed a little so that a run lasts long enough to be interrupted.
start_server --fault "delay=15,pattern=FROM pq.sw"

cql "CREATE KEYSPACE pq WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
cql "CREATE TABLE pq.sw (id int PRIMARY KEY, de decimal, vi varint, t text)"
for i in $(seq 1 2400); do
  if (( i % 7 == 0 )); then
    printf '{"id": %d, "t": "row %d"}\n' $i $i
  else
    printf '{"id": %d, "de": %d.%d5, "vi": %d%012d, "t": "row %d"}\n' $i $(( i % 2 ? -i : i )) $(( i % 10 )) $i $i $i
  fi
done >"$work/rows.jsonl"
"$acass" load --port "$port" --table pq.sw --in "$work/rows.jsonl" --format jsonl -q
# In export order (the token order), row 1650 gets a scale-3 decimal, row 2250 a 39-digit varint.
"$acass" export --port "$port" --table pq.sw --out "$work/order.jsonl" -q
id_at() { sed -n "${1}p" "$work/order.jsonl" | sed 's/^{"id": \([0-9]*\),.*/\1/'; }
cql "UPDATE pq.sw SET de = -1.125 WHERE id = $(id_at 1650)"
cql "UPDATE pq.sw SET vi = 123456789012345678901234567890123456789 WHERE id = $(id_at 2250)"
"$acass" export --port "$port" --table pq.sw --out "$work/reference.jsonl" -q

# 200-row row groups of 100-row pages: the decimal switches in the 9th row group (8 written), the
# varint in the 12th (11 written).
options=(--fetch-size 100 --row-group-rows 200)
check() { "$node" "$here/check.mjs" --min-row-groups 12 --decimal-text de,vi "$1" "$work/reference.jsonl" >/dev/null \
  || fail "$1: the readers disagree with the source rows"; }
no_leftovers() { ! compgen -G "$1.acass-*" >/dev/null || fail "left behind: $(ls "$1".acass-*)"; }

"$acass" export --port "$port" --table pq.sw --out "$work/sw.parquet" "${options[@]}" -q 2>"$work/sw.err" \
  || { cat "$work/sw.err" >&2; fail "the export did not succeed"; }
grep -q "Parquet column de becomes text for the whole file: the decimal -1.125 has scale 3, not the scale of this file's DECIMAL(38, 2)" "$work/sw.err" \
  || { cat "$work/sw.err" >&2; fail "no warning for de"; }
grep -q "Parquet column vi becomes text for the whole file: the varint 1234567890123456789012345678901234567890* does not fit" "$work/sw.err" \
  || { cat "$work/sw.err" >&2; fail "no warning for vi"; }
check "$work/sw.parquet"
grep -aq "switched mid-file: the decimal -1.125 has scale 3" "$work/sw.parquet" || fail "no note for de in the footer"
grep -aq "switched mid-file: the varint 1234567890" "$work/sw.parquet" || fail "no note for vi in the footer"
no_leftovers "$work/sw.parquet"

# Asked for DECIMAL explicitly: the value that does not fit stops the export (exit 9).
status=0
"$acass" export --port "$port" --table pq.sw --out "$work/strict.parquet" "${options[@]}" --parquet-decimal decimal -q \
  2>"$work/strict.err" || status=$?
[[ $status == 9 ]] && grep -q "column de: the decimal -1.125 does not fit this file's DECIMAL(38, 2) exactly" "$work/strict.err" \
  || { cat "$work/strict.err" >&2; fail "--parquet-decimal decimal: expected exit 9, got $status"; }

# Stopped after the 16th page (before the de switch), the 17th (it holds the switching value;
# the stop writes its rows as a row group, so the file is rewritten), the 18th and the 23rd (the
# varint switch), then resumed to the end.
for stop in 16 17 18 23; do
  out="$work/stop$stop.parquet"
  status=0
  "$acass" export --port "$port" --table pq.sw --out "$out" --resume-file "$out.resume" "${options[@]}" -q \
    --stop-after-pages $stop 2>/dev/null || status=$?
  [[ $status == 130 ]] || fail "--stop-after-pages $stop: exit $status"
  "$acass" export --port "$port" --table pq.sw --out "$out" --resume-file "$out.resume" "${options[@]}" -q 2>/dev/null \
    || fail "resume after --stop-after-pages $stop failed"
  check "$out"
  no_leftovers "$out"
done

# SIGINT and kill -9 at random moments (kill -9 first, then alternating), resumed until done.
out="$work/killed.parquet"
done=""
for attempt in $(seq 1 14); do
  "$acass" export --port "$port" --table pq.sw --out "$out" --resume-file "$out.resume" "${options[@]}" -q 2>"$work/killed.err" &
  pid=$!
  signal=INT
  (( attempt % 2 == 1 )) && signal=KILL
  sleep "0.$(( RANDOM % 5 + 1 ))"
  kill -s "$signal" "$pid" 2>/dev/null || true
  status=0
  wait "$pid" || status=$?
  case "$status" in
    0) done=yes; break ;;
    130 | 137) ;;
    *) cat "$work/killed.err" >&2; fail "export exited $status (attempt $attempt)" ;;
  esac
done
if [[ -z "$done" ]]; then  # a slow machine: finish without interruption
  "$acass" export --port "$port" --table pq.sw --out "$out" --resume-file "$out.resume" "${options[@]}" -q 2>/dev/null \
    || fail "the last resume failed"
fi
check "$out"
no_leftovers "$out"
echo "parquet decimal switch OK"
