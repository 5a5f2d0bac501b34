#!/usr/bin/env bash
# Local S3 server for the storage-service tests: a single-node Ceph cluster (memory-backed OSD) with the
# RADOS Gateway, from Debian packages (installed with apt-get on first use). RGW gives real versioning,
# lifecycle, bucket policies, per-user keys and the admin-ops API (/admin/user) the storage-service uses.
#
# Usage: scripts/rgw.sh [start|stop|status|env]
#   start   boot the cluster (idempotent: already answering -> exit 0), create the admin user
#   stop    stop the daemons started by this script (by their pid files) and delete the data directory
#   status  exit 0 when the gateway answers
#   env     print the environment variables the storage-service reads to reach this server
# Env: RGW_DIR (/tmp/rgw), RGW_PORT (7480), MON_PORT (6789), RGW_ACCESS_KEY / RGW_SECRET_KEY (admin keys;
#      the defaults are for local testing only). Boots in 15-60 s; about 0.5 GB of memory; data is lost on stop.
set -euo pipefail
dir=${RGW_DIR:-/tmp/rgw} port=${RGW_PORT:-7480} monport=${MON_PORT:-6789}
ak=${RGW_ACCESS_KEY:-rgw-admin-access} sk=${RGW_SECRET_KEY:-rgw-admin-secret-key}
conf=$dir/ceph.conf
C="-c $conf"
up() { curl -fs -m 2 -o /dev/null "http://127.0.0.1:$port/"; }

how_to_reach() {
  cat <<EOF
rgw answering on http://127.0.0.1:$port
  S3_ENDPOINT=http://127.0.0.1:$port S3_ADMIN_ACCESS_KEY=$ak S3_ADMIN_SECRET_KEY=<RGW_SECRET_KEY> STORAGE_IAM=rgw
  (the admin user 'admin' has caps users=*;buckets=*;metadata=*;usage=*; logs in $dir/log)
EOF
}

install_packages() {
  if command -v radosgw >/dev/null && command -v ceph-osd >/dev/null && command -v ceph-mon >/dev/null &&
    command -v ceph-mgr >/dev/null && command -v radosgw-admin >/dev/null; then
    return 0
  fi
  echo "installing radosgw ceph-mon ceph-osd ceph-mgr (apt-get)..."
  # The lock timeout lets a concurrent apt-get (another agent) finish instead of failing on the dpkg lock.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    radosgw ceph-mon ceph-osd ceph-mgr ceph-common >/dev/null
}

# Only the daemons this script started: their pid files live in $dir/run.
stop() {
  local pids="" f p
  for f in "$dir"/run/*.pid; do
    [ -f "$f" ] || continue
    p=$(cat "$f")
    [[ $p =~ ^[0-9]+$ ]] && pids="$pids $p"
  done
  if [ -n "$pids" ]; then
    # shellcheck disable=SC2086
    kill $pids 2>/dev/null || true
    for _ in $(seq 1 30); do
      local alive=""
      for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
      [ -z "$alive" ] && break
      sleep 1
    done
  fi
  rm -rf "$dir"
  echo "rgw stopped"
}

ensure_admin_user() {
  if radosgw-admin $C user info --uid=admin >/dev/null 2>&1; then
    radosgw-admin $C caps add --uid=admin --caps="users=*;buckets=*;metadata=*;usage=*" >/dev/null
  else
    radosgw-admin $C user create --uid=admin --display-name=admin --access-key="$ak" --secret="$sk" \
      --caps="users=*;buckets=*;metadata=*;usage=*" >/dev/null
  fi
  # Every tenant's three buckets are created with this account: RGW's default of 1,000 buckets per user
  # would refuse the 334th tenant (TooManyBuckets). 0 is unlimited (checked on Ceph 16).
  radosgw-admin $C user modify --uid=admin --max-buckets=0 >/dev/null
}

start() {
  if up; then
    echo "rgw already up"
    ensure_admin_user
    how_to_reach
    return 0
  fi
  install_packages
  # A fresh cluster right after a stop sometimes fails to boot (measured: the OSD is refused with "wrong
  # fsid"); each attempt runs in its own process so `set -e` applies, and a failed one is cleaned up.
  local attempt
  for attempt in 1 2 3; do
    if [ -d "$dir/run" ]; then stop >/dev/null; fi
    if bash "$0" _boot; then
      ensure_admin_user
      how_to_reach
      return 0
    fi
    echo "rgw boot attempt $attempt failed; logs in $dir/log" >&2
    sleep 2
  done
  echo "rgw did not start after 3 attempts" >&2
  exit 1
}

boot() {
  rm -rf "$dir"
  mkdir -p "$dir"/{mon,osd0,mgr,rgw,run,log}
  local fsid
  fsid=$(cat /proc/sys/kernel/random/uuid)
  cat >"$conf" <<CONF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$monport
mon initial members = a
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon warn on pool no redundancy = false
osd objectstore = memstore
memstore device bytes = 4294967296
osd crush chooseleaf type = 0
run dir = $dir/run
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
admin socket = $dir/run/\$name.asok
[mon.a]
mon data = $dir/mon
[osd.0]
osd data = $dir/osd0
[mgr.x]
mgr data = $dir/mgr
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$port
rgw data = $dir/rgw
CONF
  monmaptool --create --add a "v1:127.0.0.1:$monport" --fsid "$fsid" "$dir/monmap" >/dev/null
  ceph-mon $C --mkfs -i a --monmap "$dir/monmap"
  ceph-mon $C -i a
  ceph $C osd create >/dev/null
  ceph-osd $C -i 0 --mkfs 2>/dev/null
  ceph-osd $C -i 0 2>/dev/null
  ceph-mgr $C -i x
  ceph $C osd crush add osd.0 1.0 host=localhost root=default >/dev/null 2>&1
  radosgw $C -n client.rgw.a
  for _ in $(seq 1 90); do up && break; sleep 1; done
  up || {
    echo "rgw did not answer on :$port; logs in $dir/log" >&2
    exit 1
  }
}

case "${1:-start}" in
start) start ;;
_boot) boot ;;
stop) stop ;;
status) if up; then echo "up on :$port"; else
  echo "down"
  exit 1
fi ;;
env) how_to_reach ;;
*)
  echo "usage: $0 [start|stop|status|env]" >&2
  exit 2
  ;;
esac
