package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/switchboardhq/switchboard/server/store/migrations"
)

// The schema is migrated by versioned migration files (server/store/
// migrations), applied in order by pressly/goose, after River's own
// versioned migrations (rivermigrate) of its job tables; the first file
// indexes River's job table. Both run under the store's migration lock
// (PostgreSQL: a session advisory lock; SQLite: one process owns the file),
// so replicas starting together migrate once. goose records each applied
// version in VersionTable.

// VersionTable is the table in which goose records the applied versions.
const VersionTable = "goose_db_version"

// MigrateMode says what Open does about a database whose schema is behind.
type MigrateMode int

const (
	// MigrateUp applies every pending migration (the default).
	MigrateUp MigrateMode = iota
	// MigrateRefuse fails if any migration is pending: the schema is
	// migrated separately, by `switchboard migrate up`.
	MigrateRefuse
	// MigrateSkip opens the database as it is (the migrate command).
	MigrateSkip
)

// ErrPending is what Open answers with MigrateRefuse when migrations are
// pending.
var ErrPending = errors.New("the database schema is behind this release")

// Migration is one migration file and whether the database has it.
type Migration struct {
	// Version is the number the file name starts with; Name the file name.
	Version int64
	Name    string
	// Applied is when the database applied it; zero: pending.
	Applied time.Time
	// Statements are the file's SQL statements (the up direction).
	Statements []string
}

// MigrationStatus is where a database is on the migrations.
type MigrationStatus struct {
	// Migrations are every file, in order.
	Migrations []Migration
	// Unversioned: the database was created before versioned migrations
	// (its tables exist, but no version was recorded); migrating adopts it
	// at the first version if its schema equals that version's.
	Unversioned bool
	// RiverPending are the versions of River's migrations the database
	// lacks.
	RiverPending []int
}

// Pending returns the migrations the database lacks.
func (m MigrationStatus) Pending() []Migration {
	var out []Migration
	for _, x := range m.Migrations {
		if x.Applied.IsZero() {
			out = append(out, x)
		}
	}
	return out
}

// Current is the latest version applied (0: none).
func (m MigrationStatus) Current() int64 {
	var v int64
	for _, x := range m.Migrations {
		if !x.Applied.IsZero() {
			v = max(v, x.Version)
		}
	}
	return v
}

// Latest is the version of the last file.
func (m MigrationStatus) Latest() int64 {
	if len(m.Migrations) == 0 {
		return 0
	}
	return m.Migrations[len(m.Migrations)-1].Version
}

func (s *Store) migrationsDir() string {
	if s.IsPostgres() {
		return migrations.Postgres
	}
	return migrations.SQLite
}

func (s *Store) gooseDialect() goose.Dialect {
	if s.IsPostgres() {
		return goose.DialectPostgres
	}
	return goose.DialectSQLite3
}

// provider is goose on the store's migration files.
func (s *Store) provider() (*goose.Provider, error) {
	p, err := goose.NewProvider(s.gooseDialect(), s.DB, s.migrationFS,
		goose.WithDisableGlobalRegistry(true), goose.WithLogger(goose.NopLogger()))
	if err != nil {
		return nil, fmt.Errorf("migration files: %w", err)
	}
	return p, nil
}

func (s *Store) riverMigrator() (*rivermigrate.Migrator[*sql.Tx], error) {
	m, err := rivermigrate.New(s.river, &rivermigrate.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return nil, fmt.Errorf("migrate the outbox: %w", err)
	}
	return m, nil
}

// migrate brings the schema to the latest version, under the migration
// lock: the adoption of a database created before versioned migrations,
// River's tables, then every pending file.
func (s *Store) migrate(ctx context.Context) error {
	_, err := s.Migrate(ctx, false)
	return err
}

// Migrate applies River's pending migrations and then every pending
// migration file (dryRun: only reports them), under the migration lock,
// and returns the status before it. A database created before versioned
// migrations is adopted first: marked as at the first version, which it
// must equal (else Migrate fails naming the difference).
func (s *Store) Migrate(ctx context.Context, dryRun bool) (MigrationStatus, error) {
	var before MigrationStatus
	err := s.backend.migrate(ctx, func() error {
		var err error
		if before, err = s.migrationStatus(ctx); err != nil {
			return err
		}
		if dryRun {
			if before.Unversioned && len(before.Migrations) > 0 {
				return s.checkBaseline(ctx)
			}
			return nil
		}
		// Adoption first: a database it refuses is left as it was.
		if before.Unversioned && len(before.Migrations) > 0 {
			if err := s.adopt(ctx, before.Migrations[0].Version); err != nil {
				return err
			}
		}
		if len(before.RiverPending) > 0 {
			if err := s.migrateRiver(ctx); err != nil {
				return err
			}
		}
		if len(before.Pending()) == 0 {
			return nil
		}
		p, err := s.provider()
		if err != nil {
			return err
		}
		if _, err := p.Up(ctx); err != nil {
			return fmt.Errorf("migrate schema: %w", err)
		}
		return nil
	})
	return before, err
}

