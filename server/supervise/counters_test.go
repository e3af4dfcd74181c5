package supervise_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/chat"
	"github.com/switchboardhq/switchboard/ent/message"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/client"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/supervise"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

var ctx = context.Background()

// recount counts the waiting chats from the stored messages alone: a chat
// waits when its last message is the client's, since the first of the
// client's messages after the last answer.
func recount(t testing.TB, c *ent.Client) *supervise.Counters {
	t.Helper()
	chats := Must[[]*ent.Chat](t)(c.Chat.Query().WithContact().Order(ent.Asc(chat.FieldID)).All(ctx))
	msgs := Must[[]*ent.Message](t)(c.Message.Query().Order(ent.Asc(message.FieldChatID), ent.Asc(message.FieldID)).All(ctx))
	since := map[int64]time.Time{}
	for _, m := range msgs {
		switch {
		case m.Direction == message.DirectionOUT:
			delete(since, m.ChatID)
		case since[m.ChatID].IsZero():
			since[m.ChatID] = m.CreatedAt
		}
	}
	out := &supervise.Counters{Employees: map[int64]supervise.Count{}, Channels: map[int64]supervise.Count{}, Unassigned: map[int64]int{}}
	add := func(c supervise.Count, s time.Time) supervise.Count {
		c.Chats++
		if c.Oldest.IsZero() || s.Before(c.Oldest) {
			c.Oldest = s
		}
		return c
	}
	for _, ch := range chats {
		s, ok := since[ch.ID]
		if !ok {
			continue
		}
		out.Channels[ch.ChannelID] = add(out.Channels[ch.ChannelID], s)
		if r := ch.Edges.Contact.ResponsibleID; r != nil {
			out.Employees[*r] = add(out.Employees[*r], s)
		} else {
			out.Unassigned[ch.ChannelID]++
			out.NoResponsible = add(out.NoResponsible, s)
		}
		out.Total = add(out.Total, s)
	}
	return out
}

// same compares counters to a recount; "" when equal.
func same(got, want *supervise.Counters) string {
	g, w := got.PB(time.Unix(0, 0)), want.PB(time.Unix(0, 0))
	if fmt.Sprint(g) != fmt.Sprint(w) {
		return fmt.Sprintf("counters\n%v\nrecount\n%v", g, w)
	}
	return ""
}

// checkNow compares the counters with a recount in one snapshot.
func checkNow(t testing.TB, env *Env) {
	t.Helper()
	c := tenant.NewContext(ctx, env.AccountID)
	NoErr(t, env.Store.ReadTx(c, func(tx *ent.Tx) error {
		got, err := supervise.Read(c, tx.Client(), 0)
		if err != nil {
			return err
		}
		if d := same(got, recountIn(t, c, tx.Client())); d != "" {
			t.Errorf("at one moment: %s", d)
		}
		return nil
	}))
}

func recountIn(t testing.TB, c context.Context, cl *ent.Client) *supervise.Counters {
	old := ctx
	ctx = c
	defer func() { ctx = old }()
	return recount(t, cl)
}

