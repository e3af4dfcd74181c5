#!/usr/bin/env bash
# Installs what the Java client needs from Debian when missing: a JDK, protoc
# with the gRPC-Java plugin, and the jars of grpc-java (with Netty, which
# Debian's libgrpc-java does not pull in), protobuf-java and their needs.
set -euo pipefail
cd "$(dirname "$0")/.."
../scripts/apt-install.sh default-jdk-headless protobuf-compiler protobuf-compiler-grpc-java-plugin \
  libgrpc-java libprotobuf-java libnetty-java libguava-java libperfmark-java libgoogle-gson-java \
  libgeronimo-annotation-1.3-spec-java
