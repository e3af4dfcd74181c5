package routing_test

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/assignmentevent"
	"github.com/switchboardhq/switchboard/ent/chat"
	"github.com/switchboardhq/switchboard/ent/distributioncursor"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/app"
	"github.com/switchboardhq/switchboard/server/client"
	"github.com/switchboardhq/switchboard/server/distribution"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/routing"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// shiftPlan is the burst's Monday: each member's shifts, in minutes after
// 08:00 Moscow time, [start, end). Nobody works before 08:00, between
// 09:05 and 09:15, or after 10:00; the rest of the time one to three
// members do, in changing company.
var shiftPlan = map[string][][2]int{
	"Tony Stark":     {{0, 30}, {45, 65}},
	"Bruce Wayne":    {{10, 40}, {75, 95}},
	"Scrooge McDuck": {{20, 50}, {80, 110}},
	"Constantine":    {{30, 55}, {100, 120}},
}

// shiftCaps are the members' capacities on the channel (0: no limit).
var shiftCaps = map[string]int{"Tony Stark": 50, "Constantine": 30}

// onShift reports whether name works at minute m after 08:00.
func onShift(name string, m int) bool {
	for _, p := range shiftPlan[name] {
		if m >= p[0] && m < p[1] {
			return true
		}
	}
	return false
}

// offShift is who is off shift at minute m, as a set of employee ids.
func offShift(co *Company, m int) map[string]bool {
	out := map[string]bool{}
	for _, n := range loadNames {
		if !onShift(n, m) {
			out[co.Employees[n]] = true
		}
	}
	return out
}

// routed is one message of the burst: its decision and the router-clock
// minutes it was sent and answered at, between which it was decided.
type routed struct {
	from, to int
	d        *pb.RoutingDecision
}

// skippedBy is the employees a decision skipped for reason.
func skippedBy(d *pb.RoutingDecision, reason pb.SkipReason) map[string]bool {
	out := map[string]bool{}
	for _, s := range d.Assignment.Skipped {
		if s.Reason == reason {
			out[s.EmployeeId] = true
		}
	}
	return out
}