// testCountersUnderLoad routes n messages at once through the replicas:
// clients writing on a weighted and a first-responder channel, employees
// answering (claiming where nobody is responsible) and managers
// transferring clients; meanwhile and afterwards the counters equal a
// recount from the stored messages.
func testCountersUnderLoad(t *testing.T, b Backend, nReplicas, n int) {
	env := New(t, b, Options{})
	co := env.Demo()
	cs := []*client.Clients{client.New(env.Server.URL, env.AdminKey, client.GRPC, nil)}
	for i := 1; i < nReplicas; i++ {
		cs = append(cs, client.New(env.Replica(Options{}).URL, env.AdminKey, client.GRPC, nil))
	}
	channels := []string{co.Channels["WhatsApp Sales"], co.Channels["Telegram Support"]}
	sales := []string{co.Employees["Bruce Wayne"], co.Employees["Scrooge McDuck"], co.Employees["Tony Stark"], co.Employees["Constantine"]}
	var wg sync.WaitGroup
	var failed atomic.Int32
	slots := make(chan struct{}, 32)
	done := make(chan struct{})
	checked := make(chan int)
	go func() {
		k := 0
		for {
			select {
			case <-done:
				checked <- k
				return
			case <-time.After(20 * time.Millisecond):
				checkNow(t, env)
				k++
			}
		}
	}()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			c := cs[i%len(cs)]
			rnd := rand.New(rand.NewPCG(uint64(i), 7))
			ch := channels[rnd.IntN(2)]
			d, err := c.Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{ChannelId: ch,
				Sender:  &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: Phone(rnd.IntN(n / 4))},
				Content: &pb.MessageContent{Text: "hello"}, GatewayMessageId: fmt.Sprintf("in-%d", i)})
			if err != nil {
				failed.Add(1)
				t.Errorf("route %d: %v", i, err)
				return
			}
			writer := d.Decision.Client.ResponsibleEmployeeId
			if writer == "" && len(d.Decision.Assignment.CandidateEmployeeIds) > 0 {
				cands := d.Decision.Assignment.CandidateEmployeeIds
				writer = cands[rnd.IntN(len(cands))]
			}
			switch r := rnd.IntN(10); {
			case r < 5 && writer != "": // answered
				_, err = c.Routing.RouteOutgoingMessage(ctx, &pb.RouteOutgoingMessageRequest{EmployeeId: writer,
					Target: &pb.RouteOutgoingMessageRequest_ChatId{ChatId: d.Decision.Chat.Id}, Content: &pb.MessageContent{Text: "hi"}})
			case r < 7 && ch == channels[0]: // transferred
				_, err = c.Routing.AssignResponsible(ctx, &pb.AssignResponsibleRequest{ChatId: d.Decision.Chat.Id,
					EmployeeId: sales[rnd.IntN(len(sales))]})
			}
			switch connect.CodeOf(err) {
			case connect.CodeAborted, connect.CodePermissionDenied: // lost a claim, or no longer its client
			default:
				if err != nil {
					failed.Add(1)
					t.Errorf("message %d: %v", i, err)
				}
			}
		}(i)
	}
	wg.Wait()
	close(done)
	if k := <-checked; k == 0 {
		t.Error("no check ran during the load")
	}
	if failed.Load() > 0 {
		t.FailNow()
	}
	checkNow(t, env)
	got := Must[*pb.GetUnansweredCountersResponse](t)(cs[len(cs)-1].Supervision.GetUnansweredCounters(ctx,
		&pb.GetUnansweredCountersRequest{})).Counters
	want := recountIn(t, tenant.NewContext(ctx, env.AccountID), env.Store.Ent)
	if w := want.PB(time.Unix(0, 0)); got.Total.Chats != w.Total.Chats || len(got.Employees) != len(w.Employees) || w.Total.Chats == 0 {
		t.Fatalf("GetUnansweredCounters %v, recount %v", got, w)
	}
}

// TestCountersUnderLoad: 1,000 messages routed and answered at once, from
// many goroutines: the counters equal a recount at any moment.
func TestCountersUnderLoad(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) { testCountersUnderLoad(t, b, 1, 1000) })
}

// TestCountersAcrossReplicas: the same through two server instances on
// one PostgreSQL.
func TestCountersAcrossReplicas(t *testing.T) {
	testCountersUnderLoad(t, Postgres(t), 2, 1000)
}

