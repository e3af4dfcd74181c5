package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"text/template"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	entschema "entgo.io/ent/dialect/sql/schema"
	"github.com/jackc/pgx/v5"

	entmigrate "github.com/switchboardhq/switchboard/ent/migrate"
	"github.com/switchboardhq/switchboard/server/store/migrations"
)

// Writing migration files: the next file of a dialect is what ent's
// schema differ (Atlas) plans to take a database migrated by the files so
// far (River's migrations, then every file, as a server would) to the ent
// schema; the same options as the automatic migration the server ran
// before versioned migrations: tables, columns and indexes are added and
// changed, indexes dropped, never a column or a table.

// CommandMigration is the command that writes the next migration files.
const CommandMigration = "make migration NAME=what_changed"

// CommandHash is the command that rewrites atlas.sum after a reviewed
// change of a migration file.
const CommandHash = "make migration-hash"

// DiffOptions say which migrations to compare with the ent schema.
type DiffOptions struct {
	// Dialect is migrations.Postgres or migrations.SQLite.
	Dialect string
	// Dir is the dialect's migration directory on disk.
	Dir string
	// DevURL (PostgreSQL) is a database in which a scratch schema is
	// created, migrated and dropped; SQLite uses an in-memory database.
	DevURL string
	// Name is the name of the new file (after its version).
	Name string
	// Version of the new file; empty: the current UTC time, YYYYMMDDHHMMSS.
	Version string
	// Check only reports the next file; nothing is written.
	Check bool
}

// schemaMu serializes ent's schema differ within the process: it writes
// to the generated schema's tables, which every differ shares.
var schemaMu sync.Mutex

// DiffMigrations returns the name and content of the next migration file
// of the dialect, or "" when the files and the ent schema agree. Unless
// o.Check, it writes the file to o.Dir and updates atlas.sum. A directory
// whose files do not match its atlas.sum is an error.
func DiffMigrations(ctx context.Context, o DiffOptions) (name string, content []byte, err error) {
	if o.Name == "" {
		return "", nil, errors.New("a migration needs a name")
	}
	if o.Version == "" {
		o.Version = time.Now().UTC().Format("20060102150405")
	}
	local, err := migrate.NewLocalDir(o.Dir)
	if err != nil {
		return "", nil, err
	}
	if err := migrate.Validate(local); err != nil {
		return "", nil, fmt.Errorf("%s: %w: if the change of its files is reviewed, run %s", o.Dir, err, CommandHash)
	}
	var dir migrate.Dir = local
	if o.Check {
		mem := &migrate.MemDir{}
		files, err := local.Files()
		if err != nil {
			return "", nil, err
		}
		if err := mem.CopyFiles(files); err != nil {
			return "", nil, err
		}
		sum, err := local.Checksum()
		if err != nil {
			return "", nil, err
		}
		if err := migrate.WriteSumFile(mem, sum); err != nil {
			return "", nil, err
		}
		dir = mem
	}
	before, err := fileNames(dir)
	if err != nil {
		return "", nil, err
	}

	st, done, err := devStore(ctx, o)
	if err != nil {
		return "", nil, err
	}
	defer done()

	entDialect := dialect.SQLite
	if o.Dialect == migrations.Postgres {
		entDialect = dialect.Postgres
	}
	m, err := entschema.NewMigrate(entsql.OpenDB(entDialect, st.DB),
		entschema.WithDir(dir), entschema.WithFormatter(gooseFormatter(o.Version)),
		entschema.WithDropIndex(true), entschema.WithErrNoPlan(true))
	if err != nil {
		return "", nil, err
	}
	schemaMu.Lock()
	err = m.NamedDiff(ctx, o.Name, entmigrate.Tables...)
	schemaMu.Unlock()
	if errors.Is(err, migrate.ErrNoPlan) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("plan the %s migration: %w", o.Dialect, err)
	}
	after, err := dir.Files()
	if err != nil {
		return "", nil, err
	}
	for _, f := range after {
		if slices.Contains(before, f.Name()) {
			continue
		}
		content := f.Bytes()
		if o.Dialect == migrations.SQLite {
			if fixed := sqliteRebuildsOutsideTx(content); !bytes.Equal(fixed, content) {
				content = fixed
				if err := dir.WriteFile(f.Name(), content); err != nil {
					return "", nil, err
				}
				sum, err := dir.Checksum()
				if err != nil {
					return "", nil, err
				}
				if err := migrate.WriteSumFile(dir, sum); err != nil {
					return "", nil, err
				}
			}
		}
		return f.Name(), content, nil
	}
	return "", nil, errors.New("the planned migration was not written")
}

