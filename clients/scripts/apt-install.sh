#!/usr/bin/env bash
# Installs the named Debian packages that are not installed yet (as root, or
# through sudo). The Python and Java clients' scripts call it, so a fresh
# machine or CI needs no step of its own.
#
#   clients/scripts/apt-install.sh protobuf-compiler python3-grpcio …
set -euo pipefail
missing=()
for p in "$@"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "apt-get is missing: install these Debian packages (or their equivalents) yourself: ${missing[*]}" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
