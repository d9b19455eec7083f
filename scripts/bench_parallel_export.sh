#!/usr/bin/env bash
# Parallel export and Parquet benchmarks (docs/benchmarks.md, "Parallel export and Parquet"):
#   1. acass export --splits S --concurrency C of the synthetic table on a 3-node acass-server,
#      S in 1 4 16, C in 1 2 4 (plus the single-stream export), CSV: rows/s from the summary line;
#   2. CSV vs Parquet (Snappy and uncompressed) of the same table: size and rows/s;
#   3. peak RSS of a 10M-row Parquet export with 16 MB and 128 MB row groups.
# Everything runs on this machine: client, server and any other load share the cores, so compare
# the ratios of one run, not absolute numbers across runs.
#   scripts/bench_parallel_export.sh [ROWS (default 2000000)] [BIG_ROWS (default 10000000)]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/lib/server.sh"
build="${BUILD_DIR:-$root/build}"
server="$build/bin/acass-server" acass="$build/bin/acass"
rows="${1:-2000000}" big_rows="${2:-10000000}"
work="$(mktemp -d)"
trap 'stop_acass_server; rm -rf "$work"' EXIT

summary() {  # runs an export, prints "rows/s size peak_rss" from its summary line
  "$acass" export --port "$ACASS_PORT" "$@" 2>"$work/summary.txt" >/dev/null
  sed -n 's/.* in \([0-9.]*\) s (\([0-9]*\) rows\/s.*peak RSS \([0-9.]*\) MB.*/\2 \1 \3/p' "$work/summary.txt"
}

start_acass_server "$server" "$work/server.log" --nodes 3 --synthetic "$rows"
echo "## export of $rows rows on --nodes 3 ($(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg))"
echo "| mode | splits | concurrency | rows/s | seconds | peak RSS MB |"
echo "|------|-------:|------------:|-------:|--------:|------------:|"
read -r rate secs rss < <(summary --table synthetic.rows --out "$work/out.csv")
echo "| single stream | - | - | $rate | $secs | $rss |"
for splits in 1 4 16; do
  for conc in 1 2 4; do
    read -r rate secs rss < <(summary --table synthetic.rows --out "$work/out.csv" --splits "$splits" --concurrency "$conc")
    echo "| --splits | $splits | $conc | $rate | $secs | $rss |"
  done
done

echo
echo "## CSV vs Parquet, $rows rows, --splits 16 --concurrency 4"
echo "| format | bytes | rows/s | seconds | peak RSS MB |"
echo "|--------|------:|-------:|--------:|------------:|"
for format in csv parquet parquet-none; do
  extra=(--format "${format%-none}")
  [[ "$format" == parquet-none ]] && extra+=(--parquet-compression none)
  read -r rate secs rss < <(summary --table synthetic.rows --out "$work/out.$format" --splits 16 --concurrency 4 "${extra[@]}")
  echo "| $format | $(stat -c %s "$work/out.$format") | $rate | $secs | $rss |"
  rm -f "$work/out.$format"
done
stop_acass_server

start_acass_server "$server" "$work/server.log" --synthetic "$big_rows"
echo
echo "## peak RSS of a $big_rows-row Parquet export (single node, single stream)"
echo "| row group size | bytes | rows/s | peak RSS MB |"
echo "|---------------:|------:|-------:|------------:|"
for group in 16MB 128MB; do
  read -r rate secs rss < <(summary --table synthetic.rows --out "$work/big.parquet" --row-group-size "$group")
  echo "| $group | $(stat -c %s "$work/big.parquet") | $rate | $rss |"
  rm -f "$work/big.parquet"
done
