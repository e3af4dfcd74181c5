#!/usr/bin/env bash
# Builds the SDK (src, including the generated src/gen) into dist with tsc.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
rm -rf dist
npx --no-install tsc -p tsconfig.json
