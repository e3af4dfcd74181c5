package routing_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/assignmentevent"
	"github.com/switchboardhq/switchboard/ent/chat"
	"github.com/switchboardhq/switchboard/ent/notification"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/app"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/outbox"
	"github.com/switchboardhq/switchboard/server/routing"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// The durable timers under faults: a replica killed in the middle of a
// reply deadline or of the waiting line's job, the database connection cut
// in the job's transaction, a failure between the job's commit and River
// recording it done, and every replica stopped with a deadline pending.
// Whatever River then runs again, and wherever, the client passes (or is
// handed out) exactly once.

// workerOpts make a server that works the outbox quickly with clk.
func workerOpts(clk *clock) Options {
	return Options{Configure: func(o *app.Options) {
		o.Clock = clk.Now
		o.Outbox.PollInterval = 50 * time.Millisecond
		o.Outbox.Retry = outbox.Backoff{Initial: 50 * time.Millisecond, Max: 400 * time.Millisecond}
	}}
}

// apiOpts make a server that answers the API with clk and works no job,
// so that the test says which replica works them.
func apiOpts(clk *clock) Options {
	return Options{Configure: func(o *app.Options) { o.Clock = clk.Now; o.Outbox.Queues = []string{"idle"} }}
}

// timerSite is where a fault test runs: the env whose server answers the
// API, and the server that works the jobs first.
type timerSite struct {
	env    *Env
	worker *Server
}

// newTimerSite: on PostgreSQL an API server that works no job and one
// worker replica; on SQLite one server that does both.
func newTimerSite(t *testing.T, b Backend, clk *clock) *timerSite {
	if b.Name == "sqlite" {
		env := New(t, b, workerOpts(clk))
		return &timerSite{env: env, worker: env.Server}
	}
	env := New(t, b, apiOpts(clk))
	return &timerSite{env: env, worker: env.Replica(workerOpts(clk))}
}

// kill stops the working server as a crash would: its running jobs
// cancelled mid-work, its connections dropped, its database pool closed.
// The env then reads through a store of its own (on SQLite a new one on
// the same file).
func (s *timerSite) kill(t *testing.T) {
	t.Helper()
	NoErr(t, s.worker.App.Outbox().Kill(ctx))
	s.worker.Kill()
	_ = s.worker.Store.Close()
	if s.env.Backend == "sqlite" {
		s.env.Store = OpenStore(t, s.env.URL)
	}
}

// takeOver starts the server that works the jobs next: on PostgreSQL
// another replica; on SQLite a new server on the same file.
func (s *timerSite) takeOver(t *testing.T, clk *clock) {
	t.Helper()
	if s.env.Backend == "sqlite" {
		s.worker = StartServer(t, s.env.Store, workerOpts(clk))
		s.env.Server = s.worker
		return
	}
	s.worker = s.env.Replica(workerOpts(clk))
}

// jobState is a job's state now.
func jobState(t *testing.T, env *Env, kind string, id int64) string {
	t.Helper()
	for _, j := range riverJobs(t, env, kind) {
		if j.ID == id {
			return j.State
		}
	}
	t.Fatalf("job %d is gone", id)
	return ""
}

// jobRow is one River job as the test reads it.
type jobRow struct {
	ID      int64
	State   string
	Attempt int
	Args    json.RawMessage
}

func riverJobs(t *testing.T, env *Env, kind string) []jobRow {
	t.Helper()
	q := "SELECT id, state, attempt, args::text FROM river_job WHERE kind = $1 ORDER BY id"
	if env.Backend == "sqlite" {
		q = "SELECT id, state, attempt, json(args) FROM river_job WHERE kind = ? ORDER BY id"
	}
	rows, err := env.Store.DB.QueryContext(ctx, q, kind)
	NoErr(t, err)
	defer rows.Close()
	var out []jobRow
	for rows.Next() {
		var j jobRow
		var raw []byte
		NoErr(t, rows.Scan(&j.ID, &j.State, &j.Attempt, &raw))
		j.Args = raw
		out = append(out, j)
	}
	NoErr(t, rows.Err())
	return out
}

// runNow makes a scheduled job available at once: River schedules a reply
// deadline by the wall clock, the test moves only the routers' clock.
func runNow(t *testing.T, env *Env, id int64) {
	t.Helper()
	q := "UPDATE river_job SET state = 'available', scheduled_at = now() WHERE id = $1"
	if env.Backend == "sqlite" {
		q = "UPDATE river_job SET state = 'available', scheduled_at = datetime('now', 'subsec') WHERE id = ?"
	}
	_, err := env.Store.DB.ExecContext(ctx, q, id)
	NoErr(t, err)
}

// within waits up to limit for ok.
func within(t *testing.T, what string, limit time.Duration, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(limit); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("waited %v for %s", limit, what)
		}
	}
}

