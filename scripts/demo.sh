#!/usr/bin/env bash
# `npm run demo`: everything the demo needs on a fresh clone of this machine, then the demo itself.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x node_modules/.bin/node ] || npm ci --no-audit --no-fund
bash scripts/ensure-services.sh
npm run build --silent
exec node_modules/.bin/node dist/scripts/demo.js
