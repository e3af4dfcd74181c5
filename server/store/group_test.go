package store_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/server/accounts"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// groupEnv is an SQLite store with one account, and a way to hold its
// connection with a transaction until released.
type groupEnv struct {
	st   *store.Store
	path string
	actx context.Context
}

func newGroupEnv(t *testing.T) *groupEnv {
	path := filepath.Join(t.TempDir(), "group.db")
	st := OpenStore(t, path)
	a, _, err := accounts.Create(context.Background(), st, "A", "")
	NoErr(t, err)
	return &groupEnv{st: st, path: path, actx: tenant.NewContext(context.Background(), a.ID)}
}

// hold runs a transaction that creates a client and waits for release; it
// returns once that transaction holds the connection.
func (e *groupEnv) hold(t *testing.T, identity string) (release func() error) {
	started, proceed, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- e.st.Tx(e.actx, func(tx *ent.Tx) error {
			close(started)
			<-proceed
			return tx.Contact.Create().SetIdentity(identity).Exec(e.actx)
		})
	}()
	<-started
	return func() error { close(proceed); return <-done }
}

// waitMembers waits until n write transactions have begun or are waiting.
func (e *groupEnv) waitMembers(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, m := e.st.CommitGroups(); m >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d write transactions never arrived", n)
		}
		time.Sleep(time.Millisecond)
	}
}

func (e *groupEnv) identities(t *testing.T) map[string]int {
	t.Helper()
	cs, err := e.st.Ent.Contact.Query().All(e.actx)
	NoErr(t, err)
	out := map[string]int{}
	for _, c := range cs {
		out[c.Identity]++
	}
	return out
}

// Write transactions that wait for the connection share the next SQLite
// transaction, and each keeps or loses its own writes only: one that fails,
// one that breaks a unique constraint and the ones that succeed are all
// told the truth, and the store holds exactly what was acknowledged.
func TestGroupCommitKeepsMembersApart(t *testing.T) {
	e := newGroupEnv(t)
	g0, m0 := e.st.CommitGroups()
	release := e.hold(t, "a")

	type result struct {
		name string
		err  error
	}
	results := make(chan result, 4)
	run := func(name string, fn func(tx *ent.Tx) error) {
		go func() { results <- result{name, e.st.Tx(e.actx, fn)} }()
	}
	create := func(identity string) func(tx *ent.Tx) error {
		return func(tx *ent.Tx) error { return tx.Contact.Create().SetIdentity(identity).Exec(e.actx) }
	}
	run("b", create("b"))
	run("b again", create("b"))
	run("c fails", func(tx *ent.Tx) error {
		if err := tx.Contact.Create().SetIdentity("c").Exec(e.actx); err != nil {
			return err
		}
		return errors.New("changed its mind")
	})
	run("e", create("e"))
	e.waitMembers(t, m0+5)
	NoErr(t, release())

	got := map[string]error{}
	for i := 0; i < 4; i++ {
		r := <-results
		got[r.name] = r.err
	}
	if got["e"] != nil {
		t.Fatalf("e: %v", got["e"])
	}
	if got["c fails"] == nil || got["c fails"].Error() != "changed its mind" {
		t.Fatalf("c: %v", got["c fails"])
	}
	// The two "b" run one after the other: exactly one wins.
	if (got["b"] == nil) == (got["b again"] == nil) {
		t.Fatalf("b: %v, b again: %v", got["b"], got["b again"])
	}
	for _, name := range []string{"b", "b again"} {
		if err := got[name]; err != nil && !store.IsUniqueViolation(err) {
			t.Fatalf("%s: %v", name, err)
		}
	}
	want := map[string]int{"a": 1, "b": 1, "e": 1}
	if ids := e.identities(t); len(ids) != len(want) || ids["a"] != 1 || ids["b"] != 1 || ids["e"] != 1 {
		t.Fatalf("stored %v, want %v", ids, want)
	}
	if g, m := e.st.CommitGroups(); g-g0 != 2 || m-m0 != 5 {
		t.Fatalf("%d transactions in %d groups, want 5 in 2", m-m0, g-g0)
	}
}

