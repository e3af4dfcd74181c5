package routing_test

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/assignmentevent"
	"github.com/switchboardhq/switchboard/ent/notification"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/routing"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// deadlineJobs are the reply deadlines scheduled for a client, oldest
// first.
func deadlineJobs(t *testing.T, env *Env, clientID int64) []routing.DeadlineArgs {
	t.Helper()
	q := "SELECT args::text FROM river_job WHERE kind = 'reply_deadline' ORDER BY id"
	if env.Backend == "sqlite" {
		q = "SELECT json(args) FROM river_job WHERE kind = 'reply_deadline' ORDER BY id" // River keeps JSONB there
	}
	rows, err := env.Store.DB.QueryContext(ctx, q)
	NoErr(t, err)
	defer rows.Close()
	var out []routing.DeadlineArgs
	for rows.Next() {
		var raw []byte
		NoErr(t, rows.Scan(&raw))
		var a routing.DeadlineArgs
		NoErr(t, json.Unmarshal(raw, &a))
		if a.ClientID == clientID {
			out = append(out, a)
		}
	}
	NoErr(t, rows.Err())
	return out
}

// deadlineEvents are a client's REPLY_DEADLINE history entries, oldest
// first.
func deadlineEvents(t *testing.T, env *Env, clientID int64) []*ent.AssignmentEvent {
	t.Helper()
	evs, err := env.Store.Ent.AssignmentEvent.Query().Where(assignmentevent.ContactID(clientID),
		assignmentevent.CauseEQ(assignmentevent.CauseREPLY_DEADLINE)).Order(ent.Asc(assignmentevent.FieldID)).
		All(tenant.NewContext(ctx, env.AccountID))
	NoErr(t, err)
	return evs
}

// pushesAfter are the client's pushes after id, as reason → employees.
func pushesAfter(t *testing.T, env *Env, clientID, after int64) (map[string][]int64, int64) {
	t.Helper()
	ns, err := env.Store.Ent.Notification.Query().Where(notification.ContactID(clientID), notification.IDGT(after)).
		Order(ent.Asc(notification.FieldID)).All(tenant.NewContext(ctx, env.AccountID))
	NoErr(t, err)
	out := map[string][]int64{}
	last := after
	for _, n := range ns {
		var e int64
		if n.EmployeeID != nil {
			e = *n.EmployeeID
		}
		out[string(n.Reason)] = append(out[string(n.Reason)], e)
		last = max(last, n.ID)
	}
	return out, last
}

func responsibleOf(t *testing.T, env *Env, clientID int64) int64 {
	t.Helper()
	cl, err := env.Store.Ent.Contact.Get(tenant.NewContext(ctx, env.AccountID), clientID)
	NoErr(t, err)
	if cl.ResponsibleID == nil {
		return 0
	}
	return *cl.ResponsibleID
}

func withDeadline(t *testing.T, admin *Env, channel string, minutes, passes int32) {
	t.Helper()
	UpdateSettings(t, admin.Admin(), func(s *pb.IntegrationSettings) {
		ChannelSettings(s, channel).Availability = &pb.ChannelAvailability{ReplyDeadlineMinutes: minutes, MaxPasses: passes}
	})
}

