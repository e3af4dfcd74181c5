package routing_test

import (
	"fmt"
	"sync"
	"testing"

	"connectrpc.com/connect"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/client"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// Races a new user finds with many candidates replying at once: each test
// runs on every store with one replica and on PostgreSQL with two.

// firstResponderChannel creates a FIRST_RESPONDER channel with n
// read-write candidates and returns it with their employee ids.
func firstResponderChannel(t *testing.T, admin *client.Clients, n int) (string, []string) {
	t.Helper()
	ch, err := admin.Directory.CreateChannel(ctx, &pb.CreateChannelRequest{Kind: pb.ChannelKind_CHANNEL_KIND_WHATSAPP, Name: "Race"})
	NoErr(t, err)
	var emps []string
	var members []*pb.ChannelMember
	for i := 0; i < n; i++ {
		e, err := admin.Directory.CreateEmployee(ctx, &pb.CreateEmployeeRequest{Name: fmt.Sprintf("Rep %d", i)})
		NoErr(t, err)
		emps = append(emps, e.Employee.Id)
		members = append(members, Member(e.Employee.Id, Rep, true, true, 1))
	}
	UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
		cs := ChannelSettings(s, ch.Channel.Id)
		cs.Distribution = pb.DistributionMode_DISTRIBUTION_MODE_FIRST_RESPONDER
		cs.Members = members
	})
	return ch.Channel.Id, emps
}

// onEvery runs fn(i) for i in 0..n-1 at once.
func onEvery(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			fn(i)
		}(i)
	}
	close(start)
	wg.Wait()
}

func countReason(ns []*pb.NotificationDecision, r pb.NotificationReason) int {
	n := 0
	for _, d := range ns {
		if d.Reason == r {
			n++
		}
	}
	return n
}

// log returns every decision of an employee's log about a chat, in order.
func logOf(t *testing.T, c *client.Clients, employee, chat string) []*pb.NotificationDecision {
	t.Helper()
	var out []*pb.NotificationDecision
	cursor := ""
	for {
		res, err := c.Notification.ListNotifications(ctx, &pb.ListNotificationsRequest{EmployeeId: employee, AfterCursor: cursor, PageSize: 500})
		NoErr(t, err)
		for _, d := range res.Decisions {
			if d.ChatId == chat {
				out = append(out, d)
			}
		}
		if len(res.Decisions) == 0 {
			return out
		}
		cursor = res.NextCursor
	}
}

// testOneSenderManyMessages: one candidate sends several different
// messages at once to a client nobody has claimed. It may write each of
// them: one claims, the others are written as the responsible's.
func testOneSenderManyMessages(t *testing.T, b Backend, nReplicas, rounds int) {
	env := New(t, b, Options{})
	admin := env.Admin()
	ch, emps := firstResponderChannel(t, admin, 16)
	cs := replicas(t, env, nReplicas, env.AdminKey)
	const copies = 5
	for round := 0; round < rounds; round++ {
		d := Route(t, admin, ch, Phone(round), "who answers?")
		me := emps[round%len(emps)]
		res := make([]*pb.RouteOutgoingMessageResponse, copies)
		errs := make([]error, copies)
		onEvery(copies, func(i int) {
			res[i], errs[i] = cs[i%len(cs)].Routing.RouteOutgoingMessage(ctx, &pb.RouteOutgoingMessageRequest{
				EmployeeId: me, Target: &pb.RouteOutgoingMessageRequest_ChatId{ChatId: d.Chat.Id},
				Content: &pb.MessageContent{Text: fmt.Sprintf("reply %d", i)}, GatewayMessageId: fmt.Sprintf("r%d-%d", round, i)})
		})
		claims, assigned := 0, 0
		for i := range copies {
			if errs[i] != nil {
				t.Fatalf("round %d: message %d of the candidate who claims: %v (%v)", round, i, errs[i], errorInfo(errs[i]).GetMetadata())
			}
			if res[i].Claimed {
				claims++
			}
			if res[i].Client.ResponsibleEmployeeId != me {
				t.Fatalf("round %d: message %d says the responsible is %q", round, i, res[i].Client.ResponsibleEmployeeId)
			}
			assigned += countReason(res[i].Notifications, pb.NotificationReason_NOTIFICATION_REASON_NEW_CLIENT_ASSIGNED)
		}
		if claims != 1 || assigned != 1 {
			t.Fatalf("round %d: %d claims and %d NEW_CLIENT_ASSIGNED among %d messages; want 1 and 1", round, claims, assigned, copies)
		}
		if n := countReason(logOf(t, admin, me, d.Chat.Id), pb.NotificationReason_NOTIFICATION_REASON_NEW_CLIENT_ASSIGNED); n != 1 {
			t.Fatalf("round %d: %d NEW_CLIENT_ASSIGNED in the log", round, n)
		}
	}
}

