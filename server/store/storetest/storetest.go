// Package storetest is the conformance suite of the store's backends: what
// each database the store runs on promises the capabilities that call the
// storage seam (store.Notifier, store.Log, store.Pace, Store.LockTx,
// Store.ReadTx). Run it against every backend (storetest_test.go: SQLite
// always, PostgreSQL when TEST_DATABASE_URL is set).
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/account"
	"github.com/switchboardhq/switchboard/ent/notification"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// Run runs the suite on the backend whose fresh, empty databases newURL
// gives (one per call). A store whose notifier says replicas may share it
// (Notifier.Shared) is also opened a second time on the same URL, as
// another replica.
func Run(t *testing.T, newURL func(t testing.TB) string) {
	for _, c := range []struct {
		name string
		fn   func(t *testing.T, newURL func(t testing.TB) string)
	}{
		{"Log/AppendReturnsTheStoredRows", logAppendReturnsStoredRows},
		{"Log/RollbackLeavesNothing", logRollbackLeavesNothing},
		{"Log/VisibleInCommitOrder", logVisibleInCommitOrder},
		{"Log/ConcurrentWritersReadersSeePrefixes", logConcurrentPrefixes},
		{"LockTx/ExcludesUntilCommit", lockExcludesUntilCommit},
		{"LockTx/ReleasedByRollback", lockReleasedByRollback},
		{"Pace/Spacing", paceSpacing},
		{"Pace/ExactUnderConcurrency", paceExactUnderConcurrency},
		{"Meter/Window", meterWindow},
		{"Meter/ExactUnderConcurrency", meterExactUnderConcurrency},
		{"Limits/ExactBurstUnderConcurrency", limitsExactBurst},
		{"Limits/RefillsAndKeysApart", limitsRefill},
		{"Notifier/DeliversOrSaysNoListener", notifierDelivers},
		{"ReadTx/OneSnapshot", readTxOneSnapshot},
		{"Describe", describe},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newURL) })
	}
}

func open(t testing.TB, url string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{URL: url, MaxConns: 24})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newAccount returns a context scoped to a new account.
func newAccount(t testing.TB, st *store.Store) context.Context {
	t.Helper()
	ctx := context.Background()
	a, err := st.Ent.Account.Create().SetName("Acme").Save(tenant.System(ctx))
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	return tenant.NewContext(ctx, a.ID)
}

func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// decisions returns n rows to append, marked with tag in their preview.
func decisions(tag string, n int) []*ent.Notification {
	out := make([]*ent.Notification, n)
	for i := range out {
		r := &ent.Notification{Reason: notification.ReasonRESPONSIBLE, ChatID: int64(100 + i), ContactID: int64(200 + i),
			ContactName: "Client", ChannelID: 7, ChannelName: "WhatsApp", ChannelKind: "WHATSAPP",
			Preview: fmt.Sprintf("%s/%d", tag, i), Explanation: "because"}
		if i%2 == 0 {
			emp, msg := int64(300+i), int64(400+i)
			r.EmployeeID, r.MessageID = &emp, &msg
		} else {
			r.Reason = notification.ReasonGENERAL_CHAT
		}
		out[i] = r
	}
	return out
}

// readLog reads every account's log in log order.
func readLog(ctx context.Context, st *store.Store) ([]*ent.Notification, error) {
	return st.Ent.Notification.Query().Order(ent.Asc(notification.FieldTxid), ent.Asc(notification.FieldID)).
		All(tenant.System(ctx))
}

func previews(rows []*ent.Notification) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Preview
	}
	return out
}

