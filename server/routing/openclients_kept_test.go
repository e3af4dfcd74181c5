package routing_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/switchboardhq/switchboard/ent"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/client"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/routing"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// TestOpenClientCountsKept: the open-client counts capacity reads are kept
// by the database on every path that moves them — new clients distributed
// and kept, clients writing again after their deal closed, transfers,
// first-responder claims, deals won and lost, the test client removed, an
// employee deactivated — from many goroutines at once, on both stores and
// on two replicas of one PostgreSQL; afterwards they equal a recount from
// the deals and clients themselves, channel by channel.
func TestOpenClientCountsKept(t *testing.T) {
	for _, b := range Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			env := New(t, b, Options{})
			co := env.Demo()
			n := 1
			if b.Name == "postgres" {
				n = 2
			}
			cs := replicas(t, env, n, env.AdminKey)
			testOpenClientCountsKept(t, env, co, cs)
		})
	}
}

func testOpenClientCountsKept(t *testing.T, env *Env, co *Company, cs []*client.Clients) {
	admin := env.Admin()
	wa, tg := co.Channels["WhatsApp Sales"], co.Channels["Telegram Support"]
	var emps []string
	for _, id := range co.Employees {
		emps = append(emps, id)
	}
	UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
		for _, m := range ChannelSettings(s, wa).Members {
			m.Capacity = 1000 // counted on every distribution, never reached
		}
	})
	var (
		mu    sync.Mutex
		chats []string // chats of routed clients
		deals []string
	)
	record := func(d *pb.RoutingDecision) {
		mu.Lock()
		defer mu.Unlock()
		if d.Chat != nil {
			chats = append(chats, d.Chat.Id)
		}
		if d.Deal != nil {
			deals = append(deals, d.Deal.Id)
		}
	}
	pick := func(r *rand.Rand, from *[]string) string {
		mu.Lock()
		defer mu.Unlock()
		if len(*from) == 0 {
			return ""
		}
		return (*from)[r.IntN(len(*from))]
	}
	const workers, ops = 8, 40
	var done [6]atomic.Int64 // steps that succeeded, by kind
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			c := cs[w%len(cs)]
			for i := 0; i < ops; i++ {
				ch := wa
				if r.IntN(3) == 0 {
					ch = tg
				}
				// Errors a concurrent step explains (a deal closed twice,
				// a transfer to someone without access) are part of the
				// mix; only the counts are checked.
				var err error
				kind := r.IntN(6)
				switch kind {
				case 0, 1: // a client writes: new, again, or after its deal closed
					var res *pb.RouteIncomingMessageResponse
					res, err = c.Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{ChannelId: ch,
						Sender:  &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: Phone(810000 + r.IntN(60))},
						Content: &pb.MessageContent{Text: "hi"}, GatewayMessageId: fmt.Sprintf("kept-%d-%d", w, i)})
					if err == nil {
						record(res.Decision)
					}
				case 2: // a transfer
					if chat := pick(r, &chats); chat != "" {
						_, err = c.Routing.AssignResponsible(ctx, &pb.AssignResponsibleRequest{ChatId: chat, EmployeeId: emps[r.IntN(len(emps))]})
					}
				case 3: // a deal won or lost
					if d := pick(r, &deals); d != "" {
						_, err = c.Routing.CloseDeal(ctx, &pb.CloseDealRequest{DealId: d, Outcome: pb.DealOutcome(1 + r.IntN(2))})
					}
				case 4: // a reply: on first responder, a claim
					if chat := pick(r, &chats); chat != "" {
						_, err = c.Routing.RouteOutgoingMessage(ctx, &pb.RouteOutgoingMessageRequest{EmployeeId: emps[r.IntN(len(emps))],
							Target: &pb.RouteOutgoingMessageRequest_ChatId{ChatId: chat}, Content: &pb.MessageContent{Text: "hello"},
							GatewayMessageId: fmt.Sprintf("kept-out-%d-%d", w, i)})
					}
				case 5: // the test client comes and goes
					if r.IntN(2) == 0 {
						_, err = c.Integration.SendTestMessage(ctx, &pb.SendTestMessageRequest{Text: "test"})
					} else {
						_, err = c.Integration.RemoveTestClient(ctx, &pb.RemoveTestClientRequest{})
					}
				}
				if err == nil {
					done[kind].Add(1)
				}
			}
		}(w)
	}
	wg.Wait()
	for kind := range done {
		if done[kind].Load() == 0 {
			t.Fatalf("no step of kind %d succeeded: the mix tests nothing there", kind)
		}
	}
	check := func(when string) {
		t.Helper()
		actx := tenant.NewContext(ctx, env.AccountID)
		for name, ch := range co.Channels {
			NoErr(t, env.Store.Tx(actx, func(tx *ent.Tx) error {
				kept, err := routing.OpenClients(actx, tx, env.AccountID, ids.Value(ch))
				if err != nil {
					return err
				}
				recount, err := routing.RecountOpenClients(actx, tx, ids.Value(ch))
				if err != nil {
					return err
				}
				if !maps.Equal(kept, recount) {
					t.Errorf("%s, %s: counts kept %v, recounted %v", when, name, kept, recount)
				}
				return nil
			}))
		}
	}
	check("after the mix")
	// An employee deactivated hands its clients on or leaves them; either
	// way the counts follow.
	_, err := admin.Directory.DeactivateEmployee(ctx, &pb.DeactivateEmployeeRequest{EmployeeId: co.Employees["Tony Stark"]})
	NoErr(t, err)
	check("after a deactivation")
}
