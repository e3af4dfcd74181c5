#!/usr/bin/env bash
# Smoke check of a real server on SQLite with the demo company: a message is
# routed over REST and its push read back over REST, the same over gRPC
# with buf curl, and /openapi.json answers without
# credentials. SWITCHBOARD_BIN may name a server binary built already.
set -euo pipefail
cd "$(dirname "$0")/../.."
key=sbk_demo_0123456789abcdef
tmp=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "smoke: $*" >&2; echo "--- server log" >&2; cat "$tmp/log" >&2; exit 1; }

bin=${SWITCHBOARD_BIN:-}
if [ -z "$bin" ]; then
  go build -o "$tmp/switchboard" ./server/cmd/switchboard
  bin=$tmp/switchboard
fi
go tool buf --version >/dev/null # built before the clock starts

"$bin" serve --demo --bootstrap-api-key "$key" --addr 127.0.0.1:0 --data-dir "$tmp/data" >"$tmp/log" 2>&1 &
pid=$!
base=
for _ in $(seq 1 100); do
  base=$(grep -o 'url=http://[0-9.:]*' "$tmp/log" | head -n1 | cut -d= -f2) || true
  [ -n "$base" ] && break
  kill -0 "$pid" 2>/dev/null || fail "server exited"
  sleep 0.2
done
[ -n "$base" ] || fail "server did not start"

doc=$(curl -sSf "$base/openapi.json") || fail "/openapi.json failed"
grep -q '"/v1/routing:routeIncomingMessage"' <<<"$doc" || fail "/openapi.json lacks the routing path"

routed=$(curl -sSf -X POST "$base/v1/routing:routeIncomingMessage" \
  -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  -d '{"channelId":"1","senderPhone":"+7 916 123-45-67","senderName":"Anna","content":{"text":"Is the sofa still available?"},"gatewayMessageId":"smoke-1"}') ||
  fail "REST RouteIncomingMessage failed"
chat=$(grep -o '"chat":{"id":"[0-9]*"' <<<"$routed" | grep -o '[0-9]*' | head -n1)
employee=$(grep -o '"notifications":\[{[^]]*"employeeId":"[0-9]*"' <<<"$routed" | grep -o '"employeeId":"[0-9]*"' | head -n1 | grep -o '[0-9]*')
[ -n "$chat" ] && [ -n "$employee" ] || fail "routing answered without a chat or a push: $routed"

pushes=$(curl -sSf "$base/v1/notifications?employeeId=$employee" -H "Authorization: Bearer $key") ||
  fail "REST ListNotifications failed"
grep -q "\"chatId\":\"$chat\"" <<<"$pushes" || fail "employee $employee has no push for chat $chat: $pushes"

status=$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/notifications?employeeId=$employee")
[ "$status" = 401 ] || fail "REST without a key answered $status, want 401"

channels=$(go tool buf curl --protocol grpc --http2-prior-knowledge -H "Authorization: Bearer $key" \
  "$base/switchboard.v1.DirectoryService/ListChannels") || fail "gRPC ListChannels failed"
grep -q '"channels"' <<<"$channels" || fail "gRPC ListChannels answered $channels"

grouted=$(go tool buf curl --protocol grpc --http2-prior-knowledge -H "Authorization: Bearer $key" \
  -d '{"channelId":"1","senderPhone":"+7 916 765-43-21","senderName":"Boris","content":{"text":"Hello"},"gatewayMessageId":"smoke-2"}' \
  "$base/switchboard.v1.RoutingService/RouteIncomingMessage") || fail "gRPC RouteIncomingMessage failed"
gchat=$(grep -o '"chat": *{ *"id": *"[0-9]*"' <<<"$(tr -d '\n' <<<"$grouted")" | grep -o '[0-9]*' | head -n1)
gemployee=$(tr -d '\n ' <<<"$grouted" | grep -o '"notifications":\[{[^]]*"employeeId":"[0-9]*"' | grep -o '"employeeId":"[0-9]*"' | head -n1 | grep -o '[0-9]*')
[ -n "$gchat" ] && [ -n "$gemployee" ] || fail "gRPC routing answered without a chat or a push: $grouted"
gpushes=$(go tool buf curl --protocol grpc --http2-prior-knowledge -H "Authorization: Bearer $key" \
  -d "{\"employeeId\":\"$gemployee\"}" "$base/switchboard.v1.NotificationService/ListNotifications") ||
  fail "gRPC ListNotifications failed"
tr -d '\n ' <<<"$gpushes" | grep -q "\"chatId\":\"$gchat\"" || fail "gRPC: employee $gemployee has no push for chat $gchat: $gpushes"

echo "smoke: REST routed chat $chat and listed employee $employee's push; gRPC (buf curl) listed the channels, routed chat $gchat and listed employee $gemployee's push"