func eqPtr(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// Append stores the rows in order, for the context's account, and returns
// them as a later read finds them; one append's rows share a position.
func logAppendReturnsStoredRows(t *testing.T, newURL func(t testing.TB) string) {
	st := open(t, newURL(t))
	ctx := newAccount(t, st)
	acct, _ := tenant.FromContext(ctx)
	in := decisions("a", 5)
	var got []*ent.Notification
	noErr(t, st.Tx(ctx, func(tx *ent.Tx) error {
		var err error
		got, err = st.Log().Append(ctx, tx, in)
		return err
	}))
	stored, err := readLog(ctx, st)
	noErr(t, err)
	if len(got) != len(in) || len(stored) != len(in) {
		t.Fatalf("appended %d rows: returned %d, stored %d", len(in), len(got), len(stored))
	}
	for i, g := range got {
		s, w := stored[i], in[i]
		if g.ID != s.ID || g.Txid != s.Txid || g.AccountID != acct || s.AccountID != acct {
			t.Errorf("row %d: returned id %d position %d account %d, stored id %d position %d account %d (want account %d)",
				i, g.ID, g.Txid, g.AccountID, s.ID, s.Txid, s.AccountID, acct)
		}
		for _, r := range []*ent.Notification{g, s} {
			if r.Reason != w.Reason || r.ChatID != w.ChatID || r.ContactID != w.ContactID || r.ContactName != w.ContactName ||
				r.ChannelID != w.ChannelID || r.ChannelName != w.ChannelName || r.ChannelKind != w.ChannelKind ||
				r.Preview != w.Preview || r.Explanation != w.Explanation || !eqPtr(r.EmployeeID, w.EmployeeID) || !eqPtr(r.MessageID, w.MessageID) {
				t.Errorf("row %d: %+v, want the fields of %+v", i, r, w)
			}
		}
		if d := g.CreatedAt.Sub(s.CreatedAt).Abs(); d > time.Millisecond || g.CreatedAt.IsZero() {
			t.Errorf("row %d: returned created at %v, stored %v", i, g.CreatedAt, s.CreatedAt)
		}
		if g.Txid != got[0].Txid {
			t.Errorf("row %d at position %d, row 0 at %d: one append, one position", i, g.Txid, got[0].Txid)
		}
		if i > 0 && g.ID <= got[i-1].ID {
			t.Errorf("row %d has id %d after %d: not in order", i, g.ID, got[i-1].ID)
		}
	}
	if out, err := st.Log().Append(ctx, nil, nil); err != nil || len(out) != 0 {
		t.Errorf("appending nothing: %v, %v", out, err)
	}
}

// A rolled-back append leaves no row, and holds nothing up afterwards.
func logRollbackLeavesNothing(t *testing.T, newURL func(t testing.TB) string) {
	st := open(t, newURL(t))
	ctx := newAccount(t, st)
	undo := errors.New("undo")
	err := st.Tx(ctx, func(tx *ent.Tx) error {
		if _, err := st.Log().Append(ctx, tx, decisions("gone", 2)); err != nil {
			return err
		}
		return undo
	})
	if !errors.Is(err, undo) {
		t.Fatalf("rolled back with %v", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	noErr(t, st.Tx(wctx, func(tx *ent.Tx) error {
		_, err := st.Log().Append(wctx, tx, decisions("kept", 1))
		return err
	}))
	rows, err := readLog(ctx, st)
	noErr(t, err)
	if got := previews(rows); !slices.Equal(got, []string{"kept/0"}) {
		t.Fatalf("log %v, want only the committed row", got)
	}
}

// Transaction A appends and stays open; B appends after it and commits. A
// reader never sees a row of A before A's transaction has ended, and never
// sees a row that the final log has behind a row it has not seen yet: B's
// rows follow A's, and become visible no earlier.
func logVisibleInCommitOrder(t *testing.T, newURL func(t testing.TB) string) {
	st := open(t, newURL(t))
	ctx := newAccount(t, st)
	var aEnded atomic.Bool
	appended := make(chan struct{})
	aDone := make(chan error, 1)
	go func() {
		aDone <- st.Tx(ctx, func(tx *ent.Tx) error {
			if _, err := st.Log().Append(ctx, tx, decisions("A", 2)); err != nil {
				return err
			}
			close(appended)
			time.Sleep(300 * time.Millisecond)
			aEnded.Store(true)
			return nil
		})
	}()
	<-appended
	bDone := make(chan error, 1)
	go func() {
		bDone <- st.Tx(ctx, func(tx *ent.Tx) error {
			_, err := st.Log().Append(ctx, tx, decisions("B", 2))
			return err
		})
	}()

	var snapshots [][]string
	readerDone := make(chan error, 1)
	stop := make(chan struct{})
	go func() {
		for {
			rows, err := readLog(ctx, st)
			ended := aEnded.Load()
			if err != nil {
				readerDone <- err
				return
			}
			got := previews(rows)
			if slices.ContainsFunc(got, func(p string) bool { return strings.HasPrefix(p, "A/") }) && !ended {
				readerDone <- fmt.Errorf("read %v while A's transaction was still open", got)
				return
			}
			snapshots = append(snapshots, got)
			select {
			case <-stop:
				readerDone <- nil
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	noErr(t, <-aDone)
	noErr(t, <-bDone)
	close(stop)
	noErr(t, <-readerDone)

	rows, err := readLog(ctx, st)
	noErr(t, err)
	final := previews(rows)
	if want := []string{"A/0", "A/1", "B/0", "B/1"}; !slices.Equal(final, want) {
		t.Fatalf("log %v, want %v: A committed first", final, want)
	}
	for _, s := range snapshots {
		if !slices.Equal(s, final[:len(s)]) {
			t.Fatalf("a reader saw %v, not a prefix of the log %v", s, final)
		}
	}
}

// Many writers, each holding its transaction open a moment after its
// append, and readers polling the while: every read is a prefix of the
// final log, so a reader that resumes after the last row it read misses
// nothing; positions are unique.
func logConcurrentPrefixes(t *testing.T, newURL func(t testing.TB) string) {
	st := open(t, newURL(t))
	ctx := newAccount(t, st)
	const writers, each = 6, 8
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				err := st.Tx(ctx, func(tx *ent.Tx) error {
					if _, err := st.Log().Append(ctx, tx, decisions(fmt.Sprintf("w%d.%d", w, i), 1+i%3)); err != nil {
						return err
					}
					time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
					return nil
				})
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	stop := make(chan struct{})
	var snapshots [][]*ent.Notification
	readerDone := make(chan error, 1)
	go func() {
		for {
			rows, err := readLog(ctx, st)
			if err != nil {
				readerDone <- err
				return
			}
			snapshots = append(snapshots, rows)
			select {
			case <-stop:
				readerDone <- nil
				return
			default:
				time.Sleep(time.Millisecond)
			}
		}
	}()
	wg.Wait()
	close(stop)
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	noErr(t, <-readerDone)
	final, err := readLog(ctx, st)
	noErr(t, err)
	want := 0
	for i := range each {
		want += writers * (1 + i%3)
	}
	if len(final) != want {
		t.Fatalf("log has %d rows, want %d", len(final), want)
	}
	for i := 1; i < len(final); i++ {
		a, b := final[i-1], final[i]
		if a.Txid > b.Txid || a.Txid == b.Txid && a.ID >= b.ID {
			t.Fatalf("rows (%d, %d) then (%d, %d): not in log order", a.Txid, a.ID, b.Txid, b.ID)
		}
	}
	for _, s := range snapshots {
		for i, r := range s {
			if r.ID != final[i].ID {
				t.Fatalf("a reader saw row %d (position %d) at %d of %d; the log has row %d (position %d) there: a row appeared behind one it read",
					r.ID, r.Txid, i, len(s), final[i].ID, final[i].Txid)
			}
		}
	}
	t.Logf("%d reads", len(snapshots))
}

const lockKey = 0x5354_4c4b // "STLK"

// A transaction that takes a named lock another holds waits until that
// one has ended, and then sees what it committed.
func lockExcludesUntilCommit(t *testing.T, newURL func(t testing.TB) string) {
	st := open(t, newURL(t))
	sys := tenant.System(context.Background())
	var aEnded atomic.Bool
	held := make(chan struct{})
	aDone := make(chan error, 1)
	go func() {
		aDone <- st.Tx(sys, func(tx *ent.Tx) error {
			if err := st.LockTx(sys, tx, lockKey); err != nil {
				return err
			}
			close(held)
			time.Sleep(300 * time.Millisecond)
			if err := tx.Account.Create().SetName("first").Exec(sys); err != nil {
				return err
			}
			aEnded.Store(true)
			return nil
		})
	}()
	<-held
	var sawEnded bool
	var n int
	noErr(t, st.Tx(sys, func(tx *ent.Tx) error {
		if err := st.LockTx(sys, tx, lockKey); err != nil {
			return err
		}
		sawEnded = aEnded.Load()
		var err error
		n, err = tx.Account.Query().Where(account.Name("first")).Count(sys)
		return err
	}))
	noErr(t, <-aDone)
	if !sawEnded || n != 1 {
		t.Fatalf("the second holder took the lock with the first's transaction ended %v, seeing %d of its rows", sawEnded, n)
	}
}

// A rolled-back transaction releases its lock.
func lockReleasedByRollback(t *testing.T, newURL func(t testing.TB) string) {
	st := open(t, newURL(t))
	sys := tenant.System(context.Background())
	undo := errors.New("undo")
	if err := st.Tx(sys, func(tx *ent.Tx) error {
		if err := st.LockTx(sys, tx, lockKey); err != nil {
			return err
		}
		return undo
	}); !errors.Is(err, undo) {
		t.Fatalf("rolled back with %v", err)
	}
	ctx, cancel := context.WithTimeout(sys, 5*time.Second)
	defer cancel()
	noErr(t, st.Tx(ctx, func(tx *ent.Tx) error { return st.LockTx(ctx, tx, lockKey) }))
}

// slot is which slot a wait is for, with slots every apart (reservations
// in a test take far less than every/2).
func slot(wait, every time.Duration) int {
	return int((wait + every/2) / every)
}

// Slots are every apart, the first at once; a tolerance lets that many
// more go back to back; keys are independent.
func paceSpacing(t *testing.T, newURL func(t testing.TB) string) {
	st := open(t, newURL(t))
	ctx := context.Background()
	const every = time.Hour
	reserve := func(key string, tolerance time.Duration) int {
		t.Helper()
		w, err := st.Pace().Reserve(ctx, key, every, tolerance)
		noErr(t, err)
		if w < 0 {
			t.Fatalf("%s: wait %v", key, w)
		}
		return slot(w, every)
	}
	var even, burst []int
	for range 4 {
		even = append(even, reserve("even", 0))
	}
	if want := []int{0, 1, 2, 3}; !slices.Equal(even, want) {
		t.Errorf("evenly spaced key: slots %v, want %v", even, want)
	}
	for range 5 {
		burst = append(burst, reserve("burst", 2*every))
	}
	if want := []int{0, 0, 0, 1, 2}; !slices.Equal(burst, want) {
		t.Errorf("key with a burst of 3: slots %v, want %v", burst, want)
	}
	if s := reserve("other", 0); s != 0 {
		t.Errorf("a new key waits for slot %d", s)
	}

	// A slot that has passed is not saved up: after a quiet spell the
	// next request goes at once and the one after it waits a full spacing.
	const short = 500 * time.Millisecond
	first, err := st.Pace().Reserve(ctx, "quiet", short, 0)
	noErr(t, err)
	time.Sleep(2 * short)
	second, err := st.Pace().Reserve(ctx, "quiet", short, 0)
	noErr(t, err)
	third, err := st.Pace().Reserve(ctx, "quiet", short, 0)
	noErr(t, err)
	if first != 0 || second != 0 || third <= 0 || third > short {
		t.Errorf("after a quiet spell: waits %v, %v, %v, want 0, 0, up to %v", first, second, third, short)
	}
}

// Reservations at once, from every replica, each take a slot of their
// own: none is lost, none shared.
func paceExactUnderConcurrency(t *testing.T, newURL func(t testing.TB) string) {
	url := newURL(t)
	stores := []*store.Store{open(t, url)}
	if stores[0].Notifier().Shared() {
		stores = append(stores, open(t, url))
	}
	const n, every = 40, time.Hour
	slots := make([]int, n)
	var wg sync.WaitGroup
	errc := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, err := stores[i%len(stores)].Pace().Reserve(context.Background(), "shared", every, 0)
			if err != nil {
				errc <- err
				return
			}
			slots[i] = slot(w, every)
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	slices.Sort(slots)
	for i, s := range slots {
		if s != i {
			t.Fatalf("%d reservations on %d replica(s) took slots %v, want each of 0…%d once", n, len(stores), slots, n-1)
		}
	}
}

// A meter spends within its limit and refuses beyond it, gives back,
// keeps keys apart, and forgets an hour a whole day after it ended.
func meterWindow(t *testing.T, newURL func(t testing.TB) string) {
	st := open(t, newURL(t))
	ctx := context.Background()
	m := st.Meter()
	at := time.Date(2026, 3, 10, 9, 20, 0, 0, time.UTC)
	spend := func(key string, at time.Time, n, limit int, wantUsed int, wantOK bool) {
		t.Helper()
		used, ok, err := m.Spend(ctx, key, at, n, limit)
		noErr(t, err)
		if used != wantUsed || ok != wantOK {
			t.Fatalf("spend %d of %d on %s at %v: %d, %v; want %d, %v", n, limit, key, at, used, ok, wantUsed, wantOK)
		}
	}
	spent := func(key string, at time.Time, wantUsed int, wantFrees time.Time) {
		t.Helper()
		used, frees, err := m.Spent(ctx, key, at)
		noErr(t, err)
		if used != wantUsed || !frees.Equal(wantFrees) {
			t.Fatalf("spent on %s at %v: %d, freed %v; want %d, %v", key, at, used, frees, wantUsed, wantFrees)
		}
	}
	spent("a", at, 0, time.Time{})
	spend("a", at, 3, 10, 3, true)
	spend("a", at.Add(2*time.Hour), 6, 10, 9, true)
	spend("a", at.Add(2*time.Hour), 2, 10, 9, false)
	spend("a", at.Add(2*time.Hour), -1, 0, 8, true) // a call not sent
	spend("a", at.Add(2*time.Hour), 2, 10, 10, true)
	spend("b", at, 10, 10, 10, true) // another key counts apart
	// The 09:00 hour counts until 10:00 the next day.
	frees := time.Date(2026, 3, 11, 10, 0, 0, 0, time.UTC)
	spent("a", at.Add(3*time.Hour), 10, frees)
	spent("a", frees.Add(-time.Second), 10, frees)
	spent("a", frees, 7, frees.Add(2*time.Hour))
	spend("a", frees, 3, 10, 10, true)
	spend("a", frees, 1, 10, 10, false)
	spent("a", frees.Add(48*time.Hour), 0, time.Time{})
}

// Spends at once, from every replica, never pass the limit together and
// lose none: exactly limit units are spent.
func meterExactUnderConcurrency(t *testing.T, newURL func(t testing.TB) string) {
	url := newURL(t)
	stores := []*store.Store{open(t, url)}
	if stores[0].Notifier().Shared() {
		stores = append(stores, open(t, url))
	}
	const n, limit = 60, 37
	at := time.Now()
	var took atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := stores[i%len(stores)].Meter().Spend(context.Background(), "shared", at, 1, limit)
			if err != nil {
				errc <- err
				return
			}
			if ok {
				took.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	used, _, err := stores[len(stores)-1].Meter().Spent(context.Background(), "shared", at)
	noErr(t, err)
	if took.Load() != limit || used != limit {
		t.Fatalf("%d spends of 1 on %d replica(s) within %d: %d went, %d counted; want %d", n, len(stores), limit, took.Load(), used, limit)
	}
}

// A store that other replicas may share delivers every payload notified
// after a listener opened, to every listener of the store and no other,
// in order; one that may not says so.
func notifierDelivers(t *testing.T, newURL func(t testing.TB) string) {
	url := newURL(t)
	st := open(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n := st.Notifier()
	if !n.Shared() {
		if l, err := n.Listen(ctx); !errors.Is(err, store.ErrNoListener) {
			t.Errorf("Listen on an unshared store: %v, %v; want ErrNoListener", l, err)
		}
		if err := n.Notify(ctx, "x"); !errors.Is(err, store.ErrNoListener) {
			t.Errorf("Notify on an unshared store: %v; want ErrNoListener", err)
		}
		return
	}
	if n.MaxPayload() < 1000 {
		t.Fatalf("MaxPayload %d", n.MaxPayload())
	}
	noErr(t, n.Notify(ctx, "before anyone listens"))
	replica := open(t, url)
	stranger := open(t, newURL(t)) // another deployment on the same server
	listen := func(nf store.Notifier) store.Listener {
		l, err := nf.Listen(ctx)
		noErr(t, err)
		t.Cleanup(func() { _ = l.Close(context.Background()) })
		return l
	}
	l1, l2 := listen(n), listen(replica.Notifier())
	big := strings.Repeat("x", n.MaxPayload())
	noErr(t, stranger.Notifier().Notify(ctx, "stranger"))
	noErr(t, n.Notify(ctx, "one"))
	noErr(t, replica.Notifier().Notify(ctx, "two"))
	noErr(t, n.Notify(ctx, big))
	for i, l := range []store.Listener{l1, l2} {
		for _, want := range []string{"one", "two", big} {
			got, err := l.Next(ctx)
			noErr(t, err)
			if got != want {
				t.Fatalf("listener %d got %.40q, want %.40q", i, got, want)
			}
		}
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		got, err := l.Next(short)
		cancel()
		if err == nil {
			t.Fatalf("listener %d got %.40q after the last payload", i, got)
		}
	}
	noErr(t, l1.Close(ctx))
	if got, err := l1.Next(ctx); err == nil {
		t.Fatalf("a closed listener got %q", got)
	}
}

// ReadTx reads one snapshot: a write committed while it runs is not seen
// (or waits for it to end).
func readTxOneSnapshot(t *testing.T, newURL func(t testing.TB) string) {
	st := open(t, newURL(t))
	sys := tenant.System(context.Background())
	noErr(t, st.Ent.Account.Create().SetName("before").Exec(sys))
	written := make(chan error, 1)
	noErr(t, st.ReadTx(sys, func(tx *ent.Tx) error {
		before, err := tx.Account.Query().Count(sys)
		if err != nil {
			return err
		}
		go func() { written <- st.Ent.Account.Create().SetName("during").Exec(sys) }()
		select {
		case err := <-written:
			noErr(t, err)
			written <- nil
		case <-time.After(300 * time.Millisecond): // the write waits for the read
		}
		after, err := tx.Account.Query().Count(sys)
		if err != nil {
			return err
		}
		if after != before {
			t.Errorf("one read-only transaction counted %d accounts, then %d", before, after)
		}
		return nil
	}))
	noErr(t, <-written)
	if n, err := st.Ent.Account.Query().Count(sys); err != nil || n != 2 {
		t.Fatalf("after the read: %d accounts, %v", n, err)
	}
}

// Describe names the database.
func describe(t *testing.T, newURL func(t testing.TB) string) {
	st := open(t, newURL(t))
	if d := st.Describe(); d == "" {
		t.Fatal("no description")
	}
}

// A full bucket of 500 takes exactly 500 of 1,000 requests at one instant,
// from many goroutines on every replica; the refused ones are told to wait
// one spacing.
func limitsExactBurst(t *testing.T, newURL func(t testing.TB) string) {
	url := newURL(t)
	stores := []*store.Store{open(t, url)}
	if stores[0].Notifier().Shared() {
		stores = append(stores, open(t, url))
	}
	const n, burst, every = 1000, 500, 10 * time.Millisecond
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	var taken, refused atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, n)
	sem := make(chan struct{}, 32)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			w, err := stores[i%len(stores)].Limits().Take(context.Background(), "k1", now, every, burst)
			if err != nil {
				errc <- err
				return
			}
			if w == 0 {
				taken.Add(1)
				return
			}
			refused.Add(1)
			if w < every || w > 2*every {
				errc <- fmt.Errorf("a refused request waits %v, want about %v", w, every)
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if taken.Load() != burst {
		t.Fatalf("%d requests at once on %d replica(s): %d taken, want %d", n, len(stores), taken.Load(), burst)
	}
}

// A bucket gains one request each spacing, never more than its burst, and
// keys are apart.
func limitsRefill(t *testing.T, newURL func(t testing.TB) string) {
	st := open(t, newURL(t))
	ctx := context.Background()
	l := st.Limits()
	const every = time.Second
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	take := func(key string, at time.Time) time.Duration {
		t.Helper()
		w, err := l.Take(ctx, key, at, every, 3)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	for i := range 3 {
		if w := take("a", now); w != 0 {
			t.Fatalf("request %d of a full bucket of 3 refused (wait %v)", i+1, w)
		}
	}
	if w := take("a", now); w != every {
		t.Fatalf("4th request: wait %v, want %v", w, every)
	}
	if w := take("b", now); w != 0 {
		t.Fatalf("another key is refused (wait %v)", w)
	}
	if w := take("a", now.Add(every)); w != 0 {
		t.Fatalf("one spacing later: refused (wait %v)", w)
	}
	if w := take("a", now.Add(every)); w != every {
		t.Fatalf("one spacing later, the second: wait %v, want %v", w, every)
	}
	// A long quiet spell fills the bucket to its burst, no more.
	later := now.Add(time.Hour)
	for i := range 3 {
		if w := take("a", later); w != 0 {
			t.Fatalf("after an hour, request %d refused (wait %v)", i+1, w)
		}
	}
	if w := take("a", later); w == 0 {
		t.Fatal("after an hour, a 4th request at once is taken: the bucket holds more than its burst")
	}
}
