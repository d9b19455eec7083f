#!/usr/bin/env bash
# TLS flags: --tls-ca trusts the server's self-signed certificate; without it the handshake fails
# (exit 3); --tls-cert is refused as unsupported (exit 2). Skipped (exit 0 with a note) without openssl.
#   tls.sh ACASS_SERVER ACASS
server="$1" acass="$2"
source "$(dirname "$0")/lib.sh"
if ! command -v openssl >/dev/null; then
  echo "openssl not installed: TLS test skipped"
  exit 0
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
  --tls-key "$work/key.pem" "SELECT key FROM system.local"
echo "tls OK"
