package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"ariga.io/atlas/sql/migrate"
	atpostgres "ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
	atsqlite "ariga.io/atlas/sql/sqlite"
	"ariga.io/atlas/sql/sqltool"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
)

// Adopting a database created before versioned migrations: until then the
// server created and changed its schema itself on every start (ent's
// automatic migration, plus a few statements of its own), so a deployed
// database has every table of the first migration file but no version
// table. Migrate marks it as at that first version, without running the
// file, if its schema equals what the file creates; else it refuses and
// names each difference, as the statements that would remove it.

// baselineMarker is a table every database of the first version has: one
// that has it but no version table is unversioned.
const baselineMarker = "accounts"

// baselineObjects are what the first file creates that schema inspection
// does not compare (sequences; indexes on River's tables, which are
// River's to compare): an unversioned database must have each.
func (s *Store) baselineObjects() []string {
	if s.IsPostgres() {
		return []string{"notification_position", "river_job_account"}
	}
	return []string{"river_job_account"}
}

// adopt records the database as at version baseline after checking that
// its schema equals that version's.
func (s *Store) adopt(ctx context.Context, baseline int64) error {
	if err := s.checkBaseline(ctx); err != nil {
		return err
	}
	vs, err := database.NewStore(database.Dialect(s.gooseDialect()), goose.DefaultTablename)
	if err != nil {
		return err
	}
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // committed below
	if err := vs.CreateVersionTable(ctx, tx); err != nil {
		return fmt.Errorf("adopt the database: %w", err)
	}
	for _, v := range []int64{0, baseline} { // goose's table starts with version 0
		if err := vs.Insert(ctx, tx, database.InsertRequest{Version: v}); err != nil {
			return fmt.Errorf("adopt the database: %w", err)
		}
	}
	return tx.Commit()
}

// checkBaseline compares the database's schema with the one the first
// migration file creates (applied to a scratch database: an in-memory one
// for SQLite, a schema created in a rolled-back transaction for
// PostgreSQL) and fails naming each difference. It changes nothing.
func (s *Store) checkBaseline(ctx context.Context) error {
	files, err := s.migrationFiles()
	if err != nil {
		return err
	}
	first := files[0]
	want, err := s.scratchSchema(ctx, first.Statements)
	if err != nil {
		return fmt.Errorf("adopt the database: applying %s to a scratch database: %w", first.Name, err)
	}
	drv, err := s.atlasDriver(s.DB)
	if err != nil {
		return err
	}
	var names []string
	for _, t := range want.Tables {
		names = append(names, t.Name)
	}
	have, err := drv.InspectSchema(ctx, "", &schema.InspectOptions{Tables: names, Mode: schema.InspectSchemas | schema.InspectTables})
	if err != nil {
		return fmt.Errorf("adopt the database: inspect it: %w", err)
	}
	want.Name, want.Attrs = have.Name, have.Attrs
	changes, err := drv.SchemaDiff(have, want)
	if err != nil {
		return fmt.Errorf("adopt the database: compare it with %s: %w", first.Name, err)
	}
	changes = slices.DeleteFunc(changes, func(c schema.Change) bool {
		switch c.(type) {
		case *schema.AddTable, *schema.DropTable, *schema.ModifyTable:
			return false
		}
		return true // types and other objects: of River's tables
	})
	diffs := describeChanges(changes)
	var fix []string
	if len(changes) > 0 {
		noQualifier := ""
		plan, err := drv.PlanChanges(ctx, "adopt", changes, func(o *migrate.PlanOptions) { o.SchemaQualifier = &noQualifier })
		if err != nil {
			return fmt.Errorf("adopt the database: %w", err)
		}
		for _, c := range plan.Changes {
			fix = append(fix, c.Cmd+";")
		}
	}
	for _, name := range s.baselineObjects() {
		ok, err := s.hasObject(ctx, name)
		if err != nil {
			return err
		}
		if !ok {
			diffs = append(diffs, "it lacks "+name)
		}
	}
	if len(diffs) > 0 {
		msg := fmt.Sprintf("this database was created before versioned migrations, and its schema is not the one "+
			"migration %s creates, so it cannot be marked as migrated to it; make it equal and start again. "+
			"Differences:\n  %s", first.Name, strings.Join(diffs, "\n  "))
		if len(fix) > 0 {
			msg += "\nStatements that would make its tables equal (check each before running it):\n" + strings.Join(fix, "\n")
		}
		return errors.New(msg)
	}
	return nil
}

func (s *Store) atlasDriver(db schema.ExecQuerier) (migrate.Driver, error) {
	if s.IsPostgres() {
		return atpostgres.Open(db)
	}
	return atsqlite.Open(db)
}

