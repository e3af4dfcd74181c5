#!/usr/bin/env bash
# Runs the Python client's tests with Debian's python3 (and its grpcio and
# protobuf, installed when missing) against a freshly built server with demo
# data. SWITCHBOARD_BIN may name a server binary built already; PYTHON
# another interpreter that has grpcio and protobuf.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
if [ -z "${SWITCHBOARD_BIN:-}" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd ../.. && go build -o "$tmp/switchboard" ./server/cmd/switchboard)
  export SWITCHBOARD_BIN="$tmp/switchboard"
fi
PYTHONDONTWRITEBYTECODE=1 exec "${PYTHON:-/usr/bin/python3}" tests/run.py
