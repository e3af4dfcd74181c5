package routing_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent/employee"
	"github.com/switchboardhq/switchboard/ent/notificationstream"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/app"
	"github.com/switchboardhq/switchboard/server/client"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// Presence from streams (SPEC §11): a member whose notification streams
// have all been closed for longer than the channel's grace is skipped.

// streamOptions: the test's clock; leases last lease (0: the default 90 s)
// and are renewed only after an hour of the wall clock, so what the test
// sees of them is what it did.
func streamOptions(c *clock, lease time.Duration) Options {
	return Options{Configure: func(o *app.Options) {
		o.Clock = c.Now
		o.Notify.StreamLease = lease
		o.Notify.StreamRenew = time.Hour
	}}
}

// openStream opens an employee's notification stream on the server at url
// and waits for its CaughtUp; the returned func closes it.
func openStream(t *testing.T, url, key, employeeID string) func() {
	t.Helper()
	sctx, cancel := context.WithCancel(ctx)
	stream, err := client.New(url, key, client.Connect, nil).Notification.Subscribe(sctx, &pb.SubscribeRequest{EmployeeId: employeeID})
	if err != nil {
		cancel()
		t.Fatalf("subscribe: %v", err)
	}
	for stream.Receive() {
		if stream.Msg().GetCaughtUp() != nil {
			return func() { cancel(); _ = stream.Close() }
		}
	}
	cancel()
	t.Fatalf("stream ended before CaughtUp: %v", stream.Err())
	return nil
}

// liveLeases counts an employee's leases not over at now.
func liveLeases(t *testing.T, st *store.Store, accountID int64, employeeID string, now time.Time) int {
	t.Helper()
	n, err := st.Ent.NotificationStream.Query().Where(notificationstream.EmployeeID(ids.Value(employeeID)),
		notificationstream.ExpiresAtGT(now)).Count(tenant.NewContext(ctx, accountID))
	NoErr(t, err)
	return n
}