func TestOneSenderManyMessages(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) { testOneSenderManyMessages(t, b, 1, 30) })
}

func TestOneSenderManyMessagesAcrossReplicas(t *testing.T) {
	testOneSenderManyMessages(t, Postgres(t), 2, 100)
}

// testConcurrentReplays: the same request sent many times at once gets
// one answer: the first, marked as a replay on every other copy, for
// every write RPC.
func testConcurrentReplays(t *testing.T, b Backend, nReplicas, rounds int) {
	env := New(t, b, Options{})
	env.Demo() // pipelines, so that a new client gets a deal
	admin := env.Admin()
	ch, emps := firstResponderChannel(t, admin, 16)
	cs := replicas(t, env, nReplicas, env.AdminKey)
	const copies = 10
	for round := 0; round < rounds; round++ {
		// An incoming message of a new client.
		in := &pb.RouteIncomingMessageRequest{ChannelId: ch, Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: Phone(500 + round)},
			Content: &pb.MessageContent{Text: "hello?"}, GatewayMessageId: fmt.Sprintf("in-%d", round)}
		ins := make([]*pb.RouteIncomingMessageResponse, copies)
		errs := make([]error, copies)
		onEvery(copies, func(i int) { ins[i], errs[i] = cs[i%len(cs)].Routing.RouteIncomingMessage(ctx, in) })
		fresh := 0
		for i := range copies {
			if errs[i] != nil {
				t.Fatalf("round %d: incoming copy %d: %v", round, i, errs[i])
			}
			if !ins[i].Replayed {
				fresh++
			}
			if ins[i].Decision.Message.Id != ins[0].Decision.Message.Id || ins[i].Decision.Client.Id != ins[0].Decision.Client.Id {
				t.Fatalf("round %d: incoming copies answered differently: %v / %v", round, ins[i].Decision.Message, ins[0].Decision.Message)
			}
		}
		if fresh != 1 {
			t.Fatalf("round %d: %d incoming copies were not replays; want 1", round, fresh)
		}
		chat := ins[0].Decision.Chat.Id

		// A claiming outgoing message.
		me := emps[round%len(emps)]
		out := &pb.RouteOutgoingMessageRequest{EmployeeId: me, Target: &pb.RouteOutgoingMessageRequest_ChatId{ChatId: chat},
			Content: &pb.MessageContent{Text: "mine"}, GatewayMessageId: fmt.Sprintf("out-%d", round)}
		outs := make([]*pb.RouteOutgoingMessageResponse, copies)
		onEvery(copies, func(i int) { outs[i], errs[i] = cs[i%len(cs)].Routing.RouteOutgoingMessage(ctx, out) })
		fresh = 0
		for i := range copies {
			if errs[i] != nil {
				t.Fatalf("round %d: outgoing copy %d: %v", round, i, errs[i])
			}
			if !outs[i].Replayed {
				fresh++
			}
			if outs[i].Message.Id != outs[0].Message.Id || !outs[i].Claimed {
				t.Fatalf("round %d: outgoing copies answered differently: %v / %v", round, outs[i], outs[0])
			}
		}
		if fresh != 1 {
			t.Fatalf("round %d: %d outgoing copies were not replays; want 1", round, fresh)
		}

		// A transfer to the next candidate: one change, one push to it.
		to := emps[(round+1)%len(emps)]
		trs := make([]*pb.AssignResponsibleResponse, copies)
		onEvery(copies, func(i int) {
			trs[i], errs[i] = cs[i%len(cs)].Routing.AssignResponsible(ctx, &pb.AssignResponsibleRequest{ChatId: chat, EmployeeId: to})
		})
		assigned := 0
		for i := range copies {
			if errs[i] != nil {
				t.Fatalf("round %d: transfer copy %d: %v", round, i, errs[i])
			}
			if trs[i].Client.ResponsibleEmployeeId != to {
				t.Fatalf("round %d: transfer copy %d left %q responsible", round, i, trs[i].Client.ResponsibleEmployeeId)
			}
			assigned += countReason(trs[i].Notifications, pb.NotificationReason_NOTIFICATION_REASON_NEW_CLIENT_ASSIGNED)
		}
		if assigned != 1 {
			t.Fatalf("round %d: %d NEW_CLIENT_ASSIGNED for one transfer", round, assigned)
		}

		// Closing the deal as won.
		closes := make([]*pb.CloseDealResponse, copies)
		onEvery(copies, func(i int) {
			closes[i], errs[i] = cs[i%len(cs)].Routing.CloseDeal(ctx, &pb.CloseDealRequest{DealId: ins[0].Decision.Deal.Id, Outcome: pb.DealOutcome_DEAL_OUTCOME_WON})
		})
		for i := range copies {
			if errs[i] != nil {
				t.Fatalf("round %d: close copy %d: %v", round, i, errs[i])
			}
			if closes[i].Deal.State != pb.DealState_DEAL_STATE_WON || closes[i].Deal.CloseTime.AsTime() != closes[0].Deal.CloseTime.AsTime() {
				t.Fatalf("round %d: close copies answered differently: %v / %v", round, closes[i].Deal, closes[0].Deal)
			}
		}
		// Closing it as lost now is a different request: refused.
		_, err := admin.Routing.CloseDeal(ctx, &pb.CloseDealRequest{DealId: ins[0].Decision.Deal.Id, Outcome: pb.DealOutcome_DEAL_OUTCOME_LOST})
		WantCode(t, err, connect.CodeFailedPrecondition)
	}
}

