#!/usr/bin/env bash
# Gives this machine's RabbitMQ and MariaDB TLS with the local CA (scripts/make-certs.sh), for the
# demo and the tests. Run by scripts/ensure-services.sh as root on the services' machine. After it:
#   RabbitMQ  AMQPS on 127.0.0.1:5671: TLS 1.2+, verifies a client certificate when one is shown
#             (a certificate from another CA is refused); plain AMQP stays on 127.0.0.1:5672 for
#             the tests' own connections, loopback only.
#   MariaDB   TLS on its usual port, for clients that ask (the hub's HUB_*_DB__TLS settings).
# Each service gets its own copy of the server key, readable only by its own user, and is
# restarted only when its TLS settings or certificates changed. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

tls_dir=${HUB_TLS_DIR:-/var/lib/hub-tls}
scripts/make-certs.sh "$tls_dir"

# shellcheck source=scripts/wait-for.sh
. scripts/wait-for.sh

install_copy() {  # install_copy OWNER DESTDIR: 0 when the copy changed
  local owner=$1 dest=$2 changed=1
  install -d -m 755 "$dest"
  for file in ca.pem server.pem server.key; do
    if ! cmp -s "$tls_dir/$file" "$dest/$file"; then
      install -o "$owner" -m "$([ "$file" = server.key ] && echo 600 || echo 644)" \
        "$tls_dir/$file" "$dest/$file"
      changed=0
    fi
  done
  return $changed
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# RabbitMQ: the TLS listener and its options, in a marked block of rabbitmq.conf.
rabbit_conf=/etc/rabbitmq/rabbitmq.conf
rabbit_tls=/etc/rabbitmq/tls
restart_rabbit=false
install_copy rabbitmq "$rabbit_tls" && restart_rabbit=true
block="# hub: TLS (scripts/local-tls.sh)
listeners.ssl.local = 127.0.0.1:5671
ssl_options.cacertfile = $rabbit_tls/ca.pem
ssl_options.certfile = $rabbit_tls/server.pem
ssl_options.keyfile = $rabbit_tls/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = false
ssl_options.versions.1 = tlsv1.3
ssl_options.versions.2 = tlsv1.2
# hub: end TLS"
touch "$rabbit_conf"
current=$(sed -n '/^# hub: TLS/,/^# hub: end TLS/p' "$rabbit_conf")
if [ "$current" != "$block" ]; then
  sed -i '/^# hub: TLS/,/^# hub: end TLS/d' "$rabbit_conf"
  printf '%s\n' "$block" >>"$rabbit_conf"
  restart_rabbit=true
fi
listening 5671 || restart_rabbit=true
if $restart_rabbit; then
  echo "local-tls: restarting RabbitMQ with AMQPS on 127.0.0.1:5671"
  timeout 120 rabbitmqctl -q stop >/dev/null 2>&1 || true
  # The open-file limit as high as allowed: see raise_file_limit in setup-broker.sh.
  (ulimit -n "$(ulimit -Hn)" 2>/dev/null || true; rabbitmq-server -detached) || true
  wait_for RabbitMQ 120 rabbitmq-diagnostics -q check_port_connectivity
  wait_for "RabbitMQ's AMQPS listener" 30 listening 5671
fi

# MariaDB: the server's certificate in a file its configuration includes.
maria_tls=/etc/mysql/tls
maria_conf=/etc/mysql/conf.d/hub-tls.cnf
restart_maria=false
install_copy mysql "$maria_tls" && restart_maria=true
mkdir -p /etc/mysql/conf.d
want="# hub: TLS (scripts/local-tls.sh)
[mariadbd]
ssl-ca = $maria_tls/ca.pem
ssl-cert = $maria_tls/server.pem
ssl-key = $maria_tls/server.key"
if [ "$(cat "$maria_conf" 2>/dev/null)" != "$want" ]; then
  printf '%s\n' "$want" >"$maria_conf"
  restart_maria=true
fi
if ! grep -qs '^!includedir /etc/mysql/conf.d' /etc/mysql/my.cnf; then
  printf '\n!includedir /etc/mysql/conf.d/\n' >>/etc/mysql/my.cnf
  restart_maria=true
fi
[ "$(mariadb -h 127.0.0.1 -u root -N -e 'SELECT @@have_ssl' 2>/dev/null)" = YES ] ||
  restart_maria=true
if $restart_maria; then
  echo "local-tls: restarting MariaDB with TLS"
  mariadb-admin -h 127.0.0.1 -u root shutdown >/dev/null 2>&1 || true
  for _ in $(seq 60); do pgrep -x mariadbd >/dev/null || break; sleep 1; done
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  wait_for MariaDB 60 mariadb-admin -h 127.0.0.1 -u root ping
  if [ "$(mariadb -h 127.0.0.1 -u root -N -e 'SELECT @@have_ssl')" != YES ]; then
    echo "local-tls: MariaDB restarted without TLS; see /var/log/mysql/error.log" >&2
    exit 1
  fi
fi
