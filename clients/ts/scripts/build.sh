#!/usr/bin/env bash
# Builds the SDK (src, including the generated src/gen) into dist with tsc,
# then the examples (which import the SDK by its package name) into
# examples/dist.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
rm -rf dist examples/dist
npx --no-install tsc -p tsconfig.json
npx --no-install tsc -p tsconfig.examples.json
