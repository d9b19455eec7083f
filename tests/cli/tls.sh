#!/usr/bin/env bash
# TLS flags: --tls-ca trusts the server's self-signed certificate; without it the handshake fails
# (exit 3). Mutual TLS: a node started with --tls-client-ca accepts --tls-cert/--tls-key signed by
# that CA and refuses a client without a certificate (exit 3); a missing certificate file is a
# local file error (exit 8). Fails without the openssl CLI (scripts/test.sh installs it).
#   tls.sh ACASS_SERVER ACASS
server="$1" acass="$2"
source "$(dirname "$0")/lib.sh"
if ! command -v openssl >/dev/null; then
  echo "FAIL: the openssl CLI is needed (package openssl; scripts/test.sh installs it)" >&2
  exit 1
fi
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
start_server --tls "$work/cert.pem,$work/key.pem" --synthetic 3000

[[ "$("$acass" count --port "$port" --tls-ca "$work/cert.pem" --table synthetic.rows -q)" == 3000 ]] ||
  fail "count over TLS"
"$acass" export --port "$port" --tls-ca "$work/cert.pem" --table synthetic.rows --out "$work/t.csv" -q
[[ "$(wc -l <"$work/t.csv")" == 3001 ]] || fail "export over TLS"
expect_status 3 "$acass" query --port "$port" --tls --timeout 3 "SELECT key FROM system.local"
expect_status 3 "$acass" query --port "$port" --timeout 3 "SELECT key FROM system.local"
expect_status 2 "$acass" query --port "$port" --tls-ca "$work/cert.pem" --tls-cert "$work/cert.pem" \
  "SELECT key FROM system.local"   # --tls-cert needs --tls-key

# Mutual TLS: a second node that requires client certificates from the "client CA" (self-signed).
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=acass-client \
  -keyout "$work/client-key.pem" -out "$work/client-cert.pem" 2>/dev/null
first_pid="$server_pid" first_port="$port"
start_server --tls "$work/cert.pem,$work/key.pem" --tls-client-ca "$work/client-cert.pem" --synthetic 1000
[[ "$("$acass" count --port "$port" --tls-ca "$work/cert.pem" --tls-cert "$work/client-cert.pem" \
  --tls-key "$work/client-key.pem" --table synthetic.rows -q)" == 1000 ]] || fail "count over mutual TLS"
expect_status 3 "$acass" query --port "$port" --tls-ca "$work/cert.pem" --timeout 3 "SELECT key FROM system.local"
expect_status 3 "$acass" query --port "$port" --tls-ca "$work/cert.pem" --tls-cert "$work/cert.pem" \
  --tls-key "$work/key.pem" --timeout 3 "SELECT key FROM system.local"   # not signed by the client CA
expect_status 8 "$acass" query --port "$port" --tls-ca "$work/cert.pem" --tls-cert "$work/missing.pem" \
  --tls-key "$work/client-key.pem" "SELECT key FROM system.local"
kill "$first_pid" 2>/dev/null || true
wait "$first_pid" 2>/dev/null || true
echo "tls OK (port $first_port, mutual TLS on port $port)"
