#!/usr/bin/env bash
# Builds the stubs (scripts/build.sh), then runs src/test/java with plain
# java against a freshly built server with demo data on a free port (the
# kernel's pick, read from the greeting), SQLite in a temporary folder. SWITCHBOARD_BIN may name a server binary built
# already.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
cp=$(scripts/classpath.sh)
rm -rf build/test-classes
mkdir -p build/test-classes
mapfile -t tests < <(find src/test/java -name '*.java' | sort)
# C1 only and the serial GC: a third of the CPU time for this one-off compile.
javac -J-XX:TieredStopAtLevel=1 -J-XX:+UseSerialGC -nowarn -encoding UTF-8 --release 17 -cp "build/classes:$cp" -d build/test-classes "${tests[@]}"

tmp=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
if [ -z "${SWITCHBOARD_BIN:-}" ]; then
  (cd ../.. && go build -o "$tmp/switchboard" ./server/cmd/switchboard)
  SWITCHBOARD_BIN="$tmp/switchboard"
fi
key=sbk_test_0123456789abcdef
"$SWITCHBOARD_BIN" serve --addr 127.0.0.1:0 --data-dir "$tmp/data" --demo --bootstrap-api-key "$key" \
  >"$tmp/server.log" 2>&1 </dev/null &
server=$!
# The greeting ends with "Try it:"; the demo's employee token comes before it.
for _ in $(seq 1 300); do
  grep -q '^Try it:' "$tmp/server.log" && break
  kill -0 "$server" 2>/dev/null || { cat "$tmp/server.log" >&2; echo "the server exited" >&2; exit 1; }
  sleep 0.1
done
addr=$(sed -n 's|^Switchboard is running at http://\([^[:space:]]*\).*|\1|p' "$tmp/server.log")
[ -n "$addr" ] || { cat "$tmp/server.log" >&2; echo "the server printed no address" >&2; exit 1; }
token=$(sed -n 's/.*employee token of Bruce Wayne (shown once): \(sbe_[^[:space:]]*\).*/\1/p' "$tmp/server.log")
[ -n "$token" ] || { cat "$tmp/server.log" >&2; echo "the server printed no employee token" >&2; exit 1; }
java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "build/test-classes:build/classes:$cp" switchboard.client.SubscribeTest "$addr" "$key" "$token"
