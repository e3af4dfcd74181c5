// Package testenv runs Switchboard for tests: the behaviour suite runs
// against every store (SQLite always; PostgreSQL when TEST_DATABASE_URL is
// set, in a fresh schema per test), through a real HTTP/2 server.
package testenv
