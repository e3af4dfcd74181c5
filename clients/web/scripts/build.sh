#!/usr/bin/env bash
# Builds the page into dist (committed: the server binary embeds it). The
# same sources always give byte-identical files.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
../ts/scripts/build.sh
npx --no-install tsc -p tsconfig.json
npx --no-install vite build --logLevel warn
