// Package store opens Switchboard's database (embedded SQLite by default,
// PostgreSQL when given a postgres URL), migrates its schema, runs
// transactions and translates driver errors into domain errors at the edge.
package store
