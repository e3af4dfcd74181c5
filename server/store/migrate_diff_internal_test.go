package store

import (
	"bytes"
	"context"
	"database/sql"
	"testing"
	"testing/fstest"

	"ariga.io/atlas/sql/migrate"
	atsqlite "ariga.io/atlas/sql/sqlite"
	"github.com/pressly/goose/v3"
)

// An SQLite migration that changes a column rebuilds its table; rows of
// other tables that reference it keep their references (with foreign keys
// on inside a transaction, dropping the old table would clear them).
func TestSQLiteRebuildKeepsReferences(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file::memory:?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		"CREATE TABLE parents (id integer PRIMARY KEY, name text NOT NULL)",
		"CREATE TABLE children (id integer PRIMARY KEY, parent_id integer NULL REFERENCES parents (id) ON DELETE SET NULL)",
		"INSERT INTO parents VALUES (1, 'p')",
		"INSERT INTO children VALUES (10, 1)",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	drv, err := atsqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	have, err := drv.InspectSchema(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := drv.InspectSchema(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := want.Table("parents")
	name, _ := p.Column("name")
	name.Type.Null = true // a column change: SQLite rebuilds the table
	changes, err := drv.SchemaDiff(have, want)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := drv.PlanChanges(ctx, "relax", changes, func(o *migrate.PlanOptions) { s := ""; o.SchemaQualifier = &s })
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := gooseFormatter("1").(migrate.TemplateFormatter).FormatTo(plan, &buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte("PRAGMA foreign_keys = off;")) {
		t.Fatalf("the plan does not rebuild the table:\n%s", buf.String())
	}
	file := sqliteRebuildsOutsideTx(buf.Bytes())
	gp, err := goose.NewProvider(goose.DialectSQLite3, db, fstest.MapFS{"1_relax.sql": {Data: file}},
		goose.WithDisableGlobalRegistry(true), goose.WithLogger(goose.NopLogger()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gp.Up(ctx); err != nil {
		t.Fatalf("%v\n%s", err, file)
	}
	var parent sql.NullInt64
	if err := db.QueryRowContext(ctx, "SELECT parent_id FROM children WHERE id = 10").Scan(&parent); err != nil {
		t.Fatal(err)
	}
	var fk int
	if err := db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		t.Fatal(err)
	}
	after, err := drv.InspectSchema(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	p, _ = after.Table("parents")
	name, _ = p.Column("name")
	if !parent.Valid || parent.Int64 != 1 || fk != 1 || !name.Type.Null {
		t.Fatalf("after the rebuild: the child's parent %v, foreign keys %d, parents.name nullable %v\n%s", parent, fk, name.Type.Null, file)
	}
}