// waitLeases waits until an employee has want live leases (a stream's end
// reaches the server after the client closed it).
func waitLeases(t *testing.T, env *Env, employeeID string, now time.Time, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for liveLeases(t, env.Store, env.AccountID, employeeID, now) != want {
		if time.Now().After(deadline) {
			t.Fatalf("employee %s: %d live leases, want %d", employeeID, liveLeases(t, env.Store, env.AccountID, employeeID, now), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// streamsClosedAt reads when an employee's last stream closed (nil: one is
// open or none ever was).
func streamsClosedAt(t *testing.T, env *Env, employeeID string) *time.Time {
	t.Helper()
	e, err := env.Store.Ent.Employee.Query().Where(employee.ID(ids.Value(employeeID))).Only(tenant.NewContext(ctx, env.AccountID))
	NoErr(t, err)
	return e.StreamsClosedAt
}

func withGrace(t *testing.T, admin *client.Clients, channel string, minutes int32) {
	t.Helper()
	UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
		ChannelSettings(s, channel).Availability = &pb.ChannelAvailability{StreamGraceMinutes: minutes}
	})
}

// skippedFor finds an employee among a decision's skipped members.
func skippedFor(d *pb.RoutingDecision, employeeID string) *pb.SkippedMember {
	for _, s := range d.GetAssignment().GetSkipped() {
		if s.EmployeeId == employeeID {
			return s
		}
	}
	return nil
}

// TestStreamPresence: a member whose only stream closed longer than the
// channel's grace ago is skipped and explained; within the grace, on a
// channel without a grace, or with another stream still open, it is not;
// a stream opened again makes it available at once.
func TestStreamPresence(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		clk := &clock{t: moscow(t, "2026-11-30 12:00")}
		env := New(t, b, streamOptions(clk, 24*time.Hour))
		co := env.Demo()
		admin := env.Admin()
		e := co.Employees
		byID := names(co)
		wa, tg := co.Channels["WhatsApp Sales"], co.Channels["Telegram Support"]
		r := env.Server.App.Router()
		tony := e["Tony Stark"]
		phone := 760000
		// route sends n new clients to ch and returns who took them and
		// the decisions.
		route := func(ch string, n int) ([]string, []*pb.RoutingDecision) {
			var who []string
			var ds []*pb.RoutingDecision
			for i := 0; i < n; i++ {
				phone++
				d := Route(t, admin, ch, Phone(phone), "hi")
				who = append(who, byID[d.Client.ResponsibleEmployeeId])
				ds = append(ds, d)
			}
			return who, ds
		}
		has := func(who []string, name string) bool {
			for _, w := range who {
				if w == name {
					return true
				}
			}
			return false
		}

		withGrace(t, admin, wa, 10)
		// Never streamed: not judged.
		clk.Set(clk.Now().Add(time.Hour))
		if who, ds := route(wa, 5); !has(who, "Tony Stark") || skippedFor(ds[0], tony) != nil {
			t.Fatalf("a member who never streamed: %v %v", who, ds[0].Assignment)
		}

		// Tony's stream opens and closes; the sweep records when.
		closeTony := openStream(t, env.Server.URL, env.AdminKey, tony)
		if got := streamsClosedAt(t, env, tony); got != nil {
			t.Fatalf("closing time with a stream open: %v", got)
		}
		closedAt := clk.Now()
		closeTony()
		waitLeases(t, env, tony, closedAt, 0)
		if n, err := r.SweepStreams(ctx); err != nil || n != 1 {
			t.Fatalf("sweep: %d, %v", n, err)
		}
		if got := streamsClosedAt(t, env, tony); got == nil || !got.Equal(closedAt) {
			t.Fatalf("closing time %v, want %v", got, closedAt)
		}
		if n, err := r.SweepStreams(ctx); err != nil || n != 0 {
			t.Fatalf("second sweep: %d, %v", n, err)
		}

		// Within the grace (and exactly at it): Tony takes clients.
		for _, after := range []time.Duration{5 * time.Minute, 10 * time.Minute} {
			clk.Set(closedAt.Add(after))
			if who, ds := route(wa, 5); !has(who, "Tony Stark") || skippedFor(ds[0], tony) != nil {
				t.Fatalf("%v after the close: %v %v", after, who, ds[0].Assignment)
			}
		}
		// Past it: skipped and explained, on every decision.
		clk.Set(closedAt.Add(12 * time.Minute))
		who, ds := route(wa, 6)
		if has(who, "Tony Stark") {
			t.Fatalf("Tony took a client 12 min after his stream closed: %v", who)
		}
		for _, d := range ds {
			s := skippedFor(d, tony)
			if s == nil || s.Reason != pb.SkipReason_SKIP_REASON_NO_STREAM ||
				s.Explanation != "Tony Stark: no notification stream for 12 min (AWAY)" {
				t.Fatalf("skipped %v", d.Assignment.Skipped)
			}
			if len(d.Assignment.Skipped) != 1 {
				t.Fatalf("others skipped: %v", d.Assignment.Skipped)
			}
		}
		// A channel with no grace (the default): Tony is a candidate.
		_, ds = route(tg, 1)
		if len(ds[0].Assignment.CandidateEmployeeIds) != 2 || len(ds[0].Assignment.Skipped) != 0 {
			t.Fatalf("first responder without a grace: %v", ds[0].Assignment)
		}
		// With one, first-responder candidates leave him out too.
		withGrace(t, admin, tg, 1)
		_, ds = route(tg, 1)
		if c := ds[0].Assignment.CandidateEmployeeIds; len(c) != 1 || c[0] != e["Bruce Wayne"] || skippedFor(ds[0], tony) == nil {
			t.Fatalf("first responder with a grace: %v", ds[0].Assignment)
		}

		// The stream opens again: available at once.
		closeTony = openStream(t, env.Server.URL, env.AdminKey, tony)
		if got := streamsClosedAt(t, env, tony); got != nil {
			t.Fatalf("closing time after a new stream: %v", got)
		}
		if who, ds := route(wa, 5); !has(who, "Tony Stark") || skippedFor(ds[0], tony) != nil {
			t.Fatalf("stream back: %v %v", who, ds[0].Assignment)
		}

		// Two streams, one closes: still available however long after.
		closeSecond := openStream(t, env.Server.URL, env.AdminKey, tony)
		closeTony()
		waitLeases(t, env, tony, clk.Now(), 1)
		_, err := r.SweepStreams(ctx)
		NoErr(t, err)
		clk.Set(clk.Now().Add(3 * time.Hour))
		_, err = r.SweepStreams(ctx)
		NoErr(t, err)
		if got := streamsClosedAt(t, env, tony); got != nil {
			t.Fatalf("closing time with one stream left: %v", got)
		}
		if who, ds := route(wa, 5); !has(who, "Tony Stark") || skippedFor(ds[0], tony) != nil {
			t.Fatalf("one stream left: %v %v", who, ds[0].Assignment)
		}
		// The second closes too: away once the grace passes.
		closedAt = clk.Now()
		closeSecond()
		waitLeases(t, env, tony, closedAt, 0)
		_, err = r.SweepStreams(ctx)
		NoErr(t, err)
		clk.Set(closedAt.Add(11 * time.Minute))
		if who, ds := route(wa, 5); has(who, "Tony Stark") || skippedFor(ds[0], tony).GetReason() != pb.SkipReason_SKIP_REASON_NO_STREAM {
			t.Fatalf("both closed: %v %v", who, ds[0].Assignment)
		}
		// Presence says it first: an AWAY member is skipped as not online.
		_, err = admin.Directory.SetPresence(ctx, &pb.SetPresenceRequest{EmployeeId: tony, Presence: pb.Presence_PRESENCE_AWAY})
		NoErr(t, err)
		if _, ds := route(wa, 1); skippedFor(ds[0], tony).GetReason() != pb.SkipReason_SKIP_REASON_NOT_ONLINE {
			t.Fatalf("away and no stream: %v", ds[0].Assignment)
		}
		_, err = admin.Directory.SetPresence(ctx, &pb.SetPresenceRequest{EmployeeId: tony, Presence: pb.Presence_PRESENCE_ONLINE})
		NoErr(t, err)
		// The grace off again: Tony is back in.
		withGrace(t, admin, wa, 0)
		if who, ds := route(wa, 5); !has(who, "Tony Stark") || len(ds[0].Assignment.Skipped) != 0 {
			t.Fatalf("grace off: %v %v", who, ds[0].Assignment)
		}
	})
}