func TestConcurrentReplays(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) { testConcurrentReplays(t, b, 1, 15) })
}

func TestConcurrentReplaysAcrossReplicas(t *testing.T) {
	testConcurrentReplays(t, Postgres(t), 2, 100)
}

// testClientWritesWhileCandidatesClaim: while every candidate claims, the
// client writes again. Whatever the interleaving, no employee's log holds
// a push about the chat after the decision that took the chat away from
// it, and the winner is never told it is a candidate after it won.
func testClientWritesWhileCandidatesClaim(t *testing.T, b Backend, nReplicas, rounds int) {
	env := New(t, b, Options{})
	admin := env.Admin()
	ch, emps := firstResponderChannel(t, admin, 16)
	cs := replicas(t, env, nReplicas, env.AdminKey)
	for round := 0; round < rounds; round++ {
		phone := Phone(2000 + round)
		d := Route(t, admin, ch, phone, "anyone?")
		onEvery(len(emps)+1, func(i int) {
			c := cs[i%len(cs)]
			if i == len(emps) {
				_, err := c.Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{ChannelId: ch,
					Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: phone}, Content: &pb.MessageContent{Text: "hello??"},
					GatewayMessageId: GatewayID()})
				if err != nil {
					t.Errorf("round %d: the client's second message: %v", round, err)
				}
				return
			}
			_, err := write(c, emps[i], d.Chat.Id)
			if err != nil && connect.CodeOf(err) != connect.CodeAborted {
				t.Errorf("round %d: claim by %d: %v", round, i, err)
			}
		})
		if t.Failed() {
			t.FailNow()
		}
		for _, e := range emps {
			sees := true // a candidate from the first message on
			for _, n := range logOf(t, admin, e, d.Chat.Id) {
				switch n.Reason {
				case pb.NotificationReason_NOTIFICATION_REASON_CHAT_REVOKED:
					sees = false
				case pb.NotificationReason_NOTIFICATION_REASON_NEW_CLIENT_ASSIGNED:
					sees = true
				default:
					if !sees {
						t.Fatalf("round %d: employee %s is pushed %s about a chat it lost earlier in its log", round, e, n.Reason)
					}
				}
				if n.Reason == pb.NotificationReason_NOTIFICATION_REASON_NEW_CLIENT_CANDIDATE && sees && hasAssigned(logOf(t, admin, e, d.Chat.Id), n.Cursor) {
					t.Fatalf("round %d: employee %s is told it is a candidate after it won the client", round, e)
				}
			}
		}
	}
}

