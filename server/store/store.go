package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/XSAM/otelsql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/riverdriver"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.39.0"
	"go.opentelemetry.io/otel/trace"
	msqlite "modernc.org/sqlite" // also registers the "sqlite" driver

	"github.com/switchboardhq/switchboard/ent"
	_ "github.com/switchboardhq/switchboard/ent/runtime" // installs schema hooks: tenant scoping
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/store/migrations"
)

// Store is an open database.
type Store struct {
	// Ent is the data access client. Every query on it is tenant-scoped by
	// its context.
	Ent *ent.Client
	// DB is the underlying pool.
	DB *sql.DB
	// URL is the PostgreSQL URL (empty for SQLite), for connections outside
	// the pool.
	URL string

	// backend is what differs between the databases (seam.go), chosen in
	// Open; dialect is ent's name of the database.
	backend backend
	dialect string

	mu       sync.Mutex
	watchers []func(accountID int64)

	sqlite *stmtCacheDriver // the SQLite driver; nil on PostgreSQL

	river riverdriver.Driver[*sql.Tx]

	txs sync.Map // *ent.Tx → its *sql.Tx, while Tx runs its function (sqltx.go)

	migrationFS fs.FS // the migration files of the store's dialect
}

// OnDirectoryChange calls fn after every committed change to an account's
// directory (accountID 0: possibly every account).
func (s *Store) OnDirectoryChange(fn func(accountID int64)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watchers = append(s.watchers, fn)
}

func (s *Store) directoryChanged(accountID int64) {
	s.mu.Lock()
	ws := s.watchers
	s.mu.Unlock()
	for _, fn := range ws {
		fn(accountID)
	}
}

// Config says which database to open.
type Config struct {
	// URL is a postgres:// URL, or "sqlite:" / "file:" followed by a path, or
	// a plain path to an SQLite file. Empty means DataDir/switchboard.db.
	URL string
	// DataDir holds the default SQLite file.
	DataDir string
	// MaxConns bounds the PostgreSQL pool (default 16).
	MaxConns int
	// TracerProvider, when set, traces the database's statements as
	// children of the request's span (OpenTelemetry, through otelsql).
	// Nil: no tracing, and nothing in the way of the driver.
	TracerProvider trace.TracerProvider
	// Migrate says what to do about pending schema migrations: apply them
	// (the default), refuse to open, or skip (migrate.go).
	Migrate MigrateMode
	// Migrations are the migration files to apply; nil: the ones embedded
	// in the binary (server/store/migrations) for the database's dialect.
	Migrations fs.FS
}

// openDB opens the database through connector, traced when tp is set.
func openDB(c driver.Connector, tp trace.TracerProvider, system attribute.KeyValue) *sql.DB {
	if tp == nil {
		return sql.OpenDB(c)
	}
	return otelsql.OpenDB(c, otelsql.WithTracerProvider(tp), otelsql.WithAttributes(system),
		otelsql.WithSpanOptions(otelsql.SpanOptions{
			OmitConnResetSession: true, OmitRows: true, OmitConnectorConnect: true,
			// Only statements of a traced request: background work (the
			// outbox's polls, the log's tailer) would be a root span each.
			SpanFilter: func(ctx context.Context, _ otelsql.Method, _ string, _ []driver.NamedValue) bool {
				return trace.SpanContextFromContext(ctx).IsValid()
			},
		}))
}

