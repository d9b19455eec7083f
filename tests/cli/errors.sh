#!/usr/bin/env bash
# Exit codes (tools/README.md): 2 bad flags, 3 unreachable host, 4 authentication failure,
# 5 bad CQL / unknown table or keyspace, 8 file errors, 9 a value the output format cannot hold
# (Avro); each with a message on stderr.
#   errors.sh ACASS_SERVER ACASS [AVRO_DUMP]
server="$1" acass="$2" avro_dump="${3:-}"
source "$(dirname "$0")/lib.sh"
start_server --auth "cassandra:secret"
echo secret >"$work/good"
echo wrong >"$work/bad"
auth=(--port "$port" --user cassandra --password-file "$work/good")

# expect CODE PATTERN COMMAND...: exit status CODE and PATTERN in stderr.
expect() {
  local want="$1" pattern="$2"
  shift 2
  local got=0
  "$@" >/dev/null 2>"$work/err" || got=$?
  [[ "$got" == "$want" ]] || fail "expected exit $want, got $got from: $* ($(cat "$work/err"))"
  [[ "$pattern" == - ]] || grep -Eq "$pattern" "$work/err" || fail "stderr of '$*' lacks '$pattern': $(cat "$work/err")"
}

expect 0 - "$acass" query "${auth[@]}" "SELECT key FROM system.local"
# Bad flags (CLI11 and our own checks).
expect 2 'A subcommand is required' "$acass"
expect 2 'unrecognized|not expected|Extras' "$acass" query --port "$port" --no-such-flag "SELECT 1"
expect 2 'cql is required' "$acass" query --port "$port"
expect 2 'protocol-version' "$acass" query --protocol-version 3 "SELECT 1"
expect 2 'out is required' "$acass" export --table synthetic.rows
expect 2 'exactly one of --query or --table' "$acass" export "${auth[@]}" --out "$work/x.csv"
expect 2 'unknown level' "$acass" query "${auth[@]}" --consistency SOMETIMES "SELECT key FROM system.local"
expect 2 'password-file' "$acass" query --port "$port" --user cassandra "SELECT 1"
expect 2 'requires --tls-key' "$acass" query --port "$port" --tls-cert c.pem "SELECT 1"
expect 2 'KEYSPACE.TABLE' "$acass" count "${auth[@]}" --table justatable
# Unreachable host: a port nobody listens on (the server's, once stopped, is not reused here).
closed_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
expect 3 'no host available' "$acass" query --port "$closed_port" --timeout 2 "SELECT 1"
# Authentication.
expect 4 'authentication failed' "$acass" query --port "$port" --user cassandra --password-file "$work/bad" "SELECT 1"
expect 4 'requires authentication' "$acass" query --port "$port" "SELECT 1"
# Bad CQL, unknown keyspace and table.
expect 5 'Syntax error' "$acass" query "${auth[@]}" "SELEKT * FROM x"
expect 5 'does not exist' "$acass" query "${auth[@]}" --keyspace nowhere "SELECT 1"
expect 5 'unconfigured table|does not exist' "$acass" export "${auth[@]}" --table ks.missing --out "$work/x.csv"
expect 5 'unconfigured table|does not exist' "$acass" load "${auth[@]}" --table ks.missing --in "$work/good"
# Local files.
expect 8 'cannot read the password file' "$acass" query --port "$port" --user cassandra --password-file "$work/none" "SELECT 1"
expect 8 'cannot open the input file' "$acass" load "${auth[@]}" --table system.local --in "$work/none.csv"
expect 8 'cannot open the output file' "$acass" export "${auth[@]}" --query "SELECT key FROM system.local" --out "$work/no/dir.csv"
echo garbage >"$work/bad.resume"
expect 8 'resume file .* is not valid' "$acass" export "${auth[@]}" --query "SELECT key FROM system.local" \
  --out "$work/y.csv" --resume-file "$work/bad.resume"
# Data the output format cannot hold (a decimal beyond Avro's decimal(38, 18)): exit 9 naming the
# column and value, not 8 (it was reported as a file error); the file is fine.
if [[ -n "$avro_dump" ]]; then
  q=("$acass" query "${auth[@]}")
  "${q[@]}" "CREATE KEYSPACE ed WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}" >/dev/null
  "${q[@]}" "CREATE TABLE ed.t (id int PRIMARY KEY, d decimal)" >/dev/null
  "${q[@]}" "INSERT INTO ed.t (id, d) VALUES (1, 1.5)" >/dev/null
  "${q[@]}" "INSERT INTO ed.t (id, d) VALUES (2, 123456789012345678901234567890123456789012)" >/dev/null
  expect 9 'column d \(decimal\): decimal 123456789012345678901234567890123456789012 has more than 38 digits' \
    "$acass" export "${auth[@]}" --table ed.t --format avro --out "$work/d.avro" -q
  expect 0 - "$acass" export "${auth[@]}" --table ed.t --where "id = 1" --format avro --out "$work/d1.avro" -q
  # The same export onto a full disk is still a file error.
  expect 8 'No space left on device' "$acass" export "${auth[@]}" --table ed.t --where "id = 1" --format avro \
    --out /dev/full -q
fi
echo "errors OK"