// MigrationStatus reports where the database is on the migrations.
func (s *Store) MigrationStatus(ctx context.Context) (MigrationStatus, error) {
	return s.migrationStatus(ctx)
}

func (s *Store) migrationStatus(ctx context.Context) (MigrationStatus, error) {
	var st MigrationStatus
	files, err := s.migrationFiles()
	if err != nil {
		return st, err
	}
	versioned, err := s.hasTable(ctx, VersionTable)
	if err != nil {
		return st, err
	}
	applied := map[int64]time.Time{}
	if versioned {
		p, err := s.provider()
		if err != nil {
			return st, err
		}
		ms, err := p.Status(ctx)
		if err != nil {
			return st, fmt.Errorf("migration status: %w", err)
		}
		for _, m := range ms {
			if m.State == goose.StateApplied {
				applied[m.Source.Version] = m.AppliedAt
				if m.AppliedAt.IsZero() {
					applied[m.Source.Version] = time.Unix(0, 0)
				}
			}
		}
	} else if st.Unversioned, err = s.hasTable(ctx, baselineMarker); err != nil {
		return st, err
	}
	for _, f := range files {
		f.Applied = applied[f.Version]
		st.Migrations = append(st.Migrations, f)
	}
	rm, err := s.riverMigrator()
	if err != nil {
		return st, err
	}
	res, err := rm.Migrate(ctx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{DryRun: true})
	if err != nil {
		return st, fmt.Errorf("migrate the outbox: %w", err)
	}
	for _, v := range res.Versions {
		st.RiverPending = append(st.RiverPending, v.Version)
	}
	return st, nil
}

// migrationFiles reads the migration files, in version order.
func (s *Store) migrationFiles() ([]Migration, error) {
	names, err := fs.Glob(s.migrationFS, "*.sql")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, name := range names {
		v, err := goose.NumericComponent(name)
		if err != nil {
			return nil, fmt.Errorf("migration file %s: %w", name, err)
		}
		b, err := fs.ReadFile(s.migrationFS, name)
		if err != nil {
			return nil, err
		}
		stmts, err := gooseStatements(name, b)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: path.Base(name), Statements: stmts})
	}
	slices.SortFunc(out, func(a, b Migration) int { return int(a.Version - b.Version) })
	return out, nil
}

// migrateRiver creates or updates River's tables in the store's schema (the
// search_path's on PostgreSQL). It runs under the store's migration lock,
// before the migration files.
func (s *Store) migrateRiver(ctx context.Context) error {
	m, err := s.riverMigrator()
	if err != nil {
		return err
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate the outbox: %w", err)
	}
	return nil
}

// checkMigrated fails with ErrPending unless every migration is applied.
func (s *Store) checkMigrated(ctx context.Context) error {
	st, err := s.migrationStatus(ctx)
	if err != nil {
		return err
	}
	pending := st.Pending()
	if len(pending) == 0 && len(st.RiverPending) == 0 {
		return nil
	}
	what := make([]string, 0, len(pending)+1)
	if len(st.RiverPending) > 0 {
		what = append(what, fmt.Sprintf("River's %v", st.RiverPending))
	}
	for _, m := range pending {
		what = append(what, m.Name)
	}
	return fmt.Errorf("%w: it lacks %s; run `switchboard migrate up` with this release first", ErrPending, strings.Join(what, ", "))
}

// MigrateTo applies River's migrations and the migration files up to and
// including version, under the migration lock; an unversioned database is
// not adopted (tests of upgrades from an earlier version).
func (s *Store) MigrateTo(ctx context.Context, version int64) error {
	return s.backend.migrate(ctx, func() error {
		if err := s.migrateRiver(ctx); err != nil {
			return err
		}
		p, err := s.provider()
		if err != nil {
			return err
		}
		if _, err := p.UpTo(ctx, version); err != nil {
			return fmt.Errorf("migrate schema: %w", err)
		}
		return nil
	})
}
