package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/switchboardhq/switchboard/server/accounts"
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

		if _, err := st.Ent.Employee.Query().All(ctx); !errors.Is(err, tenant.ErrMissing) {
			t.Fatalf("query without an account: %v", err)
		}
		if err := st.Ent.Employee.Create().SetName("x").Exec(ctx); !errors.Is(err, tenant.ErrMissing) {
			t.Fatalf("create without an account: %v", err)
		}
		e, err := st.Ent.Employee.Create().SetName("Alice").Save(actx)
		NoErr(t, err)
		if e.AccountID != a.ID {
			t.Fatalf("created in account %d", e.AccountID)
		}
		if err := st.Ent.Employee.Create().SetName("x").SetAccountID(a.ID).Exec(bctx); err == nil {
			t.Fatal("created a row for another account")
		}
		if n, _ := st.Ent.Employee.Query().Count(bctx); n != 0 {
			t.Fatalf("account B sees %d employees", n)
		}
		if _, err := st.Ent.Employee.Get(bctx, e.ID); err == nil {
			t.Fatal("account B got A's employee by id")
		}
		if err := st.Ent.Employee.UpdateOneID(e.ID).SetName("hacked").Exec(bctx); err == nil {
			t.Fatal("account B updated A's employee")
		}
		if n, _ := st.Ent.Employee.Update().SetName("hacked").Save(bctx); n != 0 {
			t.Fatalf("account B bulk-updated %d rows", n)
		}
		if n, _ := st.Ent.Employee.Delete().Exec(bctx); n != 0 {
			t.Fatalf("account B deleted %d rows", n)
		}
		got, err := st.Ent.Employee.Get(actx, e.ID)
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
