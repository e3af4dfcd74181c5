#!/usr/bin/env bash
# Generates the gRPC-Java stubs with Debian's protoc and grpc_java_plugin
# into build/gen (not committed: they are built from api/ every time) and
# compiles them with the hand-written src/main/java into build/classes, on a
# classpath of Debian's jars (scripts/classpath.sh). Every file of the
# contract's descriptor set but google/protobuf (which protobuf-java ships) is
# generated, so imports such as google/api/*.proto are compiled too.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(cd ../.. && pwd)
scripts/deps.sh
rm -rf build/gen build/classes
mkdir -p build/gen build/classes
(cd "$root" && go tool buf build -o clients/java/build/api.binpb)
mapfile -t files < <(cd "$root" && go tool buf ls-files clients/java/build/api.binpb --format import --include-imports | grep -v '^google/protobuf/')
protoc --descriptor_set_in=build/api.binpb --java_out=build/gen --grpc-java_out=build/gen \
  --plugin=protoc-gen-grpc-java=/usr/bin/grpc_java_plugin "${files[@]}"
mapfile -t sources < <(find build/gen src/main/java -name '*.java' | sort)
# C1 only and the serial GC: a third of the CPU time for this one-off compile.
javac -J-XX:TieredStopAtLevel=1 -J-XX:+UseSerialGC -nowarn -encoding UTF-8 --release 11 -cp "$(scripts/classpath.sh)" -d build/classes "${sources[@]}"
