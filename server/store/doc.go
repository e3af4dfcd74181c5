// Package store opens Switchboard's database (embedded SQLite by default,
// PostgreSQL when given a postgres URL), migrates its schema, runs
// transactions and translates driver errors into domain errors at the edge.
// What differs between the two databases is one backend, chosen in Open,
// behind the interfaces of seam.go; server/store/storetest is the suite
// every backend passes.
package store