// TestReplyDeadline: an unanswered new client passes to the next member
// when the deadline runs out by the router's clock (CHAT_REVOKED to the
// old responsible, NEW_CLIENT_ASSIGNED to the new one, a REPLY_DEADLINE
// history entry), max_passes times; then the channel's managers are told
// and the client stays. A repeated job does nothing; an answer cancels the
// deadline; without a deadline no job is scheduled.
func TestReplyDeadline(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		clk := &clock{t: moscow(t, "2026-11-30 12:00")}
		env := New(t, b, withClock(clk))
		co := env.Demo()
		admin := env.Admin()
		wa := co.Channels["WhatsApp Sales"]
		byID := names(co)
		r := env.Server.App.Router()

		// Defaults: no deadline, no job.
		d0 := Route(t, admin, wa, Phone(1), "hi")
		if jobs := deadlineJobs(t, env, ids.Value(d0.Client.Id)); len(jobs) != 0 || d0.Assignment.ReplyDueTime != nil {
			t.Fatalf("deadline without the setting: %v, decision says %v", jobs, d0.Assignment.ReplyDueTime)
		}

		withDeadline(t, env, wa, 15, 2)
		d := Route(t, admin, wa, Phone(2), "hi")
		cl := ids.Value(d.Client.Id)
		first := ids.Value(d.Assignment.ResponsibleEmployeeId)
		jobs := deadlineJobs(t, env, cl)
		if len(jobs) != 1 || jobs[0].Responsible != first || !jobs[0].Due.Equal(clk.Now().Add(15*time.Minute)) || jobs[0].Pass != 0 {
			t.Fatalf("jobs %+v, want one for %d due in 15 min", jobs, first)
		}
		if !d.Assignment.ReplyDueTime.AsTime().Equal(jobs[0].Due) {
			t.Fatalf("the decision says a reply is due at %v, the job at %v", d.Assignment.ReplyDueTime.AsTime(), jobs[0].Due)
		}
		// A known client writing again starts no deadline and says none.
		if again := Route(t, admin, wa, Phone(2), "still there?"); again.Assignment.ReplyDueTime != nil || len(deadlineJobs(t, env, cl)) != 1 {
			t.Fatalf("a second message: due %v, %d jobs", again.Assignment.ReplyDueTime, len(deadlineJobs(t, env, cl)))
		}
		_, mark := pushesAfter(t, env, cl, 0)

		// Early: nothing happens, the rest is waited.
		clk.Set(clk.Now().Add(10 * time.Minute))
		wait, err := r.ReplyDeadline(ctx, jobs[0])
		NoErr(t, err)
		if wait != 5*time.Minute || responsibleOf(t, env, cl) != first {
			t.Fatalf("early run: wait %v, responsible %d", wait, responsibleOf(t, env, cl))
		}

		// Due: the client passes.
		prev := first
		for pass := 1; pass <= 2; pass++ {
			clk.Set(jobs[pass-1].Due)
			_, err = r.ReplyDeadline(ctx, jobs[pass-1])
			NoErr(t, err)
			now := responsibleOf(t, env, cl)
			if now == prev || now == 0 {
				t.Fatalf("pass %d: responsible %d (was %d)", pass, now, prev)
			}
			evs := deadlineEvents(t, env, cl)
			if len(evs) != pass {
				t.Fatalf("pass %d: %d history entries", pass, len(evs))
			}
			want := byID[ids.Format(prev)] + " did not answer within 15 min; passed to " + byID[ids.Format(now)] +
				" (pass " + string(rune('0'+pass)) + " of 2)"
			ev := evs[pass-1]
			if !strings.HasPrefix(ev.Explanation, want) || *ev.FromEmployeeID != prev || *ev.ToEmployeeID != now {
				t.Fatalf("pass %d: history %q from %v to %v, want %q", pass, ev.Explanation, ev.FromEmployeeID, ev.ToEmployeeID, want)
			}
			var got map[string][]int64
			got, mark = pushesAfter(t, env, cl, mark)
			if len(got["CHAT_REVOKED"]) != 1 || got["CHAT_REVOKED"][0] != prev || len(got["NEW_CLIENT_ASSIGNED"]) != 1 ||
				got["NEW_CLIENT_ASSIGNED"][0] != now || len(got) != 2 {
				t.Fatalf("pass %d: pushes %v", pass, got)
			}
			// The same job again does nothing.
			_, err = r.ReplyDeadline(ctx, jobs[pass-1])
			NoErr(t, err)
			if len(deadlineEvents(t, env, cl)) != pass || responsibleOf(t, env, cl) != now {
				t.Fatalf("pass %d: a repeated job acted", pass)
			}
			jobs = deadlineJobs(t, env, cl)
			if len(jobs) != pass+1 || jobs[pass].Responsible != now || jobs[pass].Pass != pass {
				t.Fatalf("pass %d: next deadline %+v", pass, jobs)
			}
			prev = now
		}

		// Passes used up: the managers are told, the client stays.
		clk.Set(jobs[2].Due)
		_, err = r.ReplyDeadline(ctx, jobs[2])
		NoErr(t, err)
		if responsibleOf(t, env, cl) != prev {
			t.Fatalf("escalation moved the client")
		}
		got, _ := pushesAfter(t, env, cl, mark)
		if len(got) != 1 || len(got["MANAGER_ESCALATION"]) == 0 {
			t.Fatalf("escalation pushes %v", got)
		}
		for _, id := range got["MANAGER_ESCALATION"] {
			if id == 0 || byID[ids.Format(id)] == "" {
				t.Fatalf("escalation to %d", id)
			}
		}
		evs := deadlineEvents(t, env, cl)
		if len(evs) != 3 || !strings.Contains(evs[2].Explanation, "passed 2 of 2 times already; managers told") {
			t.Fatalf("escalation history %v", evs)
		}
		if len(deadlineJobs(t, env, cl)) != 3 {
			t.Fatalf("a deadline after the escalation")
		}

		// An answer before the deadline cancels it.
		d2 := Route(t, admin, wa, Phone(3), "hi")
		cl2 := ids.Value(d2.Client.Id)
		j2 := deadlineJobs(t, env, cl2)
		if len(j2) != 1 {
			t.Fatalf("jobs %v", j2)
		}
		_, err = write(admin, d2.Assignment.ResponsibleEmployeeId, d2.Chat.Id)
		NoErr(t, err)
		clk.Set(j2[0].Due.Add(time.Minute))
		_, err = r.ReplyDeadline(ctx, j2[0])
		NoErr(t, err)
		if responsibleOf(t, env, cl2) != ids.Value(d2.Assignment.ResponsibleEmployeeId) || len(deadlineEvents(t, env, cl2)) != 0 {
			t.Fatalf("an answered client passed")
		}
	})
}

