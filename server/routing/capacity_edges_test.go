package routing_test

import (
	"fmt"
	"maps"
	"sync"
	"testing"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/chat"
	"github.com/switchboardhq/switchboard/ent/contact"
	"github.com/switchboardhq/switchboard/ent/deal"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/routing"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// TestCapacityOneUnderReplaysAndCloses: every member of a weighted channel
// takes one client; 50 new clients write at once, each message sent three
// times with its gateway id; then, round after round, the open deals are
// won at once while the waiting line drains. Nobody ever holds more than
// one open client, every copy of a message answers with one decision, the
// kept counts equal a recount after every round, and in the end every
// client has had a responsible and nobody waits.
func TestCapacityOneUnderReplaysAndCloses(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		wa := co.Channels["WhatsApp Sales"]
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			for _, m := range ChannelSettings(s, wa).Members {
				m.Capacity = 1
			}
		})
		const n, copies = 50, 3
		decisions := make([][copies]*pb.RoutingDecision, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			for c := 0; c < copies; c++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res, err := admin.Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{ChannelId: wa,
						Sender:  &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: Phone(820000 + i)},
						Content: &pb.MessageContent{Text: "hi"}, GatewayMessageId: fmt.Sprintf("cap1-%d", i)})
					if err != nil {
						t.Errorf("client %d copy %d: %v", i, c, err)
						return
					}
					decisions[i][c] = res.Decision
				}()
			}
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		for i := range decisions {
			for c := 1; c < copies; c++ {
				a, b := decisions[i][0], decisions[i][c]
				if a.Message.Id != b.Message.Id || a.Client.ResponsibleEmployeeId != b.Client.ResponsibleEmployeeId ||
					a.Assignment.Source != b.Assignment.Source {
					t.Fatalf("client %d: copies decided differently: %v / %v", i, a, b)
				}
			}
		}
		actx := tenant.NewContext(ctx, env.AccountID)
		chID := ids.Value(wa)
		type state struct {
			open    []int64 // open deals of clients with a responsible
			waiting int
		}
		check := func(round int) state {
			t.Helper()
			var st state
			NoErr(t, env.Store.Tx(actx, func(tx *ent.Tx) error {
				kept, err := routing.OpenClients(actx, tx, env.AccountID, chID)
				if err != nil {
					return err
				}
				recount, err := routing.RecountOpenClients(actx, tx, chID)
				if err != nil {
					return err
				}
				if !maps.Equal(kept, recount) {
					t.Errorf("round %d: counts kept %v, recounted %v", round, kept, recount)
				}
				for emp, k := range recount {
					if k > 1 {
						t.Errorf("round %d: employee %d holds %d open clients, capacity 1", round, emp, k)
					}
				}
				if st.open, err = tx.Deal.Query().Where(deal.ChannelID(chID), deal.StateEQ(deal.StateOPEN),
					deal.HasContactWith(contact.ResponsibleIDNotNil())).IDs(actx); err != nil {
					return err
				}
				st.waiting, err = tx.Chat.Query().Where(chat.ChannelID(chID), chat.WaitingSinceNotNil()).Count(actx)
				return err
			}))
			if t.Failed() {
				t.FailNow()
			}
			return st
		}
		st := check(0)
		if len(st.open) != 4 || st.waiting != n-4 {
			t.Fatalf("after the burst: %d open with a responsible, %d waiting; want 4 and %d", len(st.open), st.waiting, n-4)
		}
		for round := 1; st.waiting > 0; round++ {
			if round > n {
				t.Fatalf("the waiting line does not drain: %d still waiting", st.waiting)
			}
			var wg sync.WaitGroup
			for _, id := range st.open {
				// Twice each: one wins, the other finds it closed.
				for k := 0; k < 2; k++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, _ = admin.Routing.CloseDeal(ctx, &pb.CloseDealRequest{DealId: ids.Format(id), Outcome: pb.DealOutcome_DEAL_OUTCOME_WON})
					}()
				}
			}
			wg.Wait()
			st = check(round)
		}
		// Every client ended with a responsible.
		NoErr(t, env.Store.Tx(actx, func(tx *ent.Tx) error {
			left, err := tx.Contact.Query().Where(contact.ResponsibleIDIsNil(), contact.HasDealsWith(deal.ChannelID(chID))).Count(actx)
			if err == nil && left != 0 {
				t.Errorf("%d clients never got a responsible", left)
			}
			return err
		}))
	})
}

