#!/usr/bin/env bash
# Browser tests: builds the page and a server binary that embeds it, then
# drives Debian's Chromium with playwright-core (no browser download) against
# servers with the demo company. UPDATE_SCREENSHOTS=1 writes the screenshots
# to docs/screenshots (else clients/web/test-results/screenshots).
set -euo pipefail
cd "$(dirname "$0")/.."
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
scripts/build.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd ../.. && go build -o "$tmp/switchboard" ./server/cmd/switchboard)
export SWITCHBOARD_BIN="$tmp/switchboard"
node --test --test-concurrency=2 --test-timeout=120000 --test-reporter=spec tests/*.test.mjs
