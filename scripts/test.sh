#!/usr/bin/env bash
# `npm test`, the README's test command: on a fresh clone it installs dependencies from the lockfile and starts
# the local servers the suites need, then runs lint, formatting, the boundary check, the type check, the build
# and every Jest tier (unit, integration, end-to-end). Jest's JSON results go to test-output/ for .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x node_modules/.bin/node ] || npm ci --no-audit --no-fund
bash scripts/ensure-services.sh
echo "node $(node --version)"
npm run lint
npm run typecheck
npm run build
mkdir -p test-output
# App processes orphaned by an earlier run that was cut short (this checkout's or another's) hold PostgreSQL
# connections and consume queues: stop them before the suites count on the server's 100 connection slots.
stop_orphaned_apps() { # pattern
  for pid in $(pgrep -f "$1" || true); do
    if [ "$(ps -o ppid= -p "$pid" 2>/dev/null | tr -d ' ')" = "1" ]; then
      echo "stopping leftover app process $pid ($(ps -o args= -p "$pid" 2>/dev/null | cut -c1-120))"
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
}
stop_orphaned_apps '/dist/apps/[a-z-]+/src/main\.js'
# --forceExit: a handle a failed suite leaked (a socket, a timer) must not keep CI waiting.
status=0
npm run jest -- --json --outputFile=test-output/jest-results.json --forceExit || status=$?
# App processes an end-to-end stack started and a failed suite never stopped outlive Jest, reparented to init:
# stop them (a demo running from this checkout keeps its parent, so it is left alone).
stop_orphaned_apps "$(pwd)/dist/apps/"
exit "$status"