// jobDone waits for the job to complete and returns its attempts.
func jobDone(t *testing.T, env *Env, kind string, id int64) int {
	t.Helper()
	attempts := 0
	within(t, kind+" job completed", 30*time.Second, func() bool {
		for _, j := range riverJobs(t, env, kind) {
			if j.ID == id {
				attempts = j.Attempt
				return j.State == "completed"
			}
		}
		t.Fatalf("job %d is gone", id)
		return false
	})
	return attempts
}

// pendingDeadline routes a new client to a channel with a 15-minute reply
// deadline and moves the clock to its due time: it returns the client, its
// responsible and the deadline's job.
func pendingDeadline(t *testing.T, env *Env, clk *clock) (cl, first int64, job jobRow) {
	t.Helper()
	co := env.Demo()
	wa := co.Channels["WhatsApp Sales"]
	withDeadline(t, env, wa, 15, 3)
	d := Route(t, env.Admin(), wa, Phone(1), "hi")
	cl, first = ids.Value(d.Client.Id), ids.Value(d.Assignment.ResponsibleEmployeeId)
	jobs := riverJobs(t, env, routing.DeadlineArgs{}.Kind())
	if len(jobs) != 1 || jobs[0].State != "scheduled" {
		t.Fatalf("deadline jobs %+v, want one scheduled", jobs)
	}
	var a routing.DeadlineArgs
	NoErr(t, json.Unmarshal(jobs[0].Args, &a))
	clk.Set(a.Due)
	return cl, first, jobs[0]
}

// passedOnce checks that the client passed from first exactly once: one
// REPLY_DEADLINE entry, a new responsible, one CHAT_REVOKED to first and
// NEW_CLIENT_ASSIGNED once each to first (the distribution) and to the new
// responsible, and the next deadline scheduled once.
func passedOnce(t *testing.T, env *Env, cl, first int64) {
	t.Helper()
	now := responsibleOf(t, env, cl)
	evs := deadlineEvents(t, env, cl)
	if len(evs) != 1 || now == first || now == 0 || *evs[0].FromEmployeeID != first || *evs[0].ToEmployeeID != now {
		t.Fatalf("responsible %d (was %d), history %v: want one pass", now, first, evs)
	}
	got, _ := pushesAfter(t, env, cl, 0)
	want := map[string][]int64{"NEW_CLIENT_ASSIGNED": {first, now}, "CHAT_REVOKED": {first}}
	if !maps.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("pushes %v, want %v", got, want)
	}
	next := deadlineJobs(t, env, cl)
	if len(next) != 2 || next[1].Responsible != now || next[1].Pass != 1 {
		t.Fatalf("deadlines %+v: want the pass's one after the first", next)
	}
}

// blockOnce is a fault that, the first time the work reaches point, says
// so on entered and holds the work until its replica cancels it.
func blockOnce(point string, entered chan<- struct{}) func(context.Context, *sql.Tx, string) error {
	var once atomic.Bool
	return func(ctx context.Context, _ *sql.Tx, p string) error {
		if p != point || !once.CompareAndSwap(false, true) {
			return nil
		}
		close(entered)
		<-ctx.Done()
		return ctx.Err()
	}
}

func waitEntered(t *testing.T, entered <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-entered:
	case <-time.After(20 * time.Second):
		t.Fatalf("the job never reached %s", what)
	}
}

// TestReplyDeadlineReplicaKilled: the replica working a reply deadline is
// killed (its River client stopped with the job cancelled, its connections
// and pool closed) in the job's transaction after its writes, or after
// its commit but before River recorded the job done. Another replica (on
// SQLite, a new server on the same file) runs the job again: the client
// passes exactly once, its pushes are not doubled, the history has one
// entry and one next deadline is scheduled.
func TestReplyDeadlineReplicaKilled(t *testing.T) {
	for _, point := range []string{"deadline", "deadline committed"} {
		t.Run(point, func(t *testing.T) {
			ForEachBackend(t, func(t *testing.T, b Backend) {
				clk := &clock{t: moscow(t, "2026-11-30 12:00")}
				s := newTimerSite(t, b, clk)
				env := s.env
				cl, first, job := pendingDeadline(t, env, clk)
				entered := make(chan struct{})
				s.worker.App.Router().SetFault(blockOnce(point, entered))
				runNow(t, env, job.ID)
				waitEntered(t, entered, point)
				s.kill(t)
				// The killed attempt's work is rolled back or committed, and
				// River has not recorded the job done: the next replica runs
				// it (and is the only one that can complete it).
				passed := len(deadlineEvents(t, env, cl))
				if want := map[string]int{"deadline": 0, "deadline committed": 1}[point]; passed != want {
					t.Fatalf("killed at %q: the history has %d passes, want %d", point, passed, want)
				}
				if st := jobState(t, env, routing.DeadlineArgs{}.Kind(), job.ID); st == "completed" {
					t.Fatalf("killed at %q: the job is %s", point, st)
				}
				s.takeOver(t, clk)
				jobDone(t, env, routing.DeadlineArgs{}.Kind(), job.ID)
				passedOnce(t, env, cl, first)
			})
		})
	}
}

