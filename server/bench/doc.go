// Package bench measures Switchboard on this machine: RouteIncomingMessage
// over the real Connect transport (h2c) against PostgreSQL and embedded
// SQLite, the same transaction written directly with pgx as the ceiling,
// CheckAccess, and the notification streams. It is run by
// "switchboard bench" and its results go to docs/BENCHMARKS.md.
package bench
