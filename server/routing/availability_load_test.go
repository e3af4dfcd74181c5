package routing_test

import (
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/availability"
	"github.com/switchboardhq/switchboard/server/distribution"
	"github.com/switchboardhq/switchboard/server/ids"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

var timeZero time.Time // capacity does not depend on the time

var loadNames = []string{"Bruce Wayne", "Scrooge McDuck", "Tony Stark", "Constantine"}

// sequentialWithCapacity is what n new clients get routed one after
// another on the demo's weighted channel when members have capacities,
// then what `more` waiting clients get once the capacities are raised: the
// pure rules run over the same member list.
func sequentialWithCapacity(co *Company, n int, caps []int, more int, raised []int) (map[string]int, int) {
	ms := make([]distribution.Member, len(loadNames))
	for i, name := range loadNames {
		w := 1
		if name == "Tony Stark" {
			w = 2
		}
		ms[i] = distribution.Member{EmployeeID: ids.Value(co.Employees[name]), Name: name, Weight: w, Eligible: true}
	}
	open := map[int64]int{}
	out := map[string]int{}
	var cur distribution.Cursor
	waiting := 0
	step := func(caps []int) bool {
		for i := range ms {
			a := availability.Check(availability.Member{Capacity: caps[i], Open: open[ms[i].EmployeeID]}, timeZero, nil)
			ms[i].Absent = !a.Available()
		}
		p, ok := distribution.Next(distribution.Weighted, ms, cur)
		if !ok {
			return false
		}
		cur = p.Cursor
		open[p.EmployeeID]++
		out[ids.Format(p.EmployeeID)]++
		return true
	}
	for i := 0; i < n; i++ {
		if !step(caps) {
			waiting++
		}
	}
	for i := 0; i < more && waiting > 0; i++ {
		if step(raised) {
			waiting--
		}
	}
	return out, waiting
}

// testCapacityLoad routes n new clients at once through nReplicas servers
// to a weighted channel whose members have capacities: each member gets
// exactly its capacity, the rest wait, and raising the capacities hands
// the waiting clients out exactly as a sequential run would. With toggle,
// Scrooge goes on and off line meanwhile: then nobody exceeds its capacity
// and every client ends up with exactly one responsible.
func testCapacityLoad(t *testing.T, b Backend, nReplicas, n int, toggle bool) {
	env := New(t, b, Options{})
	co := env.Demo()
	admin := env.Admin()
	wa := co.Channels["WhatsApp Sales"]
	caps := []int{n / 8, n / 8, n / 5, n / 10}
	raised := []int{n, n, n, n}
	setCaps := func(caps []int) {
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			for _, m := range ChannelSettings(s, wa).Members {
				for i, name := range loadNames {
					if m.EmployeeId == co.Employees[name] {
						m.Capacity = int32(caps[i])
					}
				}
			}
		})
	}
	setCaps(caps)
	cs := replicas(t, env, nReplicas, env.AdminKey)
	got := map[string]int{}
	waiting := 0
	var mu sync.Mutex
	var wg sync.WaitGroup
	stop := make(chan struct{})
	toggled := make(chan struct{})
	go func() {
		defer close(toggled)
		for i := 0; toggle; i++ {
			select {
			case <-stop:
				return
			default:
			}
			p := pb.Presence_PRESENCE_OFFLINE
			if i%2 == 1 {
				p = pb.Presence_PRESENCE_ONLINE
			}
			if _, err := cs[i%len(cs)].Directory.SetPresence(ctx, &pb.SetPresenceRequest{EmployeeId: co.Employees["Scrooge McDuck"], Presence: p}); err != nil {
				t.Errorf("presence: %v", err)
				return
			}
		}
	}()
	slots := make(chan struct{}, 64)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			res, err := cs[i%len(cs)].Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{
				ChannelId: wa, Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: Phone(40000 + i)},
				Content: &pb.MessageContent{Text: "at once"}, GatewayMessageId: fmt.Sprintf("cap-%d", i)})
			if err != nil {
				t.Errorf("route %d: %v", i, err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			switch res.Decision.Assignment.Source {
			case pb.ResponsibleSource_RESPONSIBLE_SOURCE_DISTRIBUTED:
				got[res.Decision.Client.ResponsibleEmployeeId]++
			case pb.ResponsibleSource_RESPONSIBLE_SOURCE_NONE_AVAILABLE:
				waiting++
			default:
				t.Errorf("route %d: %v", i, res.Decision.Assignment)
			}
		}(i)
	}
	wg.Wait()
	close(stop)
	<-toggled
	if t.Failed() {
		return
	}
	for i, name := range loadNames {
		if c := got[co.Employees[name]]; c > caps[i] {
			t.Fatalf("%s got %d, above its capacity %d", name, c, caps[i])
		}
	}
	if !toggle {
		want, wantWaiting := sequentialWithCapacity(co, n, caps, 0, nil)
		if !maps.Equal(got, want) || waiting != wantWaiting {
			t.Fatalf("%d concurrent new clients on %d replicas: %v and %d waiting; a sequential run gives %v and %d", n, len(cs), got, waiting, want, wantWaiting)
		}
	}
	// Everyone online, capacities raised: the line is handed out.
	_, err := admin.Directory.SetPresence(ctx, &pb.SetPresenceRequest{EmployeeId: co.Employees["Scrooge McDuck"], Presence: pb.Presence_PRESENCE_ONLINE})
	NoErr(t, err)
	setCaps(raised)
	total := map[string]int{}
	for i := 0; i < n; i++ {
		d := Route(t, admin, wa, Phone(40000+i), "still here")
		if d.Client.ResponsibleEmployeeId == "" || d.Assignment.Source != pb.ResponsibleSource_RESPONSIBLE_SOURCE_KEPT {
			t.Fatalf("client %d after the line: %v", i, d.Assignment)
		}
		total[d.Client.ResponsibleEmployeeId]++
	}
	if !toggle {
		want, left := sequentialWithCapacity(co, n, caps, n, raised)
		if !maps.Equal(total, want) || left != 0 {
			t.Fatalf("after the line: %v; a sequential run gives %v (%d left)", total, want, left)
		}
	}
}

// TestConcurrentCapacity: 200 new clients at once on one channel whose
// members have capacities get exactly the counts of a sequential run, and
// so does the waiting line they form.
func TestConcurrentCapacity(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) { testCapacityLoad(t, b, 1, 200, false) })
}

// TestConcurrentCapacityAcrossReplicas: 500 new clients on two server
// instances on one PostgreSQL.
func TestConcurrentCapacityAcrossReplicas(t *testing.T) {
	testCapacityLoad(t, Postgres(t), 2, 500, false)
}

// TestCapacityWhilePresenceChanges: a member going on and off line during
// the burst never makes anyone exceed its capacity, and every client ends
// with exactly one responsible.
func TestCapacityWhilePresenceChanges(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		nReplicas := 1
		if b.Name == "postgres" {
			nReplicas = 2
		}
		testCapacityLoad(t, b, nReplicas, 200, true)
	})
}