// terminate cuts every connection of this test's database but the
// killer's: the servers' pools, River's, the job's.
func terminate(t *testing.T, env *Env, pid int) int {
	t.Helper()
	killer, err := pgx.Connect(ctx, env.URL)
	NoErr(t, err)
	defer killer.Close(ctx)
	var n int
	q := `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = current_setting('application_name') AND pid <> pg_backend_pid()`
	args := []any{}
	if pid != 0 {
		q, args = "SELECT count(pg_terminate_backend($1))", []any{pid}
	}
	NoErr(t, killer.QueryRow(ctx, q, args...).Scan(&n))
	return n
}

// TestReplyDeadlineConnectionCut: on PostgreSQL the job's connection is
// terminated in its transaction, after its writes and before its commit
// (the commit fails, the work is rolled back, River retries the job); or
// every connection of the database is terminated after the commit and the
// attempt fails before River records it done (River retries, the retry
// finds the deadline spent). Either way the client passes exactly once.
// On SQLite the failure after the commit is injected without a cut.
func TestReplyDeadlineConnectionCut(t *testing.T) {
	for _, point := range []string{"deadline", "deadline committed"} {
		t.Run(point, func(t *testing.T) {
			ForEachBackend(t, func(t *testing.T, b Backend) {
				if b.Name == "sqlite" && point == "deadline" {
					t.Skip("SQLite is a file: there is no connection to cut")
				}
				clk := &clock{t: moscow(t, "2026-11-30 12:00")}
				s := newTimerSite(t, b, clk)
				env := s.env
				cl, first, job := pendingDeadline(t, env, clk)
				var once atomic.Bool
				cut := make(chan int, 1)
				s.worker.App.Router().SetFault(func(ctx context.Context, raw *sql.Tx, p string) error {
					if p != point || !once.CompareAndSwap(false, true) {
						return nil
					}
					if b.Name == "sqlite" {
						cut <- 0
						return errors.New("injected: the replica lost the database after the commit")
					}
					if raw != nil {
						var pid int
						if err := raw.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
							return err
						}
						cut <- terminate(t, env, pid)
						return nil // the commit meets the cut
					}
					cut <- terminate(t, env, 0)
					return errors.New("the connection was cut after the commit")
				})
				runNow(t, env, job.ID)
				select {
				case n := <-cut:
					if b.Name != "sqlite" && n == 0 {
						t.Fatal("no connection was terminated")
					}
				case <-time.After(20 * time.Second):
					t.Fatalf("the job never reached %s", point)
				}
				if b.Name != "sqlite" {
					env.Store = OpenStore(t, env.URL) // the test's own connections were cut too
				}
				attempts := jobDone(t, env, routing.DeadlineArgs{}.Kind(), job.ID)
				if attempts != 2 {
					t.Fatalf("the deadline ran %d times, want 2 (the cut attempt and its retry)", attempts)
				}
				passedOnce(t, env, cl, first)
			})
		})
	}
}

// TestReplyDeadlineAfterRestart: a deadline is scheduled, every replica
// stops, and a new server starts on the same database after the due time:
// the job runs there once and the client passes once.
func TestReplyDeadlineAfterRestart(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		clk := &clock{t: moscow(t, "2026-11-30 12:00")}
		s := newTimerSite(t, b, clk)
		env := s.env
		cl, first, job := pendingDeadline(t, env, clk)
		if b.Name == "postgres" {
			other := env.Replica(workerOpts(clk))
			other.Stop()
			env.Server.Stop()
		}
		s.worker.Stop()
		_ = s.worker.Store.Close()
		_ = env.Store.Close()
		clk.Set(clk.Now().Add(time.Hour)) // long past due
		env.Store = OpenStore(t, env.URL)
		runNow(t, env, job.ID)
		if got := len(deadlineEvents(t, env, cl)); got != 0 {
			t.Fatalf("%d passes while every server was down", got)
		}
		s.worker = StartServer(t, env.Store, workerOpts(clk))
		if attempts := jobDone(t, env, routing.DeadlineArgs{}.Kind(), job.ID); attempts != 1 {
			t.Fatalf("the deadline ran %d times after the restart", attempts)
		}
		passedOnce(t, env, cl, first)
	})
}

// waitingNow is the waiting line's job (routing.WaitingArgs) enqueued by
// the test instead of River's schedule: the outbox wants an account.
type waitingNow struct{ outbox.Account }

