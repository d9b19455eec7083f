#!/usr/bin/env bash
# A Parquet export's memory is bounded by its row group, not by the table: the same export
# (small row groups: --row-group-size 2MB) of a synthetic table of 400,000 rows and of one of
# 1,600,000 rows reaches about the same peak RSS (within 6 MB), while the file is 4 times larger
# and larger than that peak. (The 10M-row figures are the benchmark in docs/benchmarks.md.)
#   bounded_memory.sh ACASS_SERVER ACASS NODE
server="$1" acass="$2" node="$3"
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../cli/lib.sh"

peak_of() {  # rows: exports synthetic.rows, prints "peak_rss_mb file_bytes"
  start_server --synthetic "$1"
  "$acass" export --port "$port" --table synthetic.rows --out "$work/t.parquet" --row-group-size 2MB \
    2>"$work/summary" || fail "export of $1 rows failed: $(cat "$work/summary")"
  local rss
  rss="$(sed -n 's/.*peak RSS \([0-9.]*\) MB.*/\1/p' "$work/summary")"
  [[ -n "$rss" ]] || fail "no peak RSS in: $(cat "$work/summary")"
  echo "$rss $(stat -c %s "$work/t.parquet")"
  rm -f "$work/t.parquet"
  kill "$server_pid" && wait "$server_pid" 2>/dev/null
}
read -r small_rss small_bytes < <(peak_of 400000)
read -r big_rss big_bytes < <(peak_of 1600000)
echo "400k rows: peak RSS $small_rss MB, $small_bytes bytes; 1.6M rows: peak RSS $big_rss MB, $big_bytes bytes"
awk -v a="$small_rss" -v b="$big_rss" 'BEGIN { exit !(b - a < 6) }' || fail "peak RSS grew with the table: $small_rss -> $big_rss MB"
awk -v r="$big_rss" -v f="$big_bytes" 'BEGIN { exit !(r * 1048576 < f) }' || fail "peak RSS $big_rss MB is not below the file size $big_bytes"
(( big_bytes > 3 * small_bytes )) || fail "the larger export is not larger: $small_bytes vs $big_bytes"
echo "bounded memory OK"
