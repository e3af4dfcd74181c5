package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river/rivermigrate"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/notification"
	"github.com/switchboardhq/switchboard/server/accounts"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/store/migrations"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// The drift test: the migration files of each dialect take a database to
// exactly the ent schema. It fails when an ent schema change has no
// migration yet, naming the command that writes it.
func TestMigrationFilesMatchEntSchema(t *testing.T) {
	dialects := []string{migrations.SQLite}
	pg := os.Getenv("TEST_DATABASE_URL")
	if pg != "" {
		dialects = append(dialects, migrations.Postgres)
	}
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			dir, err := store.MigrationsDir(d)
			NoErr(t, err)
			name, content, err := store.DiffMigrations(context.Background(),
				store.DiffOptions{Dialect: d, Dir: dir, DevURL: pg, Name: "what_changed", Check: true})
			if err != nil {
				t.Fatal(err)
			}
			if name != "" {
				t.Fatalf("the ent schema (ent/schema) differs from what the %s migration files create. "+
					"Run `%s` (on the local PostgreSQL; or go run ./server/store/migrations/generate -name what_changed -dev-url URL), "+
					"review the new files in server/store/migrations/*/ and commit them with atlas.sum. "+
					"The next %s migration would be %s:\n%s", d, store.CommandMigration, d, name, content)
			}
		})
	}
}

func openMode(t testing.TB, url string, mode store.MigrateMode) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{URL: url, MaxConns: 8, Migrate: mode})
	NoErr(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

// versionRows returns how many rows the version table has of each version.
func versionRows(t testing.TB, st *store.Store) map[int64]int {
	t.Helper()
	rows, err := st.DB.Query("SELECT version_id, count(*) FROM " + store.VersionTable + " WHERE is_applied GROUP BY version_id")
	NoErr(t, err)
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var v int64
		var n int
		NoErr(t, rows.Scan(&v, &n))
		out[v] = n
	}
	NoErr(t, rows.Err())
	return out
}

// wantAllOnce checks that the version table has every file's version once.
func wantAllOnce(t testing.TB, st *store.Store) {
	t.Helper()
	status, err := st.MigrationStatus(context.Background())
	NoErr(t, err)
	if p := status.Pending(); len(p) > 0 || len(status.RiverPending) > 0 || status.Unversioned {
		t.Fatalf("after migrating: pending %v, River's %v, unversioned %v", p, status.RiverPending, status.Unversioned)
	}
	got := versionRows(t, st)
	for _, m := range status.Migrations {
		if got[m.Version] != 1 {
			t.Errorf("version %d (%s) recorded %d times", m.Version, m.Name, got[m.Version])
		}
		delete(got, m.Version)
	}
	delete(got, 0) // goose's table starts with version 0
	if len(got) > 0 {
		t.Errorf("versions recorded that no file has: %v", got)
	}
}