func (waitingNow) Kind() string { return routing.WaitingArgs{}.Kind() }

// TestWaitingJobReplicaKilled: the replica handing out the waiting line is
// killed in the job's transaction after its writes, or after its commit
// before River recorded the job done; another replica (on SQLite a new
// server on the same file) runs the job again. Every waiting client is
// handed out exactly once, in the weighted order, with one history entry
// and one NEW_CLIENT_ASSIGNED push each.
func TestWaitingJobReplicaKilled(t *testing.T) {
	for _, point := range []string{"waiting", "waiting committed"} {
		t.Run(point, func(t *testing.T) {
			ForEachBackend(t, func(t *testing.T, b Backend) {
				clk := &clock{t: moscow(t, "2026-11-30 08:00")}
				s := newTimerSite(t, b, clk)
				env := s.env
				co := env.Demo()
				admin := env.Admin()
				wa := co.Channels["WhatsApp Sales"]
				UpdateSettings(t, admin, func(st *pb.IntegrationSettings) {
					st.Account.TimeZone = "Europe/Moscow"
					for _, n := range loadNames {
						st.Account.WorkingHours = append(st.Account.WorkingHours, &pb.WorkingHours{EmployeeId: co.Employees[n],
							Weekly: []*pb.WorkingPeriod{{Day: pb.Weekday_WEEKDAY_MONDAY, Start: "09:00", End: "18:00"}}})
					}
				})
				const n = 10
				var clients []int64
				for i := 0; i < n; i++ {
					d := Route(t, admin, wa, Phone(750000+i), "early")
					if d.Assignment.Source != pb.ResponsibleSource_RESPONSIBLE_SOURCE_NONE_AVAILABLE {
						t.Fatalf("before the shift: %v", d.Assignment)
					}
					clients = append(clients, ids.Value(d.Client.Id))
				}
				entered := make(chan struct{})
				s.worker.App.Router().SetFault(blockOnce(point, entered))
				clk.Set(moscow(t, "2026-11-30 09:00"))
				actx := tenant.NewContext(ctx, env.AccountID)
				NoErr(t, env.Store.Tx(actx, func(tx *ent.Tx) error {
					_, err := env.Server.App.Outbox().Enqueue(actx, tx, waitingNow{outbox.Account{AccountID: env.AccountID}}, nil)
					return err
				}))
				waitEntered(t, entered, point)
				s.kill(t)
				waiting, err := env.Store.Ent.Chat.Query().Where(chat.WaitingSinceNotNil()).Count(actx)
				NoErr(t, err)
				if want := map[string]int{"waiting": n, "waiting committed": 0}[point]; waiting != want {
					t.Fatalf("killed at %q: %d clients wait, want %d", point, waiting, want)
				}
				s.takeOver(t, clk)
				within(t, "the line handed out", 30*time.Second, func() bool {
					left, err := env.Store.Ent.Chat.Query().Where(chat.WaitingSinceNotNil()).Count(tenant.NewContext(ctx, env.AccountID))
					return err == nil && left == 0
				})
				// Give any other run of the job (the retry, River's periodic
				// one) its chance to hand a client out twice.
				within(t, "every waiting job done", 30*time.Second, func() bool {
					for _, j := range riverJobs(t, env, routing.WaitingArgs{}.Kind()) {
						if j.State != "completed" {
							return false
						}
					}
					return true
				})
				actx = tenant.NewContext(ctx, env.AccountID)
				counts := map[string]int{}
				for _, cl := range clients {
					evs, err := env.Store.Ent.AssignmentEvent.Query().Where(assignmentevent.ContactID(cl),
						assignmentevent.CauseEQ(assignmentevent.CauseDISTRIBUTION)).All(actx)
					NoErr(t, err)
					resp := responsibleOf(t, env, cl)
					if len(evs) != 1 || resp == 0 || *evs[0].ToEmployeeID != resp {
						t.Fatalf("client %d: responsible %d, %d history entries", cl, resp, len(evs))
					}
					ns, err := env.Store.Ent.Notification.Query().Where(notification.ContactID(cl),
						notification.ReasonEQ(notification.ReasonNEW_CLIENT_ASSIGNED)).All(actx)
					NoErr(t, err)
					if len(ns) != 1 || *ns[0].EmployeeID != resp {
						t.Fatalf("client %d: %d NEW_CLIENT_ASSIGNED pushes", cl, len(ns))
					}
					counts[names(co)[ids.Format(resp)]]++
				}
				// Ten clients by the spec's weights: two rounds of five.
				want := map[string]int{"Bruce Wayne": 2, "Scrooge McDuck": 2, "Tony Stark": 4, "Constantine": 2}
				if !maps.Equal(counts, want) {
					t.Fatalf("handed out %v, want %v", counts, want)
				}
			})
		})
	}
}