// TestReplyDeadlineEscalatesAtOnce: with max_passes 0 the first missed
// deadline goes to the managers.
func TestReplyDeadlineEscalatesAtOnce(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		clk := &clock{t: moscow(t, "2026-11-30 12:00")}
		env := New(t, b, withClock(clk))
		co := env.Demo()
		wa := co.Channels["WhatsApp Sales"]
		withDeadline(t, env, wa, 5, 0)
		d := Route(t, env.Admin(), wa, Phone(1), "hi")
		cl := ids.Value(d.Client.Id)
		jobs := deadlineJobs(t, env, cl)
		clk.Set(jobs[0].Due)
		_, err := env.Server.App.Router().ReplyDeadline(ctx, jobs[0])
		NoErr(t, err)
		got, _ := pushesAfter(t, env, cl, 0)
		evs := deadlineEvents(t, env, cl)
		if len(got["MANAGER_ESCALATION"]) == 0 || len(evs) != 1 || !strings.Contains(evs[0].Explanation, "allows no passes") ||
			responsibleOf(t, env, cl) != ids.Value(d.Assignment.ResponsibleEmployeeId) {
			t.Fatalf("pushes %v, history %v", got, evs)
		}
	})
}

// TestReplyDeadlineOnce: the same deadline run at once by many goroutines
// (and, on PostgreSQL, on two replicas) passes the client exactly once.
func TestReplyDeadlineOnce(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		clk := &clock{t: moscow(t, "2026-11-30 12:00")}
		env := New(t, b, withClock(clk))
		co := env.Demo()
		wa := co.Channels["WhatsApp Sales"]
		withDeadline(t, env, wa, 15, 3)
		routers := []*routing.Router{env.Server.App.Router()}
		if b.Name != "sqlite" {
			routers = append(routers, env.Replica(withClock(clk)).App.Router())
		}
		d := Route(t, env.Admin(), wa, Phone(1), "hi")
		cl := ids.Value(d.Client.Id)
		jobs := deadlineJobs(t, env, cl)
		clk.Set(jobs[0].Due)
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := routers[i%len(routers)].ReplyDeadline(ctx, jobs[0])
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			NoErr(t, err)
		}
		if n := len(deadlineEvents(t, env, cl)); n != 1 {
			t.Fatalf("%d passes, want 1", n)
		}
		if n := len(deadlineJobs(t, env, cl)); n != 2 {
			t.Fatalf("%d deadlines, want 2", n)
		}
		got, _ := pushesAfter(t, env, cl, 0)
		if len(got["CHAT_REVOKED"]) != 1 || len(got["NEW_CLIENT_ASSIGNED"]) != 2 { // the first assignment's and the pass's
			t.Fatalf("pushes %v", got)
		}
	})
}