// TestStreamBackWaitingLine: with every member's streams gone past the
// grace a new client waits; the first stream to open again hands it out.
func TestStreamBackWaitingLine(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		clk := &clock{t: moscow(t, "2026-11-30 12:00")}
		env := New(t, b, streamOptions(clk, 24*time.Hour))
		co := env.Demo()
		admin := env.Admin()
		e := co.Employees
		wa := co.Channels["WhatsApp Sales"]
		withGrace(t, admin, wa, 1)
		staff := []string{"Bruce Wayne", "Scrooge McDuck", "Tony Stark", "Constantine"}
		for _, n := range staff {
			openStream(t, env.Server.URL, env.AdminKey, e[n])()
			waitLeases(t, env, e[n], clk.Now(), 0)
		}
		n, err := env.Server.App.Router().SweepStreams(ctx)
		if err != nil || n != len(staff) {
			t.Fatalf("sweep: %d, %v", n, err)
		}
		clk.Set(clk.Now().Add(2 * time.Minute))
		d := Route(t, admin, wa, Phone(770000), "anyone?")
		if d.Assignment.Source != pb.ResponsibleSource_RESPONSIBLE_SOURCE_NONE_AVAILABLE || len(d.Assignment.Skipped) != len(staff) {
			t.Fatalf("all gone: %v", d.Assignment)
		}
		for _, s := range d.Assignment.Skipped {
			if s.Reason != pb.SkipReason_SKIP_REASON_NO_STREAM || !strings.HasSuffix(s.Explanation, ": no notification stream for 2 min (AWAY)") {
				t.Fatalf("skipped %v", s)
			}
		}
		if got := responsibleOf(t, env, ids.Value(d.Client.Id)); got != 0 {
			t.Fatalf("a waiting client has responsible %d", got)
		}
		// Scrooge's stream opens: by its CaughtUp the client is his.
		defer openStream(t, env.Server.URL, env.AdminKey, e["Scrooge McDuck"])()
		if got := responsibleOf(t, env, ids.Value(d.Client.Id)); ids.Format(got) != e["Scrooge McDuck"] {
			t.Fatalf("after Scrooge's stream opened the client has %d, want %s", got, e["Scrooge McDuck"])
		}
	})
}

// TestStreamReplicaKilled: a replica that dies without closing its streams
// leaves leases; once they expire the sweep records the employee's streams
// as gone from their last renewal, and the grace runs from there.
func TestStreamReplicaKilled(t *testing.T) {
	b := Postgres(t)
	clk := &clock{t: moscow(t, "2026-11-30 12:00")}
	env := New(t, b, streamOptions(clk, 0))
	co := env.Demo()
	admin := env.Admin()
	e := co.Employees
	wa := co.Channels["WhatsApp Sales"]
	tony := e["Tony Stark"]
	withGrace(t, admin, wa, 5)
	doomed := env.Replica(streamOptions(clk, 0))
	openStream(t, doomed.URL, env.AdminKey, tony) // never closed by the client
	openedAt := clk.Now()
	// The replica dies: nothing it does afterwards reaches the database.
	NoErr(t, doomed.Store.Close())
	doomed.Kill()
	r := env.Server.App.Router()
	if n := liveLeases(t, env.Store, env.AccountID, tony, clk.Now()); n != 1 {
		t.Fatalf("the dead replica's lease: %d live", n)
	}
	// Before the lease expires nothing is recorded.
	clk.Set(openedAt.Add(time.Minute))
	if n, err := r.SweepStreams(ctx); err != nil || n != 0 || streamsClosedAt(t, env, tony) != nil {
		t.Fatalf("sweep before expiry: %d, %v, %v", n, err, streamsClosedAt(t, env, tony))
	}
	// Expired: gone since its last renewal.
	clk.Set(openedAt.Add(2 * time.Minute))
	if n, err := r.SweepStreams(ctx); err != nil || n != 1 {
		t.Fatalf("sweep after expiry: %d, %v", n, err)
	}
	if got := streamsClosedAt(t, env, tony); got == nil || !got.Equal(openedAt) {
		t.Fatalf("closing time %v, want %v", got, openedAt)
	}
	d := Route(t, admin, wa, Phone(780000), "hi")
	if skippedFor(d, tony) != nil {
		t.Fatalf("within the grace: %v", d.Assignment)
	}
	clk.Set(openedAt.Add(6 * time.Minute))
	for i := 0; i < 5; i++ {
		d := Route(t, admin, wa, Phone(780001+i), "hi")
		if s := skippedFor(d, tony); s == nil || s.Explanation != "Tony Stark: no notification stream for 6 min (AWAY)" ||
			d.Client.ResponsibleEmployeeId == tony {
			t.Fatalf("past the grace: %v", d.Assignment)
		}
	}
}

