#!/usr/bin/env bash
# Prints the classpath of Debian's jars that the generated stubs and a
# plaintext Netty channel need at compile and run time.
set -euo pipefail
jars=(grpc-api grpc-context grpc-core grpc-stub grpc-protobuf grpc-protobuf-lite grpc-netty
  protobuf guava perfmark-api gson jsr305 error_prone_annotations geronimo-annotation-1.3-spec
  netty-buffer netty-codec netty-codec-http netty-codec-http2 netty-common netty-handler
  netty-resolver netty-transport netty-codec-socks netty-handler-proxy)
cp=""
for j in "${jars[@]}"; do
  f=/usr/share/java/$j.jar
  [ -f "$f" ] || { echo "missing $f (run clients/java/scripts/deps.sh)" >&2; exit 1; }
  cp="${cp:+$cp:}$f"
done
echo "$cp"