// testShiftsLoad routes n new clients at once through nReplicas servers to
// the demo's weighted channel while the routers' shared clock crosses
// twelve shift boundaries (and two stretches with nobody on shift), then
// hands the waiting line out. What it asserts is the sequential run: the
// decisions, taken one after another in the order they moved the channel's
// cursor (the history's order), each at its own instant, give exactly the
// picks, the skips and the waiting clients the burst gave. In detail:
//
//   - every client is either given to one member (one DISTRIBUTION history
//     entry, its responsible the decision's) or waiting (no responsible, no
//     entry, its waiting_since an instant of its decision);
//   - each decision's members skipped as off shift are exactly who the plan
//     has off shift at one instant the router's clock showed while it was
//     decided, and nobody is given a client while off shift;
//   - replaying the history in order with the pure rules (distribution.Next
//     over the members the decision found on shift and under capacity, the
//     open counts the earlier entries make) gives each entry's member and
//     position, each decision's at-capacity skips, the channel's stored
//     cursor and the per-member counts; no capacity is exceeded;
//   - once members are on shift, the waiting job, run on every replica at
//     once, hands each waiting client out exactly once, oldest first (by
//     the time it first wrote), as the same replay continues.
func testShiftsLoad(t *testing.T, b Backend, nReplicas, n int) {
	start := moscow(t, "2026-11-30 07:50")
	const minutes = 140 // 07:50 to 10:10
	base := moscow(t, "2026-11-30 08:00")
	clk := &clock{t: start}
	minute := func(tm time.Time) int { return int(tm.Sub(base) / time.Minute) }
	// The waiting line's periodic job is left to the end (no replica
	// works the outbox's queue): handed out during the burst, a client
	// that waits since earlier but committed later could be handed out
	// after a younger one, and "oldest first" would not be exact.
	opts := Options{Configure: func(o *app.Options) { o.Clock = clk.Now; o.Outbox.Queues = []string{"idle"} }}
	env := New(t, b, opts)
	co := env.Demo()
	admin := env.Admin()
	wa := co.Channels["WhatsApp Sales"]
	UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
		s.Account.TimeZone = "Europe/Moscow"
		for _, name := range loadNames {
			wh := &pb.WorkingHours{EmployeeId: co.Employees[name]}
			for _, p := range shiftPlan[name] {
				at := func(m int) string { return base.Add(time.Duration(m) * time.Minute).Format("15:04") }
				wh.Weekly = append(wh.Weekly, &pb.WorkingPeriod{Day: pb.Weekday_WEEKDAY_MONDAY, Start: at(p[0]), End: at(p[1])})
			}
			s.Account.WorkingHours = append(s.Account.WorkingHours, wh)
		}
		for _, m := range ChannelSettings(s, wa).Members {
			for name, c := range shiftCaps {
				if m.EmployeeId == co.Employees[name] {
					m.Capacity = int32(c)
				}
			}
		}
	})
	routers := []*routing.Router{env.Server.App.Router()}
	cs := []*client.Clients{client.New(env.Server.URL, env.AdminKey, client.GRPC, nil)}
	for i := 1; i < nReplicas; i++ {
		r := env.Replica(opts)
		routers = append(routers, r.App.Router())
		cs = append(cs, client.New(r.URL, env.AdminKey, client.GRPC, nil))
	}

	// The burst: the clock moves a minute every n/140 answers, so it
	// crosses every boundary of the plan while messages are in flight.
	var mu sync.Mutex
	done := 0
	got := map[int64]routed{} // by client
	var wg sync.WaitGroup
	slots := make(chan struct{}, 32)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			from := minute(clk.Now())
			res, err := cs[i%len(cs)].Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{
				ChannelId: wa, Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: Phone(60000 + i)},
				Content: &pb.MessageContent{Text: "on shift?"}, GatewayMessageId: fmt.Sprintf("shift-%d", i)})
			if err != nil {
				t.Errorf("route %d: %v", i, err)
				return
			}
			to := minute(clk.Now())
			mu.Lock()
			defer mu.Unlock()
			got[ids.Value(res.Decision.Client.Id)] = routed{from: from, to: to, d: res.Decision}
			done++
			clk.Set(start.Add(time.Duration(done*minutes/n) * time.Minute))
		}(i)
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if len(got) != n {
		t.Fatalf("%d clients for %d new phones", len(got), n)
	}

	// Each decision on its own: off-shift skips are the plan's at one of
	// its instants; nobody off shift or skipped takes a client.
	all := map[string]bool{}
	for _, name := range loadNames {
		all[co.Employees[name]] = true
	}
	waitingNow := map[int64]bool{}
	for cl, r := range got {
		d := r.d
		off := skippedBy(d, pb.SkipReason_SKIP_REASON_OUTSIDE_HOURS)
		atCap := skippedBy(d, pb.SkipReason_SKIP_REASON_AT_CAPACITY)
		if len(off)+len(atCap) != len(d.Assignment.Skipped) {
			t.Fatalf("client %d: skipped %v", cl, d.Assignment.Skipped)
		}
		seen := false
		for m := r.from; m <= r.to && !seen; m++ {
			seen = maps.Equal(off, offShift(co, m))
		}
		if !seen {
			t.Fatalf("client %d decided between minutes %d and %d skipped %v as off shift: nobody is off shift that way then",
				cl, r.from, r.to, d.Assignment.Skipped)
		}
		switch d.Assignment.Source {
		case pb.ResponsibleSource_RESPONSIBLE_SOURCE_DISTRIBUTED:
			if who := d.Client.ResponsibleEmployeeId; off[who] || atCap[who] || !all[who] {
				t.Fatalf("client %d given to %s, skipped as %v", cl, who, d.Assignment.Skipped)
			}
		case pb.ResponsibleSource_RESPONSIBLE_SOURCE_NONE_AVAILABLE:
			if len(off)+len(atCap) != len(all) {
				t.Fatalf("client %d waits though not everyone was skipped: %v", cl, d.Assignment.Skipped)
			}
			waitingNow[cl] = true
		default:
			t.Fatalf("client %d: %v", cl, d.Assignment)
		}
	}
	if len(waitingNow) == 0 || len(waitingNow) == n {
		t.Fatalf("%d of %d clients wait: the plan should make some, not all", len(waitingNow), n)
	}

	// The sequential replay of the history.
	actx := tenant.NewContext(ctx, env.AccountID)
	members := make([]distribution.Member, len(loadNames))
	for i, name := range loadNames {
		w := 1
		if name == "Tony Stark" {
			w = 2
		}
		members[i] = distribution.Member{EmployeeID: ids.Value(co.Employees[name]), Name: name, Weight: w, Eligible: true}
	}
	capOf := map[string]int{}
	for name, c := range shiftCaps {
		capOf[co.Employees[name]] = c
	}
	var cur distribution.Cursor
	open := map[string]int{}
	var lastEntry int64
	replay := func(what string, entries []*ent.AssignmentEvent, off func(e *ent.AssignmentEvent) map[string]bool,
		skippedAtCap func(e *ent.AssignmentEvent) (map[string]bool, bool)) {
		t.Helper()
		for k, e := range entries {
			out := off(e)
			full := map[string]bool{}
			for i := range members {
				id := ids.Format(members[i].EmployeeID)
				full[id] = !out[id] && capOf[id] > 0 && open[id] >= capOf[id]
				members[i].Absent = out[id] || full[id]
				if !full[id] {
					delete(full, id)
				}
			}
			if want, ok := skippedAtCap(e); ok && !maps.Equal(want, full) {
				t.Fatalf("%s entry %d (client %d): skipped at capacity %v, the replay has %v (open %v)", what, k, *e.ContactID, want, full, open)
			}
			p, ok := distribution.Next(distribution.Weighted, members, cur)
			if !ok || e.ToEmployeeID == nil || p.EmployeeID != *e.ToEmployeeID || p.Position != e.Position {
				t.Fatalf("%s entry %d (client %d): given to %v at position %d; the sequential replay gives %s at %d (ok %v)",
					what, k, *e.ContactID, e.ToEmployeeID, e.Position, p.Name, p.Position, ok)
			}
			cur = p.Cursor
			to := ids.Format(p.EmployeeID)
			open[to]++
			if c := capOf[to]; c > 0 && open[to] > c {
				t.Fatalf("%s entry %d: %s has %d clients, above its capacity %d", what, k, p.Name, open[to], c)
			}
			lastEntry = max(lastEntry, e.ID)
		}
	}
	history := func() []*ent.AssignmentEvent {
		evs, err := env.Store.Ent.AssignmentEvent.Query().Where(assignmentevent.ChannelID(ids.Value(wa)),
			assignmentevent.CauseEQ(assignmentevent.CauseDISTRIBUTION), assignmentevent.IDGT(lastEntry)).
			Order(ent.Asc(assignmentevent.FieldID)).All(actx)
		NoErr(t, err)
		return evs
	}
	burst := history()
	given := map[int64]bool{}
	for _, e := range burst {
		r, ok := got[*e.ContactID]
		if !ok || given[*e.ContactID] || r.d.Assignment.Source != pb.ResponsibleSource_RESPONSIBLE_SOURCE_DISTRIBUTED ||
			ids.Value(r.d.Client.ResponsibleEmployeeId) != *e.ToEmployeeID {
			t.Fatalf("history entry %d for client %d (to %d, %q) does not match its decision %v (routed: %v, given before: %v)",
				e.ID, *e.ContactID, *e.ToEmployeeID, e.Explanation, r.d.GetAssignment(), ok, given[*e.ContactID])
		}
		given[*e.ContactID] = true
	}
	if len(given)+len(waitingNow) != n {
		t.Fatalf("%d clients given, %d waiting, of %d", len(given), len(waitingNow), n)
	}
	replay("burst", burst, func(e *ent.AssignmentEvent) map[string]bool {
		return skippedBy(got[*e.ContactID].d, pb.SkipReason_SKIP_REASON_OUTSIDE_HOURS)
	}, func(e *ent.AssignmentEvent) (map[string]bool, bool) {
		return skippedBy(got[*e.ContactID].d, pb.SkipReason_SKIP_REASON_AT_CAPACITY), true
	})
	// A client that waited for capacities found them full for good: the
	// burst closes no deal.
	for cl := range waitingNow {
		for id := range skippedBy(got[cl].d, pb.SkipReason_SKIP_REASON_AT_CAPACITY) {
			if open[id] != capOf[id] {
				t.Fatalf("client %d waited on %s at capacity, who ended with %d of %d", cl, id, open[id], capOf[id])
			}
		}
	}
	cursorIs := func(when string) {
		t.Helper()
		c, err := env.Store.Ent.DistributionCursor.Query().Where(distributioncursor.ChannelID(ids.Value(wa))).Only(actx)
		NoErr(t, err)
		last := int64(0)
		if c.LastEmployeeID != nil {
			last = *c.LastEmployeeID
		}
		if last != cur.Last || c.Streak != cur.Streak {
			t.Fatalf("%s: the channel's cursor is %d×%d, the replay's %d×%d", when, last, c.Streak, cur.Last, cur.Streak)
		}
	}
	cursorIs("after the burst")

	// The clients' rows say the same, and the waiting ones wait since an
	// instant of their decision.
	chats, err := env.Store.Ent.Chat.Query().Where(chat.ChannelID(ids.Value(wa))).All(actx)
	NoErr(t, err)
	var line []*ent.Chat
	for _, c := range chats {
		r := got[c.ContactID]
		resp := responsibleOf(t, env, c.ContactID)
		switch {
		case waitingNow[c.ContactID]:
			if c.WaitingSince == nil || resp != 0 || minute(*c.WaitingSince) < r.from || minute(*c.WaitingSince) > r.to {
				t.Fatalf("waiting client %d: responsible %d, waiting since %v (decided in minutes %d–%d)", c.ContactID, resp, c.WaitingSince, r.from, r.to)
			}
			line = append(line, c)
		case given[c.ContactID]:
			if c.WaitingSince != nil || resp != ids.Value(r.d.Client.ResponsibleEmployeeId) {
				t.Fatalf("client %d: responsible %d, waiting since %v", c.ContactID, resp, c.WaitingSince)
			}
		default:
			t.Fatalf("chat %d of a client not routed", c.ID)
		}
	}
	slices.SortFunc(line, func(a, b *ent.Chat) int {
		if c := a.WaitingSince.Compare(*b.WaitingSince); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})

	// 09:25: Bruce and Scrooge are on shift. The waiting job, on every
	// replica at once, hands the line out once, oldest first.
	clk.Set(moscow(t, "2026-11-30 09:25"))
	total := 0
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(r *routing.Router) {
			defer wg.Done()
			k, err := r.AssignWaitingEverywhere(ctx)
			if err != nil {
				t.Errorf("waiting job: %v", err)
			}
			mu.Lock()
			total += k
			mu.Unlock()
		}(routers[i%len(routers)])
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if total != len(line) {
		t.Fatalf("the waiting job handed out %d clients, %d waited", total, len(line))
	}
	after := history()
	if len(after) != len(line) {
		t.Fatalf("%d history entries for %d waiting clients", len(after), len(line))
	}
	for k, e := range after {
		if *e.ContactID != line[k].ContactID {
			t.Fatalf("waiting client %d of the line (since %v) was handed out as number %d", line[k].ContactID, line[k].WaitingSince, k)
		}
	}
	replay("waiting line", after, func(*ent.AssignmentEvent) map[string]bool { return offShift(co, 85) },
		func(*ent.AssignmentEvent) (map[string]bool, bool) { return nil, false })
	cursorIs("after the waiting line")
	counts := map[string]int{}
	for cl := range got {
		counts[ids.Format(responsibleOf(t, env, cl))]++
	}
	if !maps.Equal(counts, open) {
		t.Fatalf("clients per member %v; the sequential replay gives %v", counts, open)
	}
	if left, err := env.Store.Ent.Chat.Query().Where(chat.WaitingSinceNotNil()).Count(actx); err != nil || left != 0 {
		t.Fatalf("%d clients still wait (%v)", left, err)
	}
	t.Logf("%d clients: %d given in the burst, %d waited; per member %v", n, len(given), len(line), counts)
}

// TestShiftsDuringBurst: 500 new clients at once while the members' shifts
// start and end under them give the counts of a sequential run (see
// testShiftsLoad): on SQLite through one server, on PostgreSQL through two
// replicas with one clock.
func TestShiftsDuringBurst(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		nReplicas := 1
		if b.Name == "postgres" {
			nReplicas = 2
		}
		testShiftsLoad(t, b, nReplicas, 500)
	})
}
