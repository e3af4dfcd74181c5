package supervise_test

import (
	"context"
	"testing"
	"time"

	"connectrpc.com/connect"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/client"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// counterEvents subscribes with counters and hands over each counters
// event, with when it came.
func counterEvents(t *testing.T, c *client.Clients, employee string) (<-chan *pb.UnansweredCounters, func()) {
	t.Helper()
	sctx, cancel := context.WithCancel(ctx)
	stream, err := c.Notification.Subscribe(sctx, &pb.SubscribeRequest{EmployeeId: employee, UnansweredCounters: true})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	out := make(chan *pb.UnansweredCounters, 1000)
	caughtUp := false
	go func() {
		defer close(out)
		for stream.Receive() {
			m := stream.Msg()
			if m.GetCaughtUp() != nil {
				caughtUp = true
			}
			if u := m.GetUnanswered(); u != nil {
				if !caughtUp {
					t.Errorf("counters before CaughtUp")
				}
				out <- u
			}
		}
	}()
	return out, func() { cancel(); _ = stream.Close() }
}

// waitFor reads counters events until one has chats waiting for the
// employee, and returns how many events it read.
func waitFor(t *testing.T, ev <-chan *pb.UnansweredCounters, chats int32) int {
	t.Helper()
	deadline := time.After(10 * time.Second)
	n := 0
	for {
		select {
		case c, ok := <-ev:
			if !ok {
				t.Fatalf("stream ended waiting for %d chats", chats)
			}
			n++
			if len(c.Employees) != 1 {
				t.Fatalf("an employee's stream carried %v", c)
			}
			if c.Total.Chats == chats {
				return n
			}
		case <-deadline:
			t.Fatalf("no counters with %d chats", chats)
		}
	}
}

func testCountersOnStream(t *testing.T, b Backend, replicas int) {
	env := New(t, b, Options{})
	co := env.Demo()
	admin := env.Admin()
	if replicas > 1 {
		admin = client.New(env.Replica(Options{}).URL, env.AdminKey, client.Connect, nil)
	}
	sales, bruce := co.Channels["WhatsApp Sales"], co.Employees["Bruce Wayne"]
	for _, p := range Protocols {
		t.Run(p.String(), func(t *testing.T) {
			ev, stop := counterEvents(t, env.Clients(co.Token, p), "")
			defer stop()
			waitFor(t, ev, 0) // the current counters first
			// Weighted distribution: new clients until one is Bruce's.
			d := Route(t, admin, sales, Phone(int(p)*1000+1), "hello")
			for i := 2; d.Client.ResponsibleEmployeeId != bruce; i++ {
				Must[*pb.RouteOutgoingMessageResponse](t)(admin.Routing.RouteOutgoingMessage(ctx, &pb.RouteOutgoingMessageRequest{
					EmployeeId: d.Client.ResponsibleEmployeeId, Target: &pb.RouteOutgoingMessageRequest_ChatId{ChatId: d.Chat.Id},
					Content: &pb.MessageContent{Text: "hi"}}))
				d = Route(t, admin, sales, Phone(int(p)*1000+i), "hello")
			}
			waitFor(t, ev, 1)
			Must[*pb.RouteOutgoingMessageResponse](t)(admin.Routing.RouteOutgoingMessage(ctx, &pb.RouteOutgoingMessageRequest{
				EmployeeId: bruce, Target: &pb.RouteOutgoingMessageRequest_ChatId{ChatId: d.Chat.Id}, Content: &pb.MessageContent{Text: "hi"}}))
			waitFor(t, ev, 0)
			// A burst of changes comes coalesced: a few updates a second.
			start := time.Now()
			for i := 0; i < 40; i++ {
				Route(t, admin, sales, d.Client.Phone, "again")
				Must[*pb.RouteOutgoingMessageResponse](t)(admin.Routing.RouteOutgoingMessage(ctx, &pb.RouteOutgoingMessageRequest{
					EmployeeId: bruce, Target: &pb.RouteOutgoingMessageRequest_ChatId{ChatId: d.Chat.Id}, Content: &pb.MessageContent{Text: "hi"}}))
			}
			Route(t, admin, sales, d.Client.Phone, "last")
			n := waitFor(t, ev, 1)
			if limit := int(time.Since(start)/(200*time.Millisecond)) + 2; n > limit {
				t.Fatalf("%d counters events in %v (80 changes)", n, time.Since(start))
			}
			Must[*pb.RouteOutgoingMessageResponse](t)(admin.Routing.RouteOutgoingMessage(ctx, &pb.RouteOutgoingMessageRequest{
				EmployeeId: bruce, Target: &pb.RouteOutgoingMessageRequest_ChatId{ChatId: d.Chat.Id}, Content: &pb.MessageContent{Text: "bye"}}))
			waitFor(t, ev, 0)
		})
	}
	// Only an employee's stream has counters.
	stream, err := env.Admin().Notification.Subscribe(ctx, &pb.SubscribeRequest{GeneralChat: true, UnansweredCounters: true})
	if err == nil {
		stream.Receive()
		err = stream.Err()
		_ = stream.Close()
	}
	if connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("general chat with counters: %v", err)
	}
}

// TestCountersOnStream: an employee's stream carries its counters, first
// and on each change, coalesced.
func TestCountersOnStream(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) { testCountersOnStream(t, b, 1) })
}

// TestCountersOnStreamAcrossReplicas: changes made on another replica
// reach the stream.
func TestCountersOnStreamAcrossReplicas(t *testing.T) {
	testCountersOnStream(t, Postgres(t), 2)
}
