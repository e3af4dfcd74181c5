// Package migrations holds the database's versioned schema migrations, one
// directory per dialect (postgres/, sqlite/), embedded in the binary. Each
// file is a reviewed, committed change of the schema, in the format of
// pressly/goose ("-- +goose Up"), applied in the order of its version (the
// number its name starts with) by server/store when the server starts or by
// `switchboard migrate up`. atlas.sum in each directory is the checksum of
// its files: a file changed after it was written fails the drift test until
// the change is reviewed and the sum rewritten (`make migration-hash`).
//
// New files are written by `make migration NAME=what_changed` (the program
// in ./generate), from the difference between the ent schema (ent/schema)
// and a database migrated by the files so far. Never edit a file that a
// release has applied; add a new one.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed postgres sqlite
var files embed.FS

// The dialects' directory names.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// FS returns the migration files of dialect (Postgres or SQLite).
func FS(dialect string) fs.FS {
	sub, err := fs.Sub(files, dialect)
	if err != nil {
		panic(err) // the directories are embedded above
	}
	return sub
}
