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

# Both plugins already answering: nothing to enable (rabbitmq-plugins talks to the node over
# Erlang distribution and can take minutes when the node is busy).
plugins_answer() {
  printf 'user = "%s:%s"\n' "$user" "$password" |
    curl --silent --fail --max-time 5 --config - "$url/api/overview" >/dev/null &&
    curl --silent --fail --max-time 5 --output /dev/null http://127.0.0.1:15692/metrics
}
if ! plugins_answer &&
  ! timeout 180 rabbitmq-plugins enable rabbitmq_management rabbitmq_prometheus >/dev/null; then
  echo "setup-broker: could not enable the plugins; is RabbitMQ running?" >&2
  exit 1
fi

# The hub re-publishes intents with their vendor's user_id (dead letters, `hub dlq replay`), which
# RabbitMQ allows only to a user tagged `impersonator`: give the hub's broker user (HUB_BROKER_URL's,
# guest by default) that tag, keeping its other tags. The URL goes through stdin, not argv.
hub_user=$(printf '%s' "${HUB_BROKER_URL:-amqp://guest:guest@127.0.0.1:5672/}" | python3 -c '
import sys, urllib.parse
print(urllib.parse.unquote(urllib.parse.urlsplit(sys.stdin.read()).username or "guest"))')
tags=$(rabbitmqctl -q list_users --formatter json | python3 -c '
import json, sys
users = {u["user"]: u["tags"] for u in json.load(sys.stdin)}
tags = users.get(sys.argv[1])
print("" if tags is None else " ".join(tags) or "-")' "$hub_user")
if [ -z "$tags" ]; then
  echo "setup-broker: no broker user $hub_user; create it, then run this again" >&2
elif ! [[ " $tags " == *" impersonator "* ]]; then
  [ "$tags" = "-" ] && tags=""
  # shellcheck disable=SC2086  # one argument per tag
  rabbitmqctl -q set_user_tags "$hub_user" $tags impersonator
  echo "setup-broker: $hub_user may now publish as a vendor (impersonator tag)"
fi

# RabbitMQ's file handle cache books about three handles for every quorum queue, and once the
# bookings pass its limit (the node's open-file limit less 100) the node still accepts TCP
# connections but never completes an AMQP handshake: with the common default of 1024 that happens
# at about 300 office queues (reproduced on 3.10.8 with 1,000). A node started by
# ensure-services.sh gets a high limit at start; a running local node is raised here to its
# hard limit (as its own user: raising a soft limit up to the hard one needs no capability) and
# its file handle cache told the new figure. Idempotent.
raise_file_limit() {
  local pid limits soft hard owner fhc
  pid=$(timeout 60 rabbitmqctl -q eval 'os:getpid().' 2>/dev/null | tr -d '"') || return 0
  limits=/proc/${pid:-none}/limits
  [ -r "$limits" ] || return 0  # the node runs on another machine: its operator sets its limit
  soft=$(awk '/^Max open files/ {print $4}' "$limits")
  hard=$(awk '/^Max open files/ {print $5}' "$limits")
  [ "$hard" = unlimited ] && hard=1048576
  if [ "$soft" != unlimited ] && [ "$soft" -lt "$hard" ]; then
    owner=$(stat -c %U "/proc/$pid")
    if runuser -u "$owner" -- prlimit --pid "$pid" --nofile="$hard:$hard" 2>/dev/null ||
      prlimit --pid "$pid" --nofile="$hard:$hard" 2>/dev/null; then
      soft=$hard
    else
      echo "setup-broker: could not raise the node's open-file limit ($soft); queues beyond about $((soft / 3)) will stall new connections" >&2
    fi
  fi
  [ "$soft" = unlimited ] && soft=1048576
  fhc=$(timeout 60 rabbitmqctl -q eval 'file_handle_cache:get_limit().' 2>/dev/null) || return 0
  if [ "$fhc" -lt "$((soft - 100))" ]; then
    timeout 60 rabbitmqctl -q eval "file_handle_cache:set_limit($((soft - 100)))." >/dev/null
    echo "setup-broker: the node's file handle limit is now $((soft - 100)) (room for about $(((soft - 100) / 3)) quorum queues)"
    # The management API's sockets_total (90% of that limit) shows it within a stats interval;
    # until its first stats the reply has another shape, so a failed parse is one more wait.
    for _ in $(seq 15); do
      printf 'user = "%s:%s"\n' "$user" "$password" |
        curl --silent --fail --max-time 5 --config - "$url/api/nodes?columns=sockets_total" |
        python3 -c 'import json, sys; sys.exit(min(n["sockets_total"] for n in json.load(sys.stdin)) < int(sys.argv[1]))' \
          "$(((soft - 100) * 9 / 10 - 10))" 2>/dev/null && break
      sleep 1
    done
  fi
}
raise_file_limit

# The broker refuses any message above the hub's ceiling (contracts/limits.py: the largest
# contract's), so no vendor can make the writer hold a larger body; the compose stack sets the
# same in deploy/rabbitmq/rabbitmq.conf. Applies to channels opened from now on. Idempotent.
limit_message_size() {
  local ceiling current
  ceiling=$(python3 -c 'from contracts.limits import HUB_MAX_BYTES; print(HUB_MAX_BYTES)' 2>/dev/null) || {
    echo "setup-broker: the hub is not installed here; max_message_size left as it is" >&2
    return 0
  }
  current=$(timeout 60 rabbitmqctl -q eval 'application:get_env(rabbit, max_message_size).' 2>/dev/null) || return 0
  if [ "$current" != "{ok,$ceiling}" ]; then
    timeout 60 rabbitmqctl -q eval "application:set_env(rabbit, max_message_size, $ceiling)." >/dev/null
    echo "setup-broker: the broker now refuses messages above $ceiling bytes (max_message_size)"
  fi
}
limit_message_size

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