// A member's Commit returns only once the group's commit is done: its
// commit hooks then find its writes from another connection, which sees
// only what is committed.
func TestGroupCommitHooksRunAfterCommit(t *testing.T) {
	e := newGroupEnv(t)
	other, err := sql.Open("sqlite", "file:"+e.path+"?mode=ro")
	NoErr(t, err)
	defer other.Close()
	_, m0 := e.st.CommitGroups()
	release := e.hold(t, "a")
	var wg sync.WaitGroup
	seen := make([]int, 3)
	for i := range seen {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			identity := string(rune('b' + i))
			err := e.st.Tx(e.actx, func(tx *ent.Tx) error {
				tx.OnCommit(func(next ent.Committer) ent.Committer {
					return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
						if err := next.Commit(ctx, tx); err != nil {
							return err
						}
						return other.QueryRowContext(ctx, "SELECT count(*) FROM contacts WHERE identity = ?", identity).Scan(&seen[i])
					})
				})
				return tx.Contact.Create().SetIdentity(identity).Exec(e.actx)
			})
			if err != nil {
				t.Errorf("%s: %v", identity, err)
			}
		}(i)
	}
	e.waitMembers(t, m0+4)
	NoErr(t, release())
	wg.Wait()
	for i, n := range seen {
		if n != 1 {
			t.Fatalf("member %d saw its row %d times after commit", i, n)
		}
	}
}

// A member that gives up while waiting leaves the others' group alone.
func TestGroupCommitMemberCancelled(t *testing.T) {
	e := newGroupEnv(t)
	_, m0 := e.st.CommitGroups()
	release := e.hold(t, "a")
	cctx, cancel := context.WithCancel(e.actx)
	cancelled, kept := make(chan error, 1), make(chan error, 1)
	go func() {
		cancelled <- e.st.Tx(cctx, func(tx *ent.Tx) error { return tx.Contact.Create().SetIdentity("x").Exec(cctx) })
	}()
	go func() {
		kept <- e.st.Tx(e.actx, func(tx *ent.Tx) error { return tx.Contact.Create().SetIdentity("k").Exec(e.actx) })
	}()
	e.waitMembers(t, m0+3)
	cancel()
	if err := <-cancelled; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled member: %v", err)
	}
	NoErr(t, release())
	NoErr(t, <-kept)
	if ids := e.identities(t); len(ids) != 2 || ids["a"] != 1 || ids["k"] != 1 {
		t.Fatalf("stored %v", ids)
	}
}

// When the shared transaction is lost (SQLite rolls a whole transaction
// back on some I/O errors; here a member ends it by hand), no member of the
// group is told its work was kept, nothing of it is stored, and the next
// group works.
func TestGroupCommitLostTransaction(t *testing.T) {
	e := newGroupEnv(t)
	_, m0 := e.st.CommitGroups()
	release := e.hold(t, "a")
	errs := make(chan error, 3)
	for _, id := range []string{"b", "c"} {
		go func() {
			errs <- e.st.Tx(e.actx, func(tx *ent.Tx) error { return tx.Contact.Create().SetIdentity(id).Exec(e.actx) })
		}()
	}
	go func() {
		errs <- e.st.Tx(e.actx, func(tx *ent.Tx) error {
			if err := tx.Contact.Create().SetIdentity("d").Exec(e.actx); err != nil {
				return err
			}
			_, err := tx.ExecContext(e.actx, "ROLLBACK")
			return err
		})
	}()
	e.waitMembers(t, m0+4)
	NoErr(t, release())
	for i := 0; i < 3; i++ {
		if err := <-errs; err == nil {
			t.Fatal("a member of the lost transaction was told it committed")
		}
	}
	if ids := e.identities(t); len(ids) != 1 || ids["a"] != 1 {
		t.Fatalf("stored %v", ids)
	}
	NoErr(t, e.st.Tx(e.actx, func(tx *ent.Tx) error { return tx.Contact.Create().SetIdentity("f").Exec(e.actx) }))
	if ids := e.identities(t); len(ids) != 2 || ids["f"] != 1 {
		t.Fatalf("stored %v after the lost group", ids)
	}
}
