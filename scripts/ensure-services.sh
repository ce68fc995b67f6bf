#!/usr/bin/env bash
# Make sure PostgreSQL (127.0.0.1:5432, database "test") and NATS JetStream (127.0.0.1:4222)
# are up; start them with the machine's own commands if not. Fails loudly if they stay down.
set -uo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local port=$1 name=$2
  for _ in $(seq 1 60); do
    port_open "$port" && return 0
    sleep 0.5
  done
  echo "ensure-services: $name did not come up on 127.0.0.1:$port" >&2
  return 1
}

if ! port_open 5432; then
  echo "ensure-services: starting PostgreSQL" >&2
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  wait_port 5432 PostgreSQL || exit 1
fi
if command -v psql >/dev/null 2>&1; then
  if ! psql -h 127.0.0.1 -U postgres -d test -Atc 'select 1' >/dev/null 2>&1; then
    psql -h 127.0.0.1 -U postgres -d postgres -c 'create database test' >/dev/null 2>&1 || true
  fi
fi

if ! port_open 4222; then
  echo "ensure-services: starting NATS JetStream" >&2
  if [ -x /usr/sbin/nats-server ]; then
    mkdir -p /var/lib/nats-server
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
      -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  elif [ -x .venv/bin/nats-server ]; then
    nohup .venv/bin/nats-server -a 127.0.0.1 -p 4222 -js -sd .nats-data >/dev/null 2>&1 &
  fi
  wait_port 4222 NATS || exit 1
fi
echo "ensure-services: PostgreSQL and NATS are up" >&2
