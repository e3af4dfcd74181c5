// Package metrics owns the server's Prometheus metrics: a registry per
// server (so several servers in one process do not collide), a Connect
// interceptor that counts and times every RPC and reads routing's answers
// (decisions, claims, stream deliveries), collectors that read the outbox
// and the database pool when scraped, and the /metrics handler.
// docs/OPERATIONS.md lists every metric with its labels.
package metrics