// hasAssigned reports whether log holds a NEW_CLIENT_ASSIGNED before the
// decision at cursor.
func hasAssigned(log []*pb.NotificationDecision, cursor string) bool {
	for _, n := range log {
		if n.Cursor == cursor {
			return false
		}
		if n.Reason == pb.NotificationReason_NOTIFICATION_REASON_NEW_CLIENT_ASSIGNED {
			return true
		}
	}
	return false
}

func TestClientWritesWhileCandidatesClaim(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) { testClientWritesWhileCandidatesClaim(t, b, 1, 30) })
}

func TestClientWritesWhileCandidatesClaimAcrossReplicas(t *testing.T) {
	testClientWritesWhileCandidatesClaim(t, Postgres(t), 2, 100)
}

// TestGatewayIDReusedForAnotherMessage: a gateway id names one message. Sent
// again for another channel, sender, employee or chat it is ALREADY_EXISTS
// — never the first message's answer (which would hide the new message,
// and show another employee's chat).
func TestGatewayIDReusedForAnotherMessage(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		wa, tg := co.Channels["WhatsApp Sales"], co.Channels["Telegram Support"]
		in := func(channel, phone string) error {
			_, err := admin.Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{ChannelId: channel,
				Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: phone}, Content: &pb.MessageContent{Text: "x"},
				GatewayMessageId: "42"})
			return err
		}
		NoErr(t, in(wa, "+79161234567"))
		NoErr(t, in(wa, "8 (916) 123-45-67")) // the same sender written otherwise: a replay
		WantCode(t, in(wa, Phone(2)), connect.CodeAlreadyExists)
		WantCode(t, in(tg, "+79161234567"), connect.CodeAlreadyExists)

		d := Route(t, admin, tg, Phone(3), "anyone?")
		bruce, tony := co.Employees["Bruce Wayne"], co.Employees["Tony Stark"]
		out := func(c *client.Clients, employee, chat string) (*pb.RouteOutgoingMessageResponse, error) {
			return c.Routing.RouteOutgoingMessage(ctx, &pb.RouteOutgoingMessageRequest{EmployeeId: employee,
				Target: &pb.RouteOutgoingMessageRequest_ChatId{ChatId: chat}, Content: &pb.MessageContent{Text: "mine"}, GatewayMessageId: "out-42"})
		}
		first, err := out(admin, bruce, d.Chat.Id)
		NoErr(t, err)
		again, err := out(admin, bruce, d.Chat.Id)
		NoErr(t, err)
		if !again.Replayed || again.Message.Id != first.Message.Id {
			t.Fatalf("the same message again: %v", again)
		}
		_, err = out(admin, tony, d.Chat.Id)
		WantCode(t, err, connect.CodeAlreadyExists)
		// An employee token cannot read another's answer through its id.
		tok, err := admin.Account.CreateEmployeeToken(ctx, &pb.CreateEmployeeTokenRequest{EmployeeId: co.Employees["Diana Prince"], Name: "qc"})
		NoErr(t, err)
		diana := env.Clients(tok.Secret, client.Connect)
		res, err := out(diana, co.Employees["Diana Prince"], "999")
		if connect.CodeOf(err) != connect.CodeAlreadyExists || res != nil {
			t.Fatalf("another employee's gateway id answered %v, %v", res, err)
		}
	})
}