// TestStreamsConcurrent: streams of several employees opening and closing
// at once, on two replicas where there is PostgreSQL, with sweeps running
// on each meanwhile: each time an employee's one stream closes while
// another opens, it ends with no closing time; when its last closes, with
// one.
func TestStreamsConcurrent(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		clk := &clock{t: moscow(t, "2026-11-30 12:00")}
		env := New(t, b, streamOptions(clk, 24*time.Hour))
		co := env.Demo()
		servers := []*Server{env.Server}
		if b.Name == "postgres" {
			servers = append(servers, env.Replica(streamOptions(clk, 24*time.Hour)))
		}
		var staff []string
		for _, id := range co.Employees {
			staff = append(staff, id)
		}
		done := make(chan struct{})
		var sweepers sync.WaitGroup
		sweepErr := make(chan error, len(servers))
		for _, s := range servers {
			sweepers.Add(1)
			go func(r *Server) {
				defer sweepers.Done()
				for {
					select {
					case <-done:
						return
					default:
					}
					if _, err := r.App.Router().SweepStreams(ctx); err != nil {
						sweepErr <- err
						return
					}
				}
			}(s)
		}
		stop := func() {
			select {
			case <-done:
			default:
				close(done)
				sweepers.Wait()
			}
		}
		defer stop()
		const iterations = 10
		old := make([]func(), len(staff))
		for i, emp := range staff {
			old[i] = openStream(t, servers[i%len(servers)].URL, env.AdminKey, emp)
		}
		for it := 0; it < iterations; it++ {
			// Each employee's stream closes while a new one opens on the
			// other replica.
			fresh := make([]func(), len(staff))
			var wg sync.WaitGroup
			for i, emp := range staff {
				wg.Add(2)
				go func() { defer wg.Done(); old[i]() }()
				go func() {
					defer wg.Done()
					fresh[i] = openStream(t, servers[(i+it+1)%len(servers)].URL, env.AdminKey, emp)
				}()
			}
			wg.Wait()
			if t.Failed() {
				return // a stream did not open
			}
			for _, emp := range staff {
				waitLeases(t, env, emp, clk.Now(), 1)
			}
			_, err := env.Server.App.Router().SweepStreams(ctx)
			NoErr(t, err)
			for _, emp := range staff {
				if got := streamsClosedAt(t, env, emp); got != nil {
					t.Fatalf("iteration %d: employee %s has a stream open but a closing time %v", it, emp, got)
				}
			}
			old = fresh
		}
		// The last streams close, all at once.
		var wg sync.WaitGroup
		for i := range staff {
			wg.Add(1)
			go func() { defer wg.Done(); old[i]() }()
		}
		wg.Wait()
		for _, emp := range staff {
			waitLeases(t, env, emp, clk.Now(), 0)
		}
		stop()
		select {
		case err := <-sweepErr:
			t.Fatalf("sweep: %v", err)
		default:
		}
		_, err := env.Server.App.Router().SweepStreams(ctx)
		NoErr(t, err)
		for _, emp := range staff {
			if got := streamsClosedAt(t, env, emp); got == nil || !got.Equal(clk.Now()) {
				t.Fatalf("employee %s has no stream left; closing time %v, want %v", emp, got, clk.Now())
			}
		}
		n, err := env.Store.Ent.NotificationStream.Query().Count(tenant.NewContext(ctx, env.AccountID))
		NoErr(t, err)
		if n != 0 {
			t.Fatalf("%d leases left after the sweep", n)
		}
	})
}