// TestCapacityOneWhileSettingsSaved: settings saves that leave capacity
// alone (the stream grace moving) race a burst of new clients on a channel
// whose members take one client each: still nobody holds more than one,
// exactly the rest wait, and the counts equal a recount.
func TestCapacityOneWhileSettingsSaved(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		wa := co.Channels["WhatsApp Sales"]
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			for _, m := range ChannelSettings(s, wa).Members {
				m.Capacity = 1
			}
		})
		const n = 40
		var wg sync.WaitGroup
		stop := make(chan struct{})
		saves := 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			for g := int32(1); ; g++ {
				select {
				case <-stop:
					return
				default:
				}
				s := Must[*pb.GetIntegrationSettingsResponse](t)(admin.Integration.GetIntegrationSettings(ctx, &pb.GetIntegrationSettingsRequest{})).Settings
				ChannelSettings(s, wa).Availability = &pb.ChannelAvailability{StreamGraceMinutes: 100 + g%50}
				if _, err := admin.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: s}); err == nil {
					saves++
				}
			}
		}()
		var rg sync.WaitGroup
		for i := 0; i < n; i++ {
			rg.Add(1)
			go func() {
				defer rg.Done()
				_, err := admin.Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{ChannelId: wa,
					Sender:  &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: Phone(850000 + i)},
					Content: &pb.MessageContent{Text: "hi"}, GatewayMessageId: fmt.Sprintf("capsave-%d", i)})
				if err != nil {
					t.Errorf("client %d: %v", i, err)
				}
			}()
		}
		rg.Wait()
		close(stop)
		wg.Wait()
		if saves == 0 {
			t.Fatal("no save went through: nothing raced")
		}
		actx := tenant.NewContext(ctx, env.AccountID)
		chID := ids.Value(wa)
		NoErr(t, env.Store.Tx(actx, func(tx *ent.Tx) error {
			kept, err := routing.OpenClients(actx, tx, env.AccountID, chID)
			if err != nil {
				return err
			}
			recount, err := routing.RecountOpenClients(actx, tx, chID)
			if err != nil {
				return err
			}
			if !maps.Equal(kept, recount) {
				t.Errorf("counts kept %v, recounted %v", kept, recount)
			}
			total := 0
			for emp, k := range recount {
				total += k
				if k > 1 {
					t.Errorf("employee %d holds %d open clients, capacity 1", emp, k)
				}
			}
			waiting, err := tx.Chat.Query().Where(chat.ChannelID(chID), chat.WaitingSinceNotNil()).Count(actx)
			if err == nil && (total != 4 || waiting != n-4) {
				t.Errorf("%d given, %d waiting; want 4 and %d", total, waiting, n-4)
			}
			return err
		}))
	})
}

// TestWaitingClientWithClosedDeal: a waiting client whose deal was lost
// while it waited takes no place when handed out, so the next waiting
// client goes to the member who still has room in the same hand-out,
// rather than waiting for the next one.
func TestWaitingClientWithClosedDeal(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		wa := co.Channels["WhatsApp Sales"]
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			for _, m := range ChannelSettings(s, wa).Members {
				m.Capacity = 1
			}
		})
		var ds []*pb.RoutingDecision
		for i := 0; i < 6; i++ {
			ds = append(ds, Route(t, admin, wa, Phone(860000+i), "hi"))
		}
		for _, d := range ds[4:] {
			if d.Assignment.Source != pb.ResponsibleSource_RESPONSIBLE_SOURCE_NONE_AVAILABLE {
				t.Fatalf("a fifth and sixth client with everyone at capacity: %v", d.Assignment)
			}
		}
		_, err := admin.Routing.CloseDeal(ctx, &pb.CloseDealRequest{DealId: ds[4].Deal.Id, Outcome: pb.DealOutcome_DEAL_OUTCOME_LOST})
		NoErr(t, err)
		// A place is freed: both waiting clients are handed out, the lost
		// one taking no place.
		_, err = admin.Routing.CloseDeal(ctx, &pb.CloseDealRequest{DealId: ds[0].Deal.Id, Outcome: pb.DealOutcome_DEAL_OUTCOME_WON})
		NoErr(t, err)
		actx := tenant.NewContext(ctx, env.AccountID)
		chID := ids.Value(wa)
		NoErr(t, env.Store.Tx(actx, func(tx *ent.Tx) error {
			recount, err := routing.RecountOpenClients(actx, tx, chID)
			if err != nil {
				return err
			}
			waiting, err := tx.Chat.Query().Where(chat.ChannelID(chID), chat.WaitingSinceNotNil()).Count(actx)
			if err != nil {
				return err
			}
			total := 0
			for _, k := range recount {
				total += k
			}
			if waiting != 0 || total != 4 {
				t.Errorf("%d waiting, %d open clients given (%v); want 0 and 4", waiting, total, recount)
			}
			return nil
		}))
	})
}
