#!/usr/bin/env bash
# Installs the page's pinned npm packages, and the SDK's, when node_modules
# is missing or older than package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."
../ts/scripts/deps.sh
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