// TestReplyDeadlineFromWaitingLine: a waiting client handed out gets a
// deadline too; the worker run early snoozes for the rest (by the router's
// clock), and once due passes the client past an away member.
func TestReplyDeadlineFromWaitingLine(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		clk := &clock{t: moscow(t, "2026-11-30 12:00")}
		env := New(t, b, withClock(clk))
		co := env.Demo()
		admin := env.Admin()
		e := co.Employees
		wa := co.Channels["WhatsApp Sales"]
		withDeadline(t, env, wa, 15, 3)
		all := []string{"Bruce Wayne", "Scrooge McDuck", "Tony Stark", "Constantine"}
		presence := func(n string, p pb.Presence) {
			_, err := admin.Directory.SetPresence(ctx, &pb.SetPresenceRequest{EmployeeId: e[n], Presence: p})
			NoErr(t, err)
		}
		for _, n := range all {
			presence(n, pb.Presence_PRESENCE_OFFLINE)
		}
		d := Route(t, admin, wa, Phone(1), "anyone?")
		cl := ids.Value(d.Client.Id)
		if d.Assignment.Source != pb.ResponsibleSource_RESPONSIBLE_SOURCE_NONE_AVAILABLE || len(deadlineJobs(t, env, cl)) != 0 {
			t.Fatalf("waiting client: %v", d.Assignment)
		}
		presence("Scrooge McDuck", pb.Presence_PRESENCE_ONLINE)
		if responsibleOf(t, env, cl) != ids.Value(e["Scrooge McDuck"]) {
			t.Fatalf("the waiting client went to %d", responsibleOf(t, env, cl))
		}
		jobs := deadlineJobs(t, env, cl)
		if len(jobs) != 1 || jobs[0].Responsible != ids.Value(e["Scrooge McDuck"]) {
			t.Fatalf("jobs %+v", jobs)
		}
		w := &routing.DeadlineWorker{Router: env.Server.App.Router()}
		clk.Set(clk.Now().Add(14 * time.Minute))
		err := w.Work(ctx, &river.Job[routing.DeadlineArgs]{Args: jobs[0]})
		var snooze *river.JobSnoozeError
		if !errors.As(err, &snooze) || snooze.Duration != time.Minute {
			t.Fatalf("early run: %v, want a snooze of a minute", err)
		}
		// Tony is online, Bruce and Constantine are not: Tony takes it.
		presence("Tony Stark", pb.Presence_PRESENCE_ONLINE)
		clk.Set(clk.Now().Add(time.Minute))
		NoErr(t, w.Work(ctx, &river.Job[routing.DeadlineArgs]{Args: jobs[0]}))
		if responsibleOf(t, env, cl) != ids.Value(e["Tony Stark"]) {
			t.Fatalf("passed to %d, want Tony", responsibleOf(t, env, cl))
		}
		evs := deadlineEvents(t, env, cl)
		if len(evs) != 1 || !strings.HasPrefix(evs[0].Explanation, "Scrooge McDuck did not answer within 15 min; passed to Tony Stark (pass 1 of 3)") {
			t.Fatalf("history %v", evs)
		}
		// Nobody else available: the managers are told at once.
		presence("Scrooge McDuck", pb.Presence_PRESENCE_OFFLINE)
		jobs = deadlineJobs(t, env, cl)
		clk.Set(jobs[1].Due)
		NoErr(t, w.Work(ctx, &river.Job[routing.DeadlineArgs]{Args: jobs[1]}))
		evs = deadlineEvents(t, env, cl)
		if responsibleOf(t, env, cl) != ids.Value(e["Tony Stark"]) || len(evs) != 2 ||
			!strings.Contains(evs[1].Explanation, "nobody else could take the client") {
			t.Fatalf("history %v", evs)
		}
	})
}

