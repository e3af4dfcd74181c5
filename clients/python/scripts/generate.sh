#!/usr/bin/env bash
# Regenerates the Python messages and gRPC stubs in src/ (committed) with
# Debian's protoc and grpc_python_plugin, installing them when missing:
#   src/switchboard/v1/  from api/ (a descriptor set built by buf), and every
#                        other file that set holds except google/protobuf
#                        (for example google/api/*.proto once the contract
#                        imports them), each into src/<its path>;
#   src/google/rpc/      status.proto and error_details.proto, the error
#                        details the server sends, from the Go module the
#                        server uses (scripts/rpcprotos).
# The same protos and the same Debian packages give byte-identical files.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(cd ../.. && pwd)
scripts/deps.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && go tool buf build -o "$tmp/api.binpb" && go run ./clients/python/scripts/rpcprotos -o "$tmp/rpc.binpb")

buf_files() { (cd "$root" && go tool buf ls-files "$1" --format import --include-imports) | grep -v '^google/protobuf/' || true; }
api=$(buf_files "$tmp/api.binpb")
sets="$tmp/api.binpb"
files=$api
# The contract may import google/rpc itself one day: then its copy is used.
if ! grep -qx 'google/rpc/status.proto' <<<"$api" || ! grep -qx 'google/rpc/error_details.proto' <<<"$api"; then
  sets="$sets:$tmp/rpc.binpb"
  files=$(printf '%s\n%s\n' "$api" "$(buf_files "$tmp/rpc.binpb")" | sort -u)
fi

# Everything generated lives under these folders; hand-written code does not.
rm -rf src/switchboard/v1 src/google
mkdir -p "$tmp/out"
# shellcheck disable=SC2086 # one argument per file
protoc --descriptor_set_in="$sets" --python_out="$tmp/out" $files
# Stubs only for the contract's own files (the others declare no service).
# shellcheck disable=SC2086
protoc --descriptor_set_in="$sets" --grpc_out="$tmp/out" \
  --plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin $(grep '^switchboard/' <<<"$files")
cp -r "$tmp/out/." src/
# switchboard.v1 is a package of the distribution; google.* stay namespace
# packages, so an installed googleapis-common-protos takes precedence.
touch src/switchboard/v1/__init__.py
