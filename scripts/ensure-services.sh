#!/usr/bin/env bash
# Makes sure the local servers the tests and the demo use are up, starting any that is down with the
# commands of DESIGN.md section 8, and prepares what the tests need. Idempotent; safe to run repeatedly.
# Usage: scripts/ensure-services.sh [--no-rgw]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
want_rgw=1
[ "${1:-}" = "--no-rgw" ] && want_rgw=0

log() { printf '[services] %s\n' "$*"; }
wait_for() { # name, tries, command...
  local name=$1 tries=$2; shift 2
  for _ in $(seq 1 "$tries"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  log "$name did not come up"; return 1
}

# PostgreSQL (event store, secret store, read models)
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  wait_for PostgreSQL 60 pg_isready -q -h 127.0.0.1 -p 5432
fi

# Two end-to-end stacks (eight processes each) run beside the integration suites: with the small test pools
# they peak near 70 connections, too close to the default 100 for a process that starts late. Raise the limit
# once (ALTER SYSTEM persists it; the change needs a restart).
want_connections=200
have_connections=$(psql -h 127.0.0.1 -U postgres -d postgres -tAc 'SHOW max_connections')
if [ "$have_connections" -lt "$want_connections" ]; then
  log "raising PostgreSQL max_connections from $have_connections to $want_connections (restart)"
  psql -h 127.0.0.1 -U postgres -d postgres -qc "ALTER SYSTEM SET max_connections = $want_connections"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main restart
  wait_for PostgreSQL 60 pg_isready -q -h 127.0.0.1 -p 5432
fi

# MariaDB (tenant databases)
if ! mysqladmin -uroot -h127.0.0.1 --connect-timeout=2 ping >/dev/null 2>&1; then
  log "starting MariaDB"
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  wait_for MariaDB 60 mysqladmin -uroot -h127.0.0.1 --connect-timeout=2 ping
fi

# RabbitMQ with the management API (commands, events, tenant vhosts)
if ! rabbitmq-diagnostics -q ping >/dev/null 2>&1; then
  log "starting RabbitMQ"
  rabbitmq-server -detached
  wait_for RabbitMQ 90 rabbitmq-diagnostics -q ping
fi
if ! curl -fs -m 3 -u guest:guest http://127.0.0.1:15672/api/overview >/dev/null; then
  log "enabling the RabbitMQ management plugin"
  rabbitmq-plugins enable rabbitmq_management >/dev/null
  wait_for "RabbitMQ management API" 90 curl -fs -m 3 -u guest:guest http://127.0.0.1:15672/api/overview
fi

# Test databases (tests refuse databases whose name does not mark them as test databases)
psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='provisioning_test'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -d postgres -qc 'CREATE DATABASE provisioning_test'
psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='provisioning'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -d postgres -qc 'CREATE DATABASE provisioning'

# Headless Chromium for the operator console's browser test (Debian's package; playwright-core drives it)
if ! command -v chromium >/dev/null 2>&1; then
  log "installing Chromium"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

# Ceph RADOS Gateway: the S3 server of this machine
if [ "$want_rgw" = 1 ]; then
  bash "$here/rgw.sh" start
fi
log "all services up"