// TestFirstResponderWindow: on a FIRST_RESPONDER channel a new client
// nobody claims within the deadline is escalated to the managers (and
// stays unassigned); one a candidate answered is not.
func TestFirstResponderWindow(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		clk := &clock{t: moscow(t, "2026-11-30 12:00")}
		env := New(t, b, withClock(clk))
		co := env.Demo()
		admin := env.Admin()
		wa := co.Channels["WhatsApp Sales"]
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			cs := ChannelSettings(s, wa)
			cs.Distribution = pb.DistributionMode_DISTRIBUTION_MODE_FIRST_RESPONDER
			cs.Availability = &pb.ChannelAvailability{ReplyDeadlineMinutes: 10, MaxPasses: 2}
		})
		r := env.Server.App.Router()
		d := Route(t, admin, wa, Phone(1), "hi")
		if d.Assignment.Source != pb.ResponsibleSource_RESPONSIBLE_SOURCE_PENDING_FIRST_RESPONDER {
			t.Fatalf("decision %v", d.Assignment)
		}
		cl := ids.Value(d.Client.Id)
		jobs := deadlineJobs(t, env, cl)
		if len(jobs) != 1 || jobs[0].Responsible != 0 || !d.Assignment.ReplyDueTime.AsTime().Equal(jobs[0].Due) {
			t.Fatalf("jobs %+v, decision's due time %v", jobs, d.Assignment.ReplyDueTime)
		}
		_, mark := pushesAfter(t, env, cl, 0)
		clk.Set(jobs[0].Due)
		for i := 0; i < 2; i++ { // the second run finds it done
			_, err := r.ReplyDeadline(ctx, jobs[0])
			NoErr(t, err)
		}
		got, _ := pushesAfter(t, env, cl, mark)
		evs := deadlineEvents(t, env, cl)
		if len(got) != 1 || len(got["MANAGER_ESCALATION"]) == 0 || len(evs) != 1 ||
			!strings.HasPrefix(evs[0].Explanation, "nobody claimed") || responsibleOf(t, env, cl) != 0 {
			t.Fatalf("pushes %v, history %v", got, evs)
		}

		// Claimed by an answer: nothing.
		d2 := Route(t, admin, wa, Phone(2), "hi")
		cl2 := ids.Value(d2.Client.Id)
		j2 := deadlineJobs(t, env, cl2)
		_, err := write(admin, d2.Assignment.CandidateEmployeeIds[0], d2.Chat.Id)
		NoErr(t, err)
		clk.Set(j2[0].Due)
		_, err = r.ReplyDeadline(ctx, j2[0])
		NoErr(t, err)
		if len(deadlineEvents(t, env, cl2)) != 0 || responsibleOf(t, env, cl2) != ids.Value(d2.Assignment.CandidateEmployeeIds[0]) {
			t.Fatalf("a claimed client was escalated")
		}
	})
}