// scratchSchema applies stmts (but those on River's tables) to a scratch
// database and returns its schema.
func (s *Store) scratchSchema(ctx context.Context, stmts []string) (*schema.Schema, error) {
	var (
		db  = s.DB
		tx  *sql.Tx
		err error
	)
	if s.IsPostgres() {
		if tx, err = db.BeginTx(ctx, nil); err != nil {
			return nil, err
		}
		defer tx.Rollback() //nolint:errcheck // nothing of the scratch schema is kept
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		name := "switchboard_scratch_" + hex.EncodeToString(b)
		if _, err := tx.ExecContext(ctx, "CREATE SCHEMA "+name); err != nil {
			return nil, fmt.Errorf("the database user cannot create a scratch schema to compare against (grant it CREATE on the database): %w", err)
		}
		if _, err := tx.ExecContext(ctx, "SET LOCAL search_path TO "+name); err != nil {
			return nil, err
		}
	} else {
		mem, err := sql.Open("sqlite", "file::memory:?_pragma=foreign_keys(1)")
		if err != nil {
			return nil, err
		}
		defer mem.Close()
		mem.SetMaxOpenConns(1)
		if tx, err = mem.BeginTx(ctx, nil); err != nil {
			return nil, err
		}
		defer tx.Rollback() //nolint:errcheck // in memory
	}
	for _, q := range stmts {
		if strings.Contains(q, "river_") {
			continue // on River's tables: checked by name (baselineObjects)
		}
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("%s: %w", firstLine(q), err)
		}
	}
	drv, err := s.atlasDriver(tx)
	if err != nil {
		return nil, err
	}
	sc, err := drv.InspectSchema(ctx, "", &schema.InspectOptions{Mode: schema.InspectSchemas | schema.InspectTables})
	if err != nil {
		return nil, err
	}
	return sc, nil
}

// hasTable reports whether the store's schema has the table.
func (s *Store) hasTable(ctx context.Context, name string) (bool, error) {
	var n int
	var err error
	if s.IsPostgres() {
		err = s.DB.QueryRowContext(ctx, `SELECT count(*) FROM pg_tables
			WHERE schemaname = current_schema() AND tablename = $1`, name).Scan(&n)
	} else {
		err = s.DB.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&n)
	}
	if err != nil {
		return false, fmt.Errorf("look for table %s: %w", name, err)
	}
	return n > 0, nil
}

// hasObject reports whether the store's schema has a relation (table,
// index, sequence) of that name.
func (s *Store) hasObject(ctx context.Context, name string) (bool, error) {
	var n int
	var err error
	if s.IsPostgres() {
		err = s.DB.QueryRowContext(ctx, `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = current_schema() AND c.relname = $1`, name).Scan(&n)
	} else {
		err = s.DB.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = ?`, name).Scan(&n)
	}
	if err != nil {
		return false, fmt.Errorf("look for %s: %w", name, err)
	}
	return n > 0, nil
}

// gooseStatements splits a goose migration file into its up statements.
func gooseStatements(name string, b []byte) ([]string, error) {
	stmts, err := (&sqltool.GooseFile{LocalFile: migrate.NewLocalFile(name, b)}).Stmts()
	if err != nil {
		return nil, fmt.Errorf("migration file %s: %w", name, err)
	}
	if len(stmts) == 0 {
		return nil, errors.New("migration file " + name + ": no statements")
	}
	return stmts, nil
}

func firstLine(q string) string {
	q = strings.TrimSpace(q)
	if i := strings.IndexByte(q, '\n'); i >= 0 {
		return q[:i]
	}
	return q
}

// describeChanges names what differs between the database and the first
// migration, from the changes that would take the one to the other.
func describeChanges(changes []schema.Change) []string {
	var out []string
	for _, c := range changes {
		switch c := c.(type) {
		case *schema.AddTable:
			out = append(out, "it lacks table "+c.T.Name)
		case *schema.DropTable:
			out = append(out, "it has table "+c.T.Name+", which the migration does not create")
		case *schema.ModifyTable:
			for _, tc := range c.Changes {
				out = append(out, "table "+c.T.Name+": "+describeTableChange(tc))
			}
		default:
			out = append(out, fmt.Sprintf("%T", c))
		}
	}
	return out
}

func describeTableChange(c schema.Change) string {
	switch c := c.(type) {
	case *schema.AddColumn:
		return "it lacks column " + c.C.Name
	case *schema.DropColumn:
		return "it has column " + c.C.Name + ", which the migration does not create"
	case *schema.ModifyColumn:
		return "column " + c.From.Name + " differs"
	case *schema.AddIndex:
		return "it lacks index " + c.I.Name
	case *schema.DropIndex:
		return "it has index " + c.I.Name + ", which the migration does not create"
	case *schema.ModifyIndex:
		return "index " + c.From.Name + " differs"
	case *schema.AddForeignKey:
		return "it lacks foreign key " + c.F.Symbol
	case *schema.DropForeignKey:
		return "it has foreign key " + c.F.Symbol + ", which the migration does not create"
	case *schema.ModifyForeignKey:
		return "foreign key " + c.From.Symbol + " differs"
	case *schema.AddCheck:
		return "it lacks check " + c.C.Name
	case *schema.DropCheck:
		return "it has check " + c.C.Name + ", which the migration does not create"
	case *schema.ModifyCheck:
		return "check " + c.From.Name + " differs"
	case *schema.ModifyPrimaryKey:
		return "its primary key differs"
	default:
		return fmt.Sprintf("%T", c)
	}
}
