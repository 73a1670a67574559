#!/usr/bin/env bash
# Development certificates for running the webhook by hand: a throw-away CA and a serving certificate for
# the webhook Service names plus 127.0.0.1/localhost. In a cluster (and under `scripts/dev up`) the manager
# issues and rotates these itself; this script is for a webhook started on its own.
# Usage: webhook-certs/gen.sh [OUT_DIR] [NAMESPACE]   (default OUT_DIR webhook-certs/out)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:-$here/out}
ns=${2:-${OPERATOR_NAMESPACE:-security-profiles-operator}}
svc=webhook-service
days=${DAYS:-30}

command -v openssl >/dev/null || { echo "openssl not found: apt-get install openssl" >&2; exit 1; }
mkdir -p "$out"
chmod 700 "$out"
umask 077

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$days" \
  -subj "/CN=seccomp-profiles-operator-dev-ca" \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout "$out/ca.key" -out "$out/ca.crt" 2>/dev/null

openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/CN=$svc.$ns.svc" -keyout "$out/tls.key" -out "$out/tls.csr" 2>/dev/null
openssl x509 -req -in "$out/tls.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial -days "$days" \
  -extfile <(printf '%s\n' \
    "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth" \
    "subjectAltName=DNS:$svc.$ns.svc,DNS:$svc.$ns.svc.cluster.local,DNS:localhost,IP:127.0.0.1") \
  -out "$out/tls.crt" 2>/dev/null
rm -f "$out/tls.csr" "$out/ca.srl"
# umask covers new files only: a key left readable by an earlier run keeps its mode when openssl rewrites it.
chmod 600 "$out/ca.key" "$out/tls.key"

echo "wrote $out/{ca.crt,ca.key,tls.crt,tls.key} (valid $days days)" >&2
echo "caBundle: $(base64 -w0 < "$out/ca.crt")"
