package accounts_test

import (
	"context"
	"sync"
	"testing"

	"github.com/switchboardhq/switchboard/ent/credential"
	"github.com/switchboardhq/switchboard/server/accounts"
	"github.com/switchboardhq/switchboard/server/auth"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// TestFirstStart: SPEC §9 — a server on an empty database creates one
// account and returns its admin key once; later starts find it. Servers
// starting together (two replicas on PostgreSQL) still create one.
func TestFirstStart(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		ctx := tenant.System(context.Background())
		url := b.NewURL(t)
		replicas := []*store.Store{OpenStore(t, url)}
		if b.Name == "postgres" {
			replicas = append(replicas, OpenStore(t, url))
		}
		st := replicas[0]
		const secret = "sbk_bootstrap_0123456789"
		keyCount := func(secret string) int {
			t.Helper()
			n, err := st.Ent.Credential.Query().Where(credential.SecretHash(auth.Hash(secret))).Count(ctx)
			NoErr(t, err)
			return n
		}

		type start struct {
			id      int64
			key     string
			created bool
		}
		starts := make([]start, 16)
		var wg sync.WaitGroup
		for i := range starts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				acct, key, created, err := accounts.EnsureFirst(ctx, replicas[i%len(replicas)], "My company", secret)
				if err != nil {
					t.Error(err)
					return
				}
				starts[i] = start{acct.ID, key, created}
			}()
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		n, err := st.Ent.Account.Query().Count(ctx)
		NoErr(t, err)
		created := 0
		for _, s := range starts {
			if s.id != starts[0].id {
				t.Fatalf("starts returned different accounts: %+v", starts)
			}
			if s.created {
				created++
				if s.key != secret {
					t.Fatalf("the creating start returned key %q, want the bootstrap key", s.key)
				}
			} else if s.key != "" {
				t.Fatalf("a later start returned a key: %+v", s)
			}
		}
		if n != 1 || created != 1 || keyCount(secret) != 1 {
			t.Fatalf("%d accounts, %d creating starts, %d bootstrap keys; want 1 each", n, created, keyCount(secret))
		}

		// A restart with another bootstrap key adds it to the first
		// account, once.
		const other = "sbk_another_0123456789"
		for range 2 {
			acct, key, created, err := accounts.EnsureFirst(ctx, st, "My company", other)
			NoErr(t, err)
			if acct.ID != starts[0].id || key != "" || created {
				t.Fatalf("restart: account %d, key %q, created %v", acct.ID, key, created)
			}
		}
		if keyCount(other) != 1 || keyCount(secret) != 1 {
			t.Fatalf("keys after restarts: %d of the new one, %d of the first", keyCount(other), keyCount(secret))
		}
		if _, _, _, err := accounts.EnsureFirst(ctx, st, "My company", "short"); err == nil {
			t.Fatal("a malformed bootstrap key was accepted")
		}
	})
}

// TestFirstStartRandomKey: without a bootstrap key the first account's
// admin key is a new random one.
func TestFirstStartRandomKey(t *testing.T) {
	ctx := tenant.System(context.Background())
	st := OpenStore(t, Backends(t)[0].NewURL(t))
	_, key, created, err := accounts.EnsureFirst(ctx, st, "My company", "")
	NoErr(t, err)
	if !created || len(key) < 16 {
		t.Fatalf("created %v, key %q", created, key)
	}
	n, err := st.Ent.Credential.Query().Where(credential.SecretHash(auth.Hash(key))).Count(ctx)
	NoErr(t, err)
	if n != 1 {
		t.Fatalf("%d credentials hold the returned key", n)
	}
}