// sqliteRebuildsOutsideTx fixes an SQLite migration that rebuilds a table
// (Atlas's way of changing a column: copy into a new table, drop the old,
// rename), which Atlas brackets with PRAGMA foreign_keys = off/on. That
// pragma does nothing inside a transaction, and with foreign keys on,
// dropping the old table would fire the ON DELETE actions of the tables
// referencing it (clearing or deleting their rows). So the file runs
// outside goose's transaction, and opens its own once foreign keys are
// off.
func sqliteRebuildsOutsideTx(content []byte) []byte {
	s := string(content)
	if !strings.Contains(s, "PRAGMA foreign_keys = off;\n") {
		return content
	}
	s = strings.Replace(s, "-- +goose Up\n", "-- +goose Up\n-- +goose NO TRANSACTION\n", 1)
	s = strings.ReplaceAll(s, "PRAGMA foreign_keys = off;\n", "PRAGMA foreign_keys = off;\nBEGIN;\n")
	s = strings.ReplaceAll(s, "PRAGMA foreign_keys = on;\n", "COMMIT;\nPRAGMA foreign_keys = on;\n")
	return []byte(s)
}

// HashMigrations rewrites dir's atlas.sum from its files.
func HashMigrations(dir string) error {
	local, err := migrate.NewLocalDir(dir)
	if err != nil {
		return err
	}
	sum, err := local.Checksum()
	if err != nil {
		return err
	}
	return migrate.WriteSumFile(local, sum)
}

func fileNames(dir migrate.Dir) ([]string, error) {
	files, err := dir.Files()
	if err != nil {
		return nil, err
	}
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.Name()
	}
	return out, nil
}

// gooseFormatter writes a plan as a goose migration named by version.
func gooseFormatter(version string) migrate.Formatter {
	f, err := migrate.NewTemplateFormatter(
		template.Must(template.New("name").Parse(version+"{{ with .Name }}_{{ . }}{{ end }}.sql")),
		template.Must(template.New("content").Parse(
			"-- +goose Up\n{{ range .Changes }}{{ with .Comment }}-- {{ println . }}{{ end }}{{ printf \"%s;\\n\" .Cmd }}{{ end }}")),
	)
	if err != nil {
		panic(err)
	}
	return f
}

// devStore opens a scratch database of the dialect migrated by the
// directory's files.
func devStore(ctx context.Context, o DiffOptions) (*Store, func(), error) {
	cfg := Config{URL: ":memory:", Migrations: os.DirFS(o.Dir)}
	drop := func() {}
	if o.Dialect == migrations.Postgres {
		if o.DevURL == "" {
			return nil, nil, errors.New("the PostgreSQL migrations need a database to plan in (a dev URL)")
		}
		conn, err := pgx.Connect(ctx, o.DevURL)
		if err != nil {
			return nil, nil, fmt.Errorf("connect to the dev database: %w", err)
		}
		defer conn.Close(context.WithoutCancel(ctx))
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		name := "switchboard_dev_" + hex.EncodeToString(b)
		if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
			return nil, nil, fmt.Errorf("create a scratch schema in the dev database: %w", err)
		}
		drop = func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if c, err := pgx.Connect(ctx, o.DevURL); err == nil {
				_, _ = c.Exec(ctx, "DROP SCHEMA "+name+" CASCADE")
				_ = c.Close(ctx)
			}
		}
		u, err := url.Parse(o.DevURL)
		if err != nil {
			drop()
			return nil, nil, err
		}
		q := u.Query()
		q.Set("search_path", name)
		u.RawQuery = q.Encode()
		cfg.URL, cfg.MaxConns = u.String(), 4
	}
	st, err := Open(ctx, cfg)
	if err != nil {
		drop()
		return nil, nil, fmt.Errorf("migrate a scratch %s database by %s: %w", o.Dialect, o.Dir, err)
	}
	return st, func() { st.Close(); drop() }, nil
}

// MigrationsDir finds the dialect's migration directory from the working
// directory (a test's package directory, or the repository's root).
func MigrationsDir(dialect string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "server", "store", "migrations", dialect)
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no server/store/migrations/%s above the working directory", dialect)
		}
		dir = parent
	}
}

var _ fs.FS = (*migrate.MemDir)(nil)
