#!/usr/bin/env bash
# acass export given one contact point (--host 127.0.0.1) of a 3-node server: node 1 — the
# contact point, which also holds the export's control connection — is stopped while the export
# runs. The export must complete on the other nodes (exit 0) with every row exactly once, each
# as the generator defines it; once as one stream, once as a parallel export (--splits).
#   export_failover.sh ACASS_SERVER ACASS
server="$1" acass="$2"
source "$(dirname "$0")/lib.sh"
rows=200000

# checks FILE: a header, then each synthetic row exactly once (pk, ck, name-pk-ck, value).
checks() {
  local file="$1"
  [[ "$(head -1 "$file")" == "pk,ck,name,ts,value" ]] || fail "$file: header $(head -1 "$file")"
  local report
  report="$(tail -n +2 "$file" | awk -F, -v rows="$rows" '
    { idx = $1 * 100 + $2
      if ($3 != "name-" $1 "-" $2) bad++
      if ($5 + 0 != $1 * 0.5 + $2) bad++
      if (idx < 0 || idx >= rows) bad++
      else if (seen[idx]++) dup++
      n++ }
    END { printf "lines=%d distinct=%d duplicates=%d bad=%d\n", n, length(seen), dup, bad }')"
  [[ "$report" == "lines=$rows distinct=$rows duplicates=0 bad=0" ]] || fail "$file: $report"
}

# run_with_stop NAME ACASS-EXPORT-FLAGS...: starts the export, stops node 1 once a tenth of the
# rows are written, restarts node 1 after the export, checks the file.
run_with_stop() {
  local name="$1"
  shift
  local out="$work/$name.csv"
  "$acass" export --host 127.0.0.1 --port "$port" --table synthetic.rows --out "$out" "$@" -q 2>"$work/$name.err" &
  local pid=$! lines=0
  for _ in $(seq 1 600); do
    lines="$( (wc -l <"$out") 2>/dev/null || echo 0)"
    ((lines > rows / 10)) && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.02
  done
  kill -0 "$pid" 2>/dev/null || fail "$name: the export ended before node 1 could be stopped (lines: $lines): $(cat "$work/$name.err")"
  ((lines < rows)) || fail "$name: nothing left to export when node 1 stopped"
  echo "stop 1" >&3
  local status=0
  wait "$pid" || status=$?
  [[ "$status" == 0 ]] || fail "$name: export exit $status after the contact point stopped: $(cat "$work/$name.err")"
  echo "restart 1" >&3
  checks "$out"
  echo "$name: node 1 stopped after $lines of $rows lines; export complete"
}

# A server whose nodes can be stopped: commands on its standard input (a FIFO kept open here).
# Pages are slowed (5 ms) so that the export lasts long enough to lose a node mid-way.
mkfifo "$work/control"
exec 3<>"$work/control"
ACASS_SERVER_STDIN="$work/control" start_server --nodes 3 --synthetic "$rows" \
  --fault 'delay_pages=5,pattern=synthetic.rows' --control-stdin

run_with_stop stream --fetch-size 1000
sleep 0.5  # node 1's restart announced before the next run picks it as contact point again
run_with_stop splits --fetch-size 1000 --splits 8 --concurrency 3
