#!/usr/bin/env bash
# Runs the SDK tests (node --test) against a freshly built server with demo
# data. SWITCHBOARD_BIN may name a server binary built already.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
rm -rf .test-build
npx --no-install tsc -p tsconfig.test.json
if [ -z "${SWITCHBOARD_BIN:-}" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd ../.. && go build -o "$tmp/switchboard" ./server/cmd/switchboard)
  export SWITCHBOARD_BIN="$tmp/switchboard"
fi
node --test --test-concurrency=1 --test-timeout=120000 --test-reporter=spec .test-build/test/*.test.js
