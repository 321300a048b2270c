#!/usr/bin/env bash
# Starts the services the hub and its tests need when they are not running (a fresh machine, or
# CI after the session stopped), then applies the broker settings the project needs. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/wait-for.sh
. scripts/wait-for.sh

if ! mariadb-admin -h 127.0.0.1 -u root ping >/dev/null 2>&1; then
  echo "ensure-services: starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  wait_for MariaDB 60 mariadb-admin -h 127.0.0.1 -u root ping
fi

if ! rabbitmq-diagnostics -q check_port_connectivity >/dev/null 2>&1; then
  echo "ensure-services: starting RabbitMQ"
  # The open-file limit as high as allowed: see raise_file_limit in setup-broker.sh.
  (ulimit -n "$(ulimit -Hn)" 2>/dev/null || true; rabbitmq-server -detached) || true
  wait_for RabbitMQ 90 rabbitmq-diagnostics -q check_port_connectivity
fi

# TLS for the demo and the tests: AMQPS on 127.0.0.1:5671, MariaDB TLS, the local CA's
# certificates in $HUB_TLS_DIR (default /var/lib/hub-tls). Restarts a service only when its TLS
# changed.
scripts/local-tls.sh

# A parked document (up to 17 MiB, sent as hex: hub/custody) must fit one statement: the
# server's max_allowed_packet at 64 MiB, not MariaDB's 16 MiB. Applies to new connections; set
# after local-tls.sh, whose restart of MariaDB would reset it.
mariadb -h 127.0.0.1 -u root -e \
  "SET GLOBAL max_allowed_packet = GREATEST(@@global.max_allowed_packet, 67108864)" || true
# Several writers each keep a read-only connection to every office database they have served and
# a ledger pool (hub chaos --cluster --writers 3 over 60 offices needs about 450): MariaDB's
# default of 151 is too few. Not persisted, like the packet size.
mariadb -h 127.0.0.1 -u root -e \
  "SET GLOBAL max_connections = GREATEST(@@global.max_connections, 1000)" || true

if [ -x scripts/setup-broker.sh ]; then
  scripts/setup-broker.sh
fi

# promtool checks and unit-tests the alert rules, and the observability tests run a real
# Prometheus: Debian's prometheus package brings both. Its own service must not stay running
# (tests start their own server on a free port), so on install it is stopped and disabled.
if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
  echo "ensure-services: installing Debian's prometheus package (promtool, prometheus)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus \
    >/dev/null
  # Where no policy-rc.d forbids it, the package's postinst starts the service.
  if [ -x /etc/init.d/prometheus ]; then
    /etc/init.d/prometheus stop >/dev/null 2>&1 || true
    update-rc.d prometheus disable >/dev/null 2>&1 || true
  fi
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
fi

# The console's browser tests (tests/console/test_browser.py) drive Debian's chromium through
# Selenium and Debian's chromedriver, both by path: no tool ever downloads a browser or driver.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  echo "ensure-services: installing Debian's chromium and chromium-driver (browser tests)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium \
    chromium-driver >/dev/null
fi