// wantObjects checks what the first file creates beyond ent's schema.
func wantObjects(t testing.TB, st *store.Store) {
	t.Helper()
	names := []string{"river_job_account"}
	if st.IsPostgres() {
		names = append(names, "notification_position", "outbox_pace")
	}
	for _, n := range names {
		var c int
		var err error
		if st.IsPostgres() {
			err = st.DB.QueryRow(`SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
				WHERE n.nspname = current_schema() AND c.relname = $1`, n).Scan(&c)
		} else {
			err = st.DB.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = ?`, n).Scan(&c)
		}
		NoErr(t, err)
		if c != 1 {
			t.Errorf("%s: %d objects", n, c)
		}
	}
}

// appWorks uses the store as the server does: an account with its key and
// settings, a push decision in the log, a pace reservation.
func appWorks(t testing.TB, st *store.Store) int64 {
	t.Helper()
	ctx := context.Background()
	a, key, err := accounts.Create(ctx, st, "Works", "")
	NoErr(t, err)
	if key == "" {
		t.Fatal("no key")
	}
	actx := tenant.NewContext(ctx, a.ID)
	NoErr(t, st.Tx(actx, func(tx *ent.Tx) error {
		_, err := st.Log().Append(actx, tx, []*ent.Notification{{Reason: notification.ReasonGENERAL_CHAT, ChatID: 1,
			ContactID: 2, ChannelID: 3, Preview: "hello"}})
		return err
	}))
	n, err := st.Ent.Notification.Query().Count(actx)
	NoErr(t, err)
	if n != 1 {
		t.Fatalf("%d decisions in the log", n)
	}
	_, err = st.Pace().Reserve(ctx, "works", time.Second, 0)
	NoErr(t, err)
	return a.ID
}

// A fresh database migrates to the latest version, each version recorded
// once; opening it again applies nothing.
func TestMigrateFresh(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		url := b.NewURL(t)
		st := openMode(t, url, store.MigrateUp)
		wantAllOnce(t, st)
		wantObjects(t, st)
		appWorks(t, st)
		before := versionRows(t, st)
		st.Close()
		again := openMode(t, url, store.MigrateRefuse)
		if got := versionRows(t, again); fmt.Sprint(got) != fmt.Sprint(before) {
			t.Fatalf("reopening changed the versions: %v, then %v", before, got)
		}
	})
}

// A release whose schema is behind: Open with MigrateRefuse fails naming
// what is pending; a dry run reports the pending files and changes
// nothing; migrating applies them.
func TestMigrateRefuseAndDryRun(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		url := b.NewURL(t)
		_, err := store.Open(ctx, store.Config{URL: url, Migrate: store.MigrateRefuse})
		if !errors.Is(err, store.ErrPending) || !strings.Contains(err.Error(), "switchboard migrate up") {
			t.Fatalf("opening an empty database refusing to migrate: %v", err)
		}
		st := openMode(t, url, store.MigrateSkip)
		status, err := st.Migrate(ctx, true)
		NoErr(t, err)
		if len(status.Pending()) != len(status.Migrations) || len(status.Migrations) == 0 || len(status.RiverPending) == 0 {
			t.Fatalf("dry run on an empty database: %d of %d pending, River's %v", len(status.Pending()), len(status.Migrations), status.RiverPending)
		}
		status, err = st.MigrationStatus(ctx)
		NoErr(t, err)
		if status.Current() != 0 || len(status.RiverPending) == 0 {
			t.Fatalf("the dry run applied something: at %d, River's pending %v", status.Current(), status.RiverPending)
		}
		_, err = st.Migrate(ctx, false)
		NoErr(t, err)
		wantAllOnce(t, st)
	})
}

// The previous releases' schemas with data: for each migration after the
// first, a database migrated up to the one before it, holding rows written
// with plain SQL, migrates to the latest; the rows survive and the store
// works on it.
func TestUpgradeFromEachVersion(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		files := func() []store.Migration {
			st := openMode(t, b.NewURL(t), store.MigrateSkip)
			s, err := st.MigrationStatus(ctx)
			NoErr(t, err)
			return s.Migrations
		}()
		if len(files) < 2 {
			t.Skip("one migration: nothing to upgrade from")
		}
		for i := 1; i < len(files); i++ {
			t.Run(files[i].Name, func(t *testing.T) {
				url := b.NewURL(t)
				old := openMode(t, url, store.MigrateSkip)
				NoErr(t, old.MigrateTo(ctx, files[i-1].Version))
				status, err := old.MigrationStatus(ctx)
				NoErr(t, err)
				if status.Current() != files[i-1].Version {
					t.Fatalf("at version %d, want %d", status.Current(), files[i-1].Version)
				}
				acct := insertOldRows(t, old)
				old.Close()

				st := openMode(t, url, store.MigrateUp)
				wantAllOnce(t, st)
				checkOldRows(t, st, acct)
				appWorks(t, st)
			})
		}
	})
}

// insertOldRows writes an account, its settings and a channel with plain
// SQL, as a release at an earlier version would have stored them (the
// columns every version has), and returns the account's id.
func insertOldRows(t testing.TB, st *store.Store) int64 {
	t.Helper()
	q := func(s string) string {
		if !st.IsPostgres() {
			return s
		}
		for i := 1; strings.Contains(s, "?"); i++ {
			s = strings.Replace(s, "?", fmt.Sprintf("$%d", i), 1)
		}
		return s
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var id int64
	NoErr(t, st.DB.QueryRow(q(`INSERT INTO accounts (created_at, name) VALUES (?, ?) RETURNING id`), now, "Old Co").Scan(&id))
	_, err := st.DB.Exec(q(`INSERT INTO account_settings (account_id, updated_at, time_zone, save_messages) VALUES (?, ?, ?, ?)`),
		id, now, "Europe/Moscow", "DAILY")
	NoErr(t, err)
	var ch, emp, cl int64
	NoErr(t, st.DB.QueryRow(q(`INSERT INTO channels (account_id, created_at, kind, name) VALUES (?, ?, ?, ?) RETURNING id`),
		id, now, "TELEGRAM", "Support").Scan(&ch))
	// A client of an employee with two open deals on the channel and a won
	// one: one open client once the counts exist.
	NoErr(t, st.DB.QueryRow(q(`INSERT INTO employees (account_id, created_at, name) VALUES (?, ?, ?) RETURNING id`),
		id, now, "Ann").Scan(&emp))
	NoErr(t, st.DB.QueryRow(q(`INSERT INTO contacts (account_id, created_at, identity, responsible_id) VALUES (?, ?, ?, ?) RETURNING id`),
		id, now, "+79160000001", emp).Scan(&cl))
	for _, state := range []string{"OPEN", "OPEN", "WON"} {
		_, err = st.DB.Exec(q(`INSERT INTO deals (account_id, created_at, channel_id, kind, contact_id, state) VALUES (?, ?, ?, ?, ?, ?)`),
			id, now, ch, "LEAD", cl, state)
		NoErr(t, err)
	}
	return id
}

func checkOldRows(t testing.TB, st *store.Store, acct int64) {
	t.Helper()
	ctx := tenant.NewContext(context.Background(), acct)
	a, err := st.Ent.Account.Get(tenant.System(ctx), acct)
	NoErr(t, err)
	s, err := st.Ent.AccountSettings.Query().Only(ctx)
	NoErr(t, err)
	ch, err := st.Ent.Channel.Query().Only(ctx)
	NoErr(t, err)
	if a.Name != "Old Co" || s.TimeZone != "Europe/Moscow" || s.SaveMessages != "DAILY" || ch.Name != "Support" || ch.Kind != "TELEGRAM" {
		t.Fatalf("after migrating: account %q, settings %q %q, channel %q %q", a.Name, s.TimeZone, s.SaveMessages, ch.Name, ch.Kind)
	}
	var n int
	NoErr(t, st.DB.QueryRow(`SELECT coalesce(sum(clients), 0) FROM open_client_counts WHERE account_id = `+fmt.Sprint(acct)).Scan(&n))
	if n != 1 {
		t.Fatalf("after migrating: %d open clients counted, want 1", n)
	}
}

// Replicas starting together on one PostgreSQL schema migrate it once:
// every one starts without error and each version is recorded once.
func TestReplicasMigrateOnce(t *testing.T) {
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		t.Skip("TEST_DATABASE_URL is not set")
	}
	url := PostgresSchema(t, base)
	const replicas = 3
	stores := make([]*store.Store, replicas)
	errs := make([]error, replicas)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			stores[i], errs[i] = store.Open(context.Background(), store.Config{URL: url, MaxConns: 8})
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	wantAllOnce(t, stores[0])
	for _, st := range stores {
		StartServer(t, st, Options{})
	}
	appWorks(t, stores[1])
}

// legacyDatabase builds a database as the server did before versioned
// migrations (testdata/legacy_*.sql: ent's automatic migration, River's
// migrations, the server's own statements) and stores an account in it.
func legacyDatabase(t testing.TB, url string) int64 {
	t.Helper()
	ctx := context.Background()
	st := openMode(t, url, store.MigrateSkip)
	name := "legacy_sqlite.sql"
	if st.IsPostgres() {
		name = "legacy_postgres.sql"
	}
	b, err := os.ReadFile(filepath.Join("testdata", name))
	NoErr(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case line == "-- after River's migrations":
			m, err := rivermigrate.New(st.River(), nil)
			NoErr(t, err)
			_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
			NoErr(t, err)
		case line == "" || strings.HasPrefix(line, "--"):
		default:
			if _, err := st.DB.ExecContext(ctx, line); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
		}
	}
	acct := insertOldRows(t, st)
	st.Close()
	return acct
}

// A database created before versioned migrations is adopted: marked as at
// the first version without running it, then migrated on; its rows
// survive.
func TestAdoptUnversionedDatabase(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		url := b.NewURL(t)
		acct := legacyDatabase(t, url)

		old := openMode(t, url, store.MigrateSkip)
		status, err := old.MigrationStatus(ctx)
		NoErr(t, err)
		if !status.Unversioned || status.Current() != 0 {
			t.Fatalf("a database from before versioned migrations: unversioned %v, at %d", status.Unversioned, status.Current())
		}
		_, err = old.Migrate(ctx, true) // a dry run checks the schema, changes nothing
		NoErr(t, err)
		status, err = old.MigrationStatus(ctx)
		NoErr(t, err)
		if !status.Unversioned {
			t.Fatal("the dry run adopted the database")
		}
		old.Close()
		if _, err := store.Open(ctx, store.Config{URL: url, Migrate: store.MigrateRefuse}); !errors.Is(err, store.ErrPending) {
			t.Fatalf("refusing to migrate an unversioned database: %v", err)
		}

		st := openMode(t, url, store.MigrateUp)
		wantAllOnce(t, st)
		wantObjects(t, st)
		checkOldRows(t, st, acct)
		appWorks(t, st)
	})
}

// An unversioned database whose schema is not the first version's is
// refused, naming each difference, and left as it was.
func TestAdoptRefusesAnotherSchema(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		url := b.NewURL(t)
		legacyDatabase(t, url)
		st := openMode(t, url, store.MigrateSkip)
		for _, q := range []string{"DROP INDEX credential_account_id", "ALTER TABLE accounts ADD COLUMN nickname text"} {
			_, err := st.DB.ExecContext(ctx, q)
			NoErr(t, err)
		}
		_, err := st.Migrate(ctx, false)
		if err == nil {
			t.Fatal("adopted a database whose schema differs")
		}
		for _, want := range []string{"credential_account_id", "nickname", "created before versioned migrations"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the refusal does not name %q: %v", want, err)
			}
		}
		status, err := st.MigrationStatus(ctx)
		NoErr(t, err)
		if !status.Unversioned || status.Current() != 0 {
			t.Fatalf("after the refusal: unversioned %v, at %d", status.Unversioned, status.Current())
		}
		var n int
		NoErr(t, st.DB.QueryRow("SELECT count(*) FROM accounts").Scan(&n))
		if n != 1 {
			t.Fatalf("%d accounts after the refusal", n)
		}
		if _, err := store.Open(ctx, store.Config{URL: url}); err == nil || !strings.Contains(err.Error(), "nickname") {
			t.Fatalf("starting on it: %v", err)
		}
	})
}
