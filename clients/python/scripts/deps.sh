#!/usr/bin/env bash
# Installs what the Python client needs from Debian when missing: the
# interpreter and its grpcio and protobuf (the tests use no pip), and protoc
# with grpc_python_plugin (scripts/generate.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
../scripts/apt-install.sh python3 python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc
