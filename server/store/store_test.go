package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/server/accounts"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// Tenant scoping fails closed and filters by account, for reads and writes.
func TestTenantScoping(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		st := OpenStore(t, b.NewURL(t))
		ctx := context.Background()
		a, _, err := accounts.Create(ctx, st, "A", "")
		NoErr(t, err)
		bAcct, _, err := accounts.Create(ctx, st, "B", "")
		NoErr(t, err)
		actx, bctx := tenant.NewContext(ctx, a.ID), tenant.NewContext(ctx, bAcct.ID)

		if _, err := st.Ent.Contact.Query().All(ctx); !errors.Is(err, tenant.ErrMissing) {
			t.Fatalf("query without an account: %v", err)
		}
		if err := st.Ent.Contact.Create().SetIdentity("x").Exec(ctx); !errors.Is(err, tenant.ErrMissing) {
			t.Fatalf("create without an account: %v", err)
		}
		e, err := st.Ent.Contact.Create().SetIdentity("+79160000001").SetName("Alice").Save(actx)
		NoErr(t, err)
		if e.AccountID != a.ID {
			t.Fatalf("created in account %d", e.AccountID)
		}
		if err := st.Ent.Contact.Create().SetIdentity("y").SetAccountID(a.ID).Exec(bctx); err == nil {
			t.Fatal("created a row for another account")
		}
		if n, _ := st.Ent.Contact.Query().Count(bctx); n != 0 {
			t.Fatalf("account B sees %d contacts", n)
		}
		if _, err := st.Ent.Contact.Get(bctx, e.ID); err == nil {
			t.Fatal("account B got A's contact by id")
		}
		if err := st.Ent.Contact.UpdateOneID(e.ID).SetName("hacked").Exec(bctx); err == nil {
			t.Fatal("account B updated A's contact")
		}
		if n, _ := st.Ent.Contact.Update().SetName("hacked").Save(bctx); n != 0 {
			t.Fatalf("account B bulk-updated %d rows", n)
		}
		if n, _ := st.Ent.Contact.Delete().Exec(bctx); n != 0 {
			t.Fatalf("account B deleted %d rows", n)
		}
		got, err := st.Ent.Contact.Get(actx, e.ID)
		NoErr(t, err)
		if got.Name != "Alice" {
			t.Fatalf("name %q", got.Name)
		}
		// System scope sees every account (start-up and background work).
		if n, _ := st.Ent.AccountSettings.Query().Count(tenant.System(ctx)); n != 2 {
			t.Fatalf("system scope sees %d accounts' settings", n)
		}
	})
}

// Every change to directory data moves the account's directory version, in
// its own transaction; outside a transaction it is refused.
func TestDirectoryVersion(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		st := OpenStore(t, b.NewURL(t))
		ctx := context.Background()
		a, _, err := accounts.Create(ctx, st, "A", "")
		NoErr(t, err)
		other, _, err := accounts.Create(ctx, st, "B", "")
		NoErr(t, err)
		actx := tenant.NewContext(ctx, a.ID)
		version := func(acct int64) int64 {
			s, err := st.Ent.AccountSettings.Query().Only(tenant.NewContext(ctx, acct))
			NoErr(t, err)
			return s.DirectoryVersion
		}
		if err := st.Ent.Employee.Create().SetName("x").Exec(actx); !errors.Is(err, store.ErrDirectoryOutsideTx) {
			t.Fatalf("a directory change outside a transaction: %v", err)
		}
		v, vb := version(a.ID), version(other.ID)
		NoErr(t, st.Tx(actx, func(tx *ent.Tx) error { return tx.Employee.Create().SetName("Alice").Exec(actx) }))
		NoErr(t, st.Tx(actx, func(tx *ent.Tx) error { return tx.Channel.Create().SetName("C").SetKind("WABA").Exec(actx) }))
		NoErr(t, st.Tx(actx, func(tx *ent.Tx) error { return tx.AccountSettings.Update().SetTimeZone("UTC").Exec(actx) }))
		if got := version(a.ID); got != v+3 {
			t.Fatalf("version %d after three changes from %d", got, v)
		}
		if version(other.ID) != vb {
			t.Fatal("another account's version moved")
		}
		// A failed transaction moves nothing.
		_ = st.Tx(actx, func(tx *ent.Tx) error {
			if err := tx.Employee.Create().SetName("Bob").Exec(actx); err != nil {
				return err
			}
			return errors.New("abort")
		})
		if got := version(a.ID); got != v+3 {
			t.Fatalf("version %d after a rolled-back change", got)
		}
	})
}

// Foreign keys stay on for good on SQLite, whatever statements are prepared
// ahead (the migrator switches them off and on again), so deleting a client
// takes its chats along.
func TestSQLiteForeignKeysStayOn(t *testing.T) {
	ctx := context.Background()
	for i := 0; i < 10; i++ { // statements are prepared in the background, in any order
		st := OpenStore(t, filepath.Join(t.TempDir(), "fk.db"))
		a, _, err := accounts.Create(ctx, st, "A", "")
		NoErr(t, err)
		actx := tenant.NewContext(ctx, a.ID)
		NoErr(t, st.Tx(actx, func(tx *ent.Tx) error {
			c, err := tx.Contact.Create().SetIdentity("c").Save(actx)
			if err != nil {
				return err
			}
			return tx.Chat.Create().SetChannelID(1).SetContactID(c.ID).Exec(actx)
		}))
		time.Sleep(20 * time.Millisecond)
		var on int
		NoErr(t, st.DB.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&on))
		if on != 1 {
			t.Fatal("foreign keys were switched off")
		}
		NoErr(t, st.Tx(actx, func(tx *ent.Tx) error {
			_, err := tx.Contact.Delete().Exec(actx)
			return err
		}))
		if n := st.Ent.Chat.Query().CountX(actx); n != 0 {
			t.Fatalf("deleting the client left %d chats behind", n)
		}
		st.Close()
	}
}

// TestReplicasMigrateTogether opens several stores on one fresh database
// at once: each migrates, River's tables included, without tripping over
// the others (the migration lock), into the store's own schema.
func TestReplicasMigrateTogether(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		url := b.NewURL(t)
		n := 1
		if b.Name == "postgres" {
			n = 4
		}
		errc := make(chan error, n)
		for range n {
			go func() {
				st, err := store.Open(context.Background(), store.Config{URL: url, MaxConns: 4})
				if err == nil {
					defer st.Close()
					var jobs int
					err = st.DB.QueryRowContext(context.Background(), "SELECT count(*) FROM river_job").Scan(&jobs)
					if err == nil && b.Name == "postgres" {
						// In this test's schema, not public.
						var schema string
						err = st.DB.QueryRowContext(context.Background(),
							"SELECT table_schema FROM information_schema.tables WHERE table_name = 'river_job' AND table_schema = current_schema()").Scan(&schema)
					}
				}
				errc <- err
			}()
		}
		for range n {
			if err := <-errc; err != nil {
				t.Error(err)
			}
		}
	})
}