// isPostgresURL reports whether url names a PostgreSQL database.
func isPostgresURL(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// Open opens the database and migrates its schema (see Config.Migrate).
func Open(ctx context.Context, cfg Config) (*Store, error) {
	var s *Store
	var err error
	if isPostgresURL(cfg.URL) {
		s, err = openPostgres(cfg)
	} else {
		s, err = openSQLite(cfg)
	}
	if err != nil {
		return nil, err
	}
	s.migrationFS = cfg.Migrations
	if s.migrationFS == nil {
		s.migrationFS = migrations.FS(s.migrationsDir())
	}
	switch cfg.Migrate {
	case MigrateUp:
		err = s.migrate(ctx)
	case MigrateRefuse:
		err = s.checkMigrated(ctx)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	if s.sqlite != nil {
		s.sqlite.groupCommits()
	}
	return s, nil
}

func openPostgres(cfg Config) (*Store, error) {
	pc, err := pgx.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	db := openDB(stdlib.GetConnector(*pc), cfg.TracerProvider, semconv.DBSystemNamePostgreSQL)
	n := cfg.MaxConns
	if n <= 0 {
		n = 16
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	return newStore(pgDriver{entsql.OpenDB(dialect.Postgres, db)}, db, &postgres{db: db, url: cfg.URL}, cfg.URL), nil
}

func openSQLite(cfg Config) (*Store, error) {
	description := "SQLite " + cfg.URL
	path := cfg.URL
	path = strings.TrimPrefix(path, "sqlite://")
	path = strings.TrimPrefix(path, "sqlite:")
	path = strings.TrimPrefix(path, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == "" {
		dir := cfg.DataDir
		if dir == "" {
			dir = "data"
		}
		path = filepath.Join(dir, "switchboard.db")
		description = "SQLite in " + dir
	}
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
	}
	// WAL with synchronous=FULL: a commit is on disk before it is
	// acknowledged. One connection: SQLite has one writer anyway, and a
	// single connection serializes transactions in process instead of
	// failing them with SQLITE_BUSY.
	dsn := "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)" +
		"&_pragma=busy_timeout(10000)&_txlock=immediate"
	db := openDB(sqliteConnector{dsn}, cfg.TracerProvider, semconv.DBSystemNameSQLite)
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	drv := newStmtCacheDriver(db, dialect.SQLite)
	s := newStore(drv, db, &sqlite{description: description, pace: map[string]time.Time{}}, "")
	s.sqlite = drv
	return s, nil
}

// sqliteConnector opens connections of the registered "sqlite" driver.
type sqliteConnector struct{ dsn string }

func (c sqliteConnector) Connect(context.Context) (driver.Conn, error) { return c.Driver().Open(c.dsn) }
func (sqliteConnector) Driver() driver.Driver                          { return &msqlite.Driver{} }

func newStore(drv dialect.Driver, db *sql.DB, b backend, url string) *Store {
	s := &Store{Ent: ent.NewClient(ent.Driver(drv)), DB: db, URL: url, backend: b, dialect: drv.Dialect()}
	s.river = b.river(db)
	versionDirectory(s.Ent, s.directoryChanged)
	return s
}

// Close closes the database.
func (s *Store) Close() error { return s.Ent.Close() }

// CommitGroups reports, on SQLite, how many SQLite transactions the write
// transactions so far shared (groups) and how many write transactions there
// were (members); see group.go. Both are 0 on PostgreSQL.
func (s *Store) CommitGroups() (groups, members int) {
	if s.sqlite == nil || s.sqlite.group == nil {
		return 0, 0
	}
	return s.sqlite.group.stats()
}

// IsPostgres reports whether the store is PostgreSQL. Capabilities call the
// store's seam instead (seam.go); only routing's single-statement writes
// still ask.
func (s *Store) IsPostgres() bool { return s.dialect == dialect.Postgres }

// ErrRetry asks Tx to run the function again in a new transaction: returned
// (wrapped) when a concurrent transaction created what this one was about to
// create, so a second run finds it.
var ErrRetry = errors.New("store: retry transaction")

const maxAttempts = 8

// Tx runs fn in a transaction and commits it, or rolls back if fn fails.
// Serialization failures, deadlocks and ErrRetry run fn again, a few times.
//
// A transaction that failed before its commit because the database dropped
// or refused the connection is run again on another connection, a few
// times; a failed commit never is (it may have taken effect), and answers
// Unavailable like every error of an unreachable database.
func (s *Store) Tx(ctx context.Context, fn func(tx *ent.Tx) error) error {
	var err error
	unreachable := 0
	for attempt := 0; attempt < maxAttempts; attempt++ {
		err = s.tx(ctx, fn)
		if err == nil || ctx.Err() != nil {
			return err
		}
		var ce errCommit
		switch {
		case errors.As(err, &ce):
			return err
		case IsUnreachable(err):
			if unreachable++; unreachable >= unreachableAttempts {
				return err
			}
			time.Sleep(time.Duration(unreachable) * 20 * time.Millisecond)
		case !retryable(err):
			return err
		}
	}
	return err
}

func (s *Store) tx(ctx context.Context, fn func(tx *ent.Tx) error) (err error) {
	var raw *sql.Tx
	tx, err := s.Ent.Tx(context.WithValue(ctx, rawTxKey{}, &raw))
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if raw != nil {
		s.txs.Store(tx, raw)
	}
	defer func() {
		s.txs.Delete(tx)
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return errCommit{err}
	}
	return nil
}

func retryable(err error) bool {
	if errors.Is(err, ErrRetry) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return false
}

// IsUniqueViolation reports whether err is a unique-constraint violation.
func IsUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	// modernc.org/sqlite reports "UNIQUE constraint failed: ..."
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// NotFound translates ent's not-found into the domain's, naming what was
// looked up; other errors pass through unchanged.
func NotFound(err error, what string, id any) error {
	if ent.IsNotFound(err) {
		return errs.NotFound(what, id)
	}
	return err
}

// ReadTx runs fn in a read-only transaction that sees one snapshot of the
// database (REPEATABLE READ on PostgreSQL; SQLite transactions always do), so
// several queries read a consistent state: a settings revision always
// matches the settings read with it.
func (s *Store) ReadTx(ctx context.Context, fn func(tx *ent.Tx) error) error {
	tx, err := s.Ent.BeginTx(ctx, s.backend.readOptions())
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep
	return fn(tx)
}
