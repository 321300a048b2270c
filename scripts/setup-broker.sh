#!/usr/bin/env bash
# Enables the RabbitMQ plugins the hub needs and waits until the management API answers.
#   rabbitmq_management: the HTTP API `hub vendor` uses to manage vendors' users and permissions
#   rabbitmq_prometheus: the broker's metrics for the dashboards
# Idempotent: enabling an enabled plugin changes nothing. Run it on the broker's machine, with
# the rights of rabbitmqctl. HUB_MANAGEMENT_URL/USER/PASSWORD as for the hub (defaults: local, guest).
set -euo pipefail

url=${HUB_MANAGEMENT_URL:-http://127.0.0.1:15672}
user=${HUB_MANAGEMENT_USER:-guest}
password=${HUB_MANAGEMENT_PASSWORD:-guest}
wait_s=${SETUP_BROKER_WAIT_S:-60}

if ! rabbitmq-plugins enable rabbitmq_management rabbitmq_prometheus >/dev/null; then
  echo "setup-broker: could not enable the plugins; is RabbitMQ running?" >&2
  exit 1
fi

for _ in $(seq "$wait_s"); do
  # The credentials go through stdin (curl --config), not the process list.
  if printf 'user = "%s:%s"\n' "$user" "$password" |
    curl --silent --fail --max-time 5 --config - "$url/api/overview" >/dev/null; then
    echo "setup-broker: plugins enabled; the management API answers at $url"
    exit 0
  fi
  sleep 1
done
echo "setup-broker: the management API at $url did not answer, or refused $user, within ${wait_s}s" >&2
exit 1
