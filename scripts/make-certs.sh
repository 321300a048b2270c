#!/usr/bin/env bash
# Makes a local certificate authority and the certificates the demo, the tests and the compose
# stack use for TLS: never for production, whose certificates come from the DSO's own CA.
#
#   scripts/make-certs.sh [--for-containers] [DIR]
#
# DIR defaults to $HUB_TLS_DIR, else /var/lib/hub-tls. --for-containers (the compose stack's
# ./tls): the keys are readable by every user, because each container reads them as its own
# user (rabbitmq, mysql, hub) through a bind mount; the directory itself is closed to other users
# of the host instead.
#
# DIR/ca.pem, ca.key         the local CA (10 years)
# DIR/server.pem, server.key the services' certificate: localhost, 127.0.0.1, ::1 and the compose
#                            stack's service names (rabbitmq, mariadb, sim)
# DIR/client.pem, client.key the hub's client certificate (CN hub), which the broker verifies
#
# Idempotent: what exists and is valid for another 30 days is kept, so services configured with
# these files (scripts/ensure-services.sh) keep working; a new CA re-issues every certificate.
set -euo pipefail

key_mode=600 dir_mode=755
if [ "${1:-}" = --for-containers ]; then
  key_mode=644 dir_mode=700
  shift
fi
dir=${1:-${HUB_TLS_DIR:-/var/lib/hub-tls}}
mkdir -p "$dir"
chmod "$dir_mode" "$dir"
cd "$dir"

fresh() {  # fresh CERT: the certificate exists and stays valid for 30 more days
  [ -s "$1" ] && openssl x509 -in "$1" -noout -checkend $((30 * 24 * 3600)) >/dev/null 2>&1
}

made=()
if ! fresh ca.pem || ! [ -s ca.key ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=Open Dental hub local CA" -keyout ca.key -out ca.pem \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>/dev/null
  chmod 600 ca.key  # the CA key never leaves this directory
  rm -f server.pem client.pem  # issued by the old CA
  made+=(ca)
fi

issue() {  # issue NAME CN EXTENDED_USAGE [SAN]
  local name=$1 cn=$2 usage=$3 san=${4:-}
  fresh "$name.pem" && [ -s "$name.key" ] && return 0
  local ext
  ext=$(mktemp)
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    [ -n "$san" ] && echo "subjectAltName=$san"
  } >"$ext"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=$cn" -keyout "$name.key" -out "$name.csr" 2>/dev/null
  # 825 days: the longest validity clients such as Apple's accept for a server certificate.
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 \
    -extfile "$ext" -out "$name.pem" 2>/dev/null
  rm -f "$name.csr" "$ext"
  chmod "$key_mode" "$name.key"
  made+=("$name")
}

issue server localhost serverAuth \
  "DNS:localhost,IP:127.0.0.1,IP:::1,DNS:rabbitmq,DNS:mariadb,DNS:sim"
issue client hub clientAuth

if [ ${#made[@]} -gt 0 ]; then
  echo "make-certs: made ${made[*]} in $dir"
fi
