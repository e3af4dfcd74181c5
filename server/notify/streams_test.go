package notify_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent/employee"
	"github.com/switchboardhq/switchboard/ent/notificationstream"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/app"
	"github.com/switchboardhq/switchboard/server/client"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/notify"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// TestStreamLeases: an employee's stream holds a lease while open, renewed
// by the clock and opened again if swept meanwhile; its close ends the
// lease, and the sweep records when the employee's last stream went. The
// general chat's streams hold none.
func TestStreamLeases(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		var mu sync.Mutex
		t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
		now := t0
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		set := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
		env := New(t, b, Options{Configure: func(o *app.Options) {
			o.Clock = clock
			o.Notify.StreamRenew = 20 * time.Millisecond
		}})
		co := env.Demo()
		actx := tenant.NewContext(ctx, env.AccountID)
		bruce := ids.Value(co.Employees["Bruce Wayne"])
		leases := func() []struct{ renewed, expires time.Time } {
			rows, err := env.Store.Ent.NotificationStream.Query().All(actx)
			NoErr(t, err)
			var out []struct{ renewed, expires time.Time }
			for _, r := range rows {
				if r.EmployeeID != bruce {
					t.Fatalf("a lease of employee %d", r.EmployeeID)
				}
				out = append(out, struct{ renewed, expires time.Time }{r.RenewedAt, r.ExpiresAt})
			}
			return out
		}
		closedAt := func() *time.Time {
			e, err := env.Store.Ent.Employee.Query().Where(employee.ID(bruce)).Only(actx)
			NoErr(t, err)
			return e.StreamsClosedAt
		}
		eventually := func(what string, ok func() bool) {
			t.Helper()
			deadline := time.Now().Add(10 * time.Second)
			for !ok() {
				if time.Now().After(deadline) {
					t.Fatalf("%s: not so after 10 s; leases %v, closed at %v", what, leases(), closedAt())
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		caughtUp := func(stream interface{ Receive() bool }, msg func() bool) {
			t.Helper()
			for stream.Receive() {
				if msg() {
					return
				}
			}
			t.Fatal("stream ended before CaughtUp")
		}

		// Bruce's own token: a lease from the clock.
		stream, cancel := subscribe(t, env.Clients(co.Token, client.Connect), "", "")
		defer cancel()
		caughtUp(stream, func() bool { return stream.Msg().GetCaughtUp() != nil })
		if ls := leases(); len(ls) != 1 || !ls[0].renewed.Equal(t0) || !ls[0].expires.Equal(t0.Add(notify.LeaseTTL)) {
			t.Fatalf("leases %v, want one from %v", ls, t0)
		}
		// The general chat: none.
		gctx, cancelGeneral := context.WithCancel(ctx)
		defer cancelGeneral()
		general, err := env.Admin().Notification.Subscribe(gctx, &pb.SubscribeRequest{GeneralChat: true})
		NoErr(t, err)
		caughtUp(general, func() bool { return general.Msg().GetCaughtUp() != nil })
		if ls := leases(); len(ls) != 1 {
			t.Fatalf("leases with the general chat's stream: %v", ls)
		}
		cancelGeneral()

		// Renewed by the clock.
		t1 := t0.Add(10 * time.Minute)
		set(t1)
		eventually("renewed", func() bool {
			ls := leases()
			return len(ls) == 1 && ls[0].renewed.Equal(t1) && ls[0].expires.Equal(t1.Add(notify.LeaseTTL))
		})
		// Swept while open (this replica stalled past the lease): the
		// stream opens its lease again and clears the closing time.
		n, err := notify.SweepStreams(ctx, env.Store, t1.Add(time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("sweep past the lease: %d, %v", n, err)
		}
		eventually("opened again", func() bool { return len(leases()) == 1 && closedAt() == nil })

		// Closed: the lease ends at the moment; the sweep records it.
		t2 := t1.Add(5 * time.Minute)
		set(t2)
		cancel()
		eventually("ended", func() bool {
			ls := leases()
			return len(ls) == 1 && ls[0].expires.Equal(t2) && ls[0].renewed.Equal(t2)
		})
		if n, err := notify.SweepStreams(ctx, env.Store, t2); err != nil || n != 1 {
			t.Fatalf("sweep: %d, %v", n, err)
		}
		if got := closedAt(); got == nil || !got.Equal(t2) || len(leases()) != 0 {
			t.Fatalf("closed at %v, leases %v; want %v and none", got, leases(), t2)
		}
		if n, err := env.Store.Ent.NotificationStream.Query().Where(notificationstream.EmployeeID(bruce)).Count(actx); err != nil || n != 0 {
			t.Fatalf("leases left: %d, %v", n, err)
		}
	})
}
