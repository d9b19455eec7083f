#!/usr/bin/env bash
# acass count --splits: scan_table's count mode (one SELECT count(*) per token range, counted by
# the nodes) on a 3-node acass-server equals the streamed count and the server-side COUNT(*) of
# the synthetic table, for several split/concurrency settings; each range answers with one row
# (one page per range: the rows themselves never cross the wire). The ranges are aligned to the
# nodes' tokens (split_token_ring_aligned), so about N of them.
#   parallel_count.sh ACASS_SERVER ACASS
server="$1" acass="$2"
source "$(dirname "$0")/lib.sh"
rows=2000000
start_server --nodes 3 --synthetic "$rows"

plain="$("$acass" count --port "$port" --table synthetic.rows -q)"
[[ "$plain" == "$rows" ]] || fail "streamed count: $plain"
[[ "$("$acass" count --port "$port" --table synthetic.rows --server-side -q)" == "$rows" ]] || fail "server-side count"
for sc in "16 4" "1 1" "37 3" "64 16"; do
  read -r splits conc <<<"$sc"
  "$acass" count --port "$port" --table synthetic.rows --splits "$splits" --concurrency "$conc" \
    >"$work/n" 2>"$work/summary"
  [[ "$(cat "$work/n")" == "$plain" ]] || fail "count --splits $splits --concurrency $conc: $(cat "$work/n"), plain $plain"
  # The ranges are aligned to the 3 nodes' tokens (none straddles two owners, so each is
  # counted by a replica of all of it): about N of them, at least one per owner range.
  ranges=$(sed -n "s/^acass count: $rows rows of synthetic.rows in \([0-9]*\) pages, \1 token ranges ($conc at once).*/\1/p" "$work/summary")
  [[ -n "$ranges" ]] || fail "count mode (one count row per range) not used: $(cat "$work/summary")"
  (( ranges >= splits - 3 && ranges <= splits + 3 )) || fail "--splits $splits: $ranges aligned ranges: $(cat "$work/summary")"
  # --splits 1: one range per owner range of the 3 nodes' tokens (each node owns one range here),
  # which needs every node's token (system.local and system.peers may come from different nodes).
  (( splits > 1 || ranges == 3 )) || fail "--splits 1: $ranges ranges, not one per node: $(cat "$work/summary")"
done

# A table of our own, rows spread over the ring by a composite partition key.
cql "CREATE KEYSPACE pc WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
cql "CREATE TABLE pc.t (a int, b text, c int, PRIMARY KEY ((a, b), c))"
for i in $(seq 1 400); do printf '{"a": %d, "b": "k%d", "c": %d}\n' $((i % 53)) $((i % 7)) "$i"; done >"$work/t.jsonl"
"$acass" load --port "$port" --table pc.t --in "$work/t.jsonl" --format jsonl -q
[[ "$("$acass" count --port "$port" --table pc.t --splits 9 --concurrency 3 -q)" == 400 ]] || fail "pc.t count mode"
[[ "$("$acass" count --port "$port" --table pc.t -q)" == 400 ]] || fail "pc.t streamed count"
echo "parallel count OK"