// TestGetUnansweredCounters: who sees which counters, over Connect and
// gRPC; the waits and the per-channel split.
func TestGetUnansweredCounters(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		sales, support := co.Channels["WhatsApp Sales"], co.Channels["Telegram Support"]
		bruce, scrooge := co.Employees["Bruce Wayne"], co.Employees["Scrooge McDuck"]
		d1 := Route(t, admin, sales, Phone(1), "one")   // Bruce (weighted: first)
		d2 := Route(t, admin, sales, Phone(2), "two")   // Scrooge
		d3 := Route(t, admin, support, Phone(3), "tri") // first responder: nobody yet
		if d1.Client.ResponsibleEmployeeId != bruce || d2.Client.ResponsibleEmployeeId != scrooge || d3.Client.ResponsibleEmployeeId != "" {
			t.Fatalf("responsibles %s %s %q", d1.Client.ResponsibleEmployeeId, d2.Client.ResponsibleEmployeeId, d3.Client.ResponsibleEmployeeId)
		}
		Route(t, admin, sales, Phone(1), "one again") // still waiting since "one"
		for _, p := range Protocols {
			c := env.Clients(env.AdminKey, p)
			all := Must[*pb.GetUnansweredCountersResponse](t)(c.Supervision.GetUnansweredCounters(ctx, &pb.GetUnansweredCountersRequest{})).Counters
			if all.Total.Chats != 3 || all.Unassigned.Chats != 1 || len(all.Employees) != 2 || len(all.Channels) != 2 {
				t.Fatalf("%s: everyone's %v", p, all)
			}
			if !all.Total.OldestTime.AsTime().Equal(d1.Message.CreateTime.AsTime()) || all.Total.OldestWaitSeconds < 0 {
				t.Fatalf("%s: oldest %v, first message %v", p, all.Total.OldestTime.AsTime(), d1.Message.CreateTime.AsTime())
			}
			for _, ch := range all.Channels {
				if (ch.ChannelId == sales && (ch.Count.Chats != 2 || ch.UnassignedChats != 0)) ||
					(ch.ChannelId == support && (ch.Count.Chats != 1 || ch.UnassignedChats != 1)) {
					t.Fatalf("%s: channel %v", p, ch)
				}
			}
			one := Must[*pb.GetUnansweredCountersResponse](t)(c.Supervision.GetUnansweredCounters(ctx, &pb.GetUnansweredCountersRequest{EmployeeId: scrooge})).Counters
			if len(one.Employees) != 1 || one.Employees[0].EmployeeId != scrooge || one.Total.Chats != 1 {
				t.Fatalf("%s: Scrooge's %v", p, one)
			}
			// Bruce's token: its own, and never another's.
			tok := env.Clients(co.Token, p)
			own := Must[*pb.GetUnansweredCountersResponse](t)(tok.Supervision.GetUnansweredCounters(ctx, &pb.GetUnansweredCountersRequest{})).Counters
			if len(own.Employees) != 1 || own.Employees[0].EmployeeId != bruce || own.Total.Chats != 1 || own.Unassigned.Chats != 0 {
				t.Fatalf("%s: Bruce's own %v", p, own)
			}
			_, err := tok.Supervision.GetUnansweredCounters(ctx, &pb.GetUnansweredCountersRequest{EmployeeId: scrooge})
			WantCode(t, err, connect.CodePermissionDenied)
			_, err = c.Supervision.GetUnansweredCounters(ctx, &pb.GetUnansweredCountersRequest{EmployeeId: "nope"})
			WantViolations(t, err, "employee_id")
		}
		// Another account sees none of it, and cannot name this one's employees.
		_, key := env.NewAccount("Other")
		other := env.Clients(key, client.Connect)
		got := Must[*pb.GetUnansweredCountersResponse](t)(other.Supervision.GetUnansweredCounters(ctx, &pb.GetUnansweredCountersRequest{})).Counters
		if got.Total.Chats != 0 {
			t.Fatalf("another account counts %v", got)
		}
		_, err := other.Supervision.GetUnansweredCounters(ctx, &pb.GetUnansweredCountersRequest{EmployeeId: bruce})
		WantCode(t, err, connect.CodeNotFound)
		// Bruce answers: his chat stops waiting.
		Must[*pb.RouteOutgoingMessageResponse](t)(admin.Routing.RouteOutgoingMessage(ctx, &pb.RouteOutgoingMessageRequest{EmployeeId: bruce,
			Target: &pb.RouteOutgoingMessageRequest_ChatId{ChatId: d1.Chat.Id}, Content: &pb.MessageContent{Text: "hi"}}))
		own := Must[*pb.GetUnansweredCountersResponse](t)(admin.Supervision.GetUnansweredCounters(ctx, &pb.GetUnansweredCountersRequest{EmployeeId: bruce})).Counters
		if own.Total.Chats != 0 || own.Employees[0].Count.Chats != 0 {
			t.Fatalf("after the answer %v", own)
		}
		_ = ids.Format
	})
}
