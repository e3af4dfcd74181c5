package routing_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/switchboardhq/switchboard/ent/contact"
	"github.com/switchboardhq/switchboard/ent/message"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/client"
	"github.com/switchboardhq/switchboard/server/convert"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

var ctx = context.Background()

// names maps the demo's employee ids back to names.
func names(co *Company) map[string]string {
	out := map[string]string{}
	for n, id := range co.Employees {
		out[id] = n
	}
	return out
}

// TestWeightedSequence: the spec's example, exactly, through the API.
func TestWeightedSequence(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		for _, p := range Protocols {
			t.Run(p.String(), func(t *testing.T) {
				c := env.Clients(env.AdminKey, p)
				byID := names(co)
				var got []string
				for i := 0; i < 10; i++ {
					d := Route(t, c, co.Channels["WhatsApp Sales"], Phone(int(p)*1000+i), "hello")
					if !d.NewClient || d.Assignment.Source != pb.ResponsibleSource_RESPONSIBLE_SOURCE_DISTRIBUTED {
						t.Fatalf("decision %v", d)
					}
					got = append(got, byID[d.Client.ResponsibleEmployeeId])
				}
				want := []string{"Bruce Wayne", "Scrooge McDuck", "Tony Stark", "Tony Stark", "Constantine",
					"Bruce Wayne", "Scrooge McDuck", "Tony Stark", "Tony Stark", "Constantine"}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("got %v\nwant %v", got, want)
				}
			})
		}
	})
}

// TestRoundRobinAfterMemberEdit: edits keep the cursor on the last assignee.
func TestRoundRobinAfterMemberEdit(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		wa := co.Channels["WhatsApp Sales"]
		e := co.Employees
		byID := names(co)
		member := func(name string) *pb.ChannelMember { return Member(e[name], Rep, true, true, 1) }
		setMembers := func(ms ...*pb.ChannelMember) {
			UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
				cs := ChannelSettings(s, wa)
				cs.Distribution = pb.DistributionMode_DISTRIBUTION_MODE_ROUND_ROBIN
				cs.Members = ms
			})
		}
		next := func(n int) []string {
			var out []string
			for i := 0; i < n; i++ {
				out = append(out, byID[Route(t, admin, wa, Phone(int(next0.Add(1))), "hi").Client.ResponsibleEmployeeId])
			}
			return out
		}
		setMembers(member("Bruce Wayne"), member("Scrooge McDuck"), member("Tony Stark"), member("Constantine"))
		if got := next(2); !reflect.DeepEqual(got, []string{"Bruce Wayne", "Scrooge McDuck"}) {
			t.Fatalf("start: %v", got)
		}
		// Reorder and add: whoever follows Scrooge now is next.
		setMembers(member("Constantine"), member("Scrooge McDuck"), member("Alfred Pennyworth"), member("Bruce Wayne"), member("Tony Stark"))
		if got := next(3); !reflect.DeepEqual(got, []string{"Alfred Pennyworth", "Bruce Wayne", "Tony Stark"}) {
			t.Fatalf("after reorder: %v", got)
		}
		// Remove the last assignee (Tony): the cursor wraps to the start.
		setMembers(member("Constantine"), member("Scrooge McDuck"), member("Alfred Pennyworth"), member("Bruce Wayne"))
		if got := next(2); !reflect.DeepEqual(got, []string{"Constantine", "Scrooge McDuck"}) {
			t.Fatalf("after removing the last assignee: %v", got)
		}
		// Removing Scrooge through the access grid keeps the cursor too.
		_, err := admin.Directory.SetChannelAccess(ctx, &pb.SetChannelAccessRequest{EmployeeIds: []string{e["Scrooge McDuck"]},
			ChannelIds: []string{wa}, Level: pb.ChannelAccessLevel_CHANNEL_ACCESS_LEVEL_NO_ACCESS})
		NoErr(t, err)
		if got := next(2); !reflect.DeepEqual(got, []string{"Alfred Pennyworth", "Bruce Wayne"}) {
			t.Fatalf("after removing through the grid: %v", got)
		}
		// A member who stops receiving new clients is skipped; a deactivated one too.
		m := member("Constantine")
		m.ReceivesNewClients = false
		setMembers(m, member("Alfred Pennyworth"), member("Bruce Wayne"), member("Tony Stark"))
		_, err = admin.Directory.DeactivateEmployee(ctx, &pb.DeactivateEmployeeRequest{EmployeeId: e["Tony Stark"]})
		NoErr(t, err)
		if got := next(3); !reflect.DeepEqual(got, []string{"Alfred Pennyworth", "Bruce Wayne", "Alfred Pennyworth"}) {
			t.Fatalf("skipping ineligible: %v", got)
		}
	})
}

// TestNobodyEligible: the client stays unassigned and the message goes to
// the general chat.
func TestNobodyEligible(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		for _, mode := range []pb.DistributionMode{pb.DistributionMode_DISTRIBUTION_MODE_WEIGHTED, pb.DistributionMode_DISTRIBUTION_MODE_FIRST_RESPONDER} {
			UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
				cs := ChannelSettings(s, co.Channels["WhatsApp Sales"])
				cs.Distribution = mode
				for _, m := range cs.Members {
					m.ReceivesNewClients = false
				}
			})
			d := Route(t, admin, co.Channels["WhatsApp Sales"], Phone(int(mode)), "anyone?")
			if d.Client.ResponsibleEmployeeId != "" || d.Assignment.Source != pb.ResponsibleSource_RESPONSIBLE_SOURCE_NONE_ELIGIBLE || !d.PostedToGeneralChat {
				t.Fatalf("%v: %v", mode, d)
			}
			if len(d.Notifications) != 1 || !d.Notifications[0].GeneralChat {
				t.Fatalf("%v: pushes %v", mode, d.Notifications)
			}
		}
	})
}

// TestIdempotentReplay: the same gateway id twice returns the first
// decision and creates nothing, also when both arrive at once. The replay
// reads the decision back from the store, so it also checks that the first
// answer says exactly what was stored.
func TestIdempotentReplay(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		req := &pb.RouteIncomingMessageRequest{ChannelId: co.Channels["WhatsApp Sales"],
			Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: Phone(1)},
			Content: &pb.MessageContent{Text: "once", Attachments: []*pb.Attachment{
				{Url: "https://example.com/a.jpg", MimeType: "image/jpeg", FileName: "a.jpg"}}},
			GatewayMessageId: "gw-once"}
		first, err := admin.Routing.RouteIncomingMessage(ctx, req)
		NoErr(t, err)
		if first.Replayed {
			t.Fatal("first call marked replayed")
		}
		if m := first.Decision.Message; m.GetId() == "" || len(m.Content.GetAttachments()) != 1 || len(first.Decision.Notifications) == 0 {
			t.Fatalf("first decision: %v", first.Decision)
		}
		// Routing another client in between moves the cursor; the replay
		// must still answer the first decision.
		Route(t, admin, co.Channels["WhatsApp Sales"], Phone(2), "other")
		again, err := admin.Routing.RouteIncomingMessage(ctx, req)
		NoErr(t, err)
		if !again.Replayed || !proto.Equal(again.Decision, first.Decision) {
			t.Fatalf("replay differs:\n%v\n%v", again.Decision, first.Decision)
		}

		// Twenty identical requests at once: one decision, one message.
		req.GatewayMessageId, req.Sender = "gw-burst", &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: Phone(3)}
		var wg sync.WaitGroup
		answers := make([]*pb.RouteIncomingMessageResponse, 20)
		for i := range answers {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				res, err := env.Clients(env.AdminKey, client.GRPC).Routing.RouteIncomingMessage(ctx, req)
				if err != nil {
					t.Errorf("burst: %v", err)
					return
				}
				answers[i] = res
			}(i)
		}
		wg.Wait()
		fresh := 0
		for _, a := range answers {
			if a == nil {
				continue
			}
			if !a.Replayed {
				fresh++
			}
			if !proto.Equal(a.Decision, answers[0].Decision) {
				t.Fatal("burst answers differ")
			}
		}
		if fresh != 1 {
			t.Fatalf("%d requests were routed fresh, want 1", fresh)
		}
		actx := tenant.NewContext(ctx, env.AccountID)
		if n := env.Store.Ent.Message.Query().Where(message.GatewayMessageID("gw-burst")).CountX(actx); n != 1 {
			t.Fatalf("%d messages stored", n)
		}
		if n := env.Store.Ent.Contact.Query().CountX(actx); n != 3 {
			t.Fatalf("%d clients stored, want 3", n)
		}
	})
}

// TestPhoneInputs: SPEC §8 with convert_8_to_plus7 on and off.
func TestPhoneInputs(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		wa := co.Channels["WhatsApp Sales"]
		for _, convert := range []bool{true, false} {
			UpdateSettings(t, admin, func(s *pb.IntegrationSettings) { s.Account.Convert_8ToPlus7 = convert })
			for _, tt := range []struct {
				in      string
				on, off string // "" means INVALID_ARGUMENT
			}{
				{"8 (916) 123-45-67", "+79161234567", ""},
				{"+7 916 123 45 67", "+79161234567", "+79161234567"},
				{"79161234567", "+79161234567", "+79161234567"},
				{"8613812345678", "+8613812345678", "+8613812345678"},
				{"call me maybe", "", ""},
			} {
				want := tt.on
				if !convert {
					want = tt.off
				}
				res, err := admin.Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{ChannelId: wa,
					Sender:  &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: tt.in},
					Content: &pb.MessageContent{Text: "hi"}, GatewayMessageId: GatewayID()})
				if want == "" {
					WantViolations(t, err, "sender_phone")
					continue
				}
				NoErr(t, err)
				if res.Decision.Client.Phone != want {
					t.Fatalf("convert=%v %q -> %q, want %q", convert, tt.in, res.Decision.Client.Phone, want)
				}
			}
		}
		// "+79161234567" written three ways is one client.
		n := env.Store.Ent.Contact.Query().Where(contact.Phone("+79161234567")).CountX(tenant.NewContext(ctx, env.AccountID))
		if n != 1 {
			t.Fatalf("%d clients for one number", n)
		}
	})
}

// TestRepeatClients: SPEC §4 steps 3 and 4 under both policies.
func TestRepeatClients(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		wa := co.Channels["WhatsApp Sales"]
		setPolicy := func(p pb.RepeatClientPolicy) {
			UpdateSettings(t, admin, func(s *pb.IntegrationSettings) { ChannelSettings(s, wa).RepeatClientPolicy = p })
		}
		first := Route(t, admin, wa, Phone(1), "first")
		bruce := first.Client.ResponsibleEmployeeId

		// An open deal: the message attaches, the responsible stays.
		d := Route(t, admin, wa, Phone(1), "second")
		if d.NewClient || d.EntityAction != pb.EntityAction_ENTITY_ACTION_ATTACHED_TO_OPEN || d.Deal.Id != first.Deal.Id ||
			d.Client.ResponsibleEmployeeId != bruce || d.Assignment.Source != pb.ResponsibleSource_RESPONSIBLE_SOURCE_KEPT {
			t.Fatalf("open deal: %v", d)
		}
		if len(d.Notifications) != 1 || d.Notifications[0].Reason != pb.NotificationReason_NOTIFICATION_REASON_RESPONSIBLE {
			t.Fatalf("open deal pushes: %v", d.Notifications)
		}

		// CREATE_NEW_DEAL (the default) after closing.
		_, err := admin.Routing.CloseDeal(ctx, &pb.CloseDealRequest{DealId: first.Deal.Id, Outcome: pb.DealOutcome_DEAL_OUTCOME_WON})
		NoErr(t, err)
		d = Route(t, admin, wa, Phone(1), "back again")
		if d.EntityAction != pb.EntityAction_ENTITY_ACTION_CREATED || d.Deal.Id == first.Deal.Id || d.Deal.State != pb.DealState_DEAL_STATE_OPEN ||
			d.Client.ResponsibleEmployeeId != bruce {
			t.Fatalf("create new deal: %v", d)
		}
		second := d.Deal

		// APPEND_TO_LAST_CLOSED_DEAL: attaches to the most recently closed one.
		setPolicy(pb.RepeatClientPolicy_REPEAT_CLIENT_POLICY_APPEND_TO_LAST_CLOSED_DEAL)
		_, err = admin.Routing.CloseDeal(ctx, &pb.CloseDealRequest{DealId: second.Id, Outcome: pb.DealOutcome_DEAL_OUTCOME_LOST})
		NoErr(t, err)
		d = Route(t, admin, wa, Phone(1), "and again")
		if d.EntityAction != pb.EntityAction_ENTITY_ACTION_ATTACHED_TO_LAST_CLOSED || d.Deal.Id != second.Id || d.Client.ResponsibleEmployeeId != bruce {
			t.Fatalf("append to last closed: %v", d)
		}

		// The responsible keeps a repeat client only if it can still write.
		_, err = admin.Directory.SetChannelAccess(ctx, &pb.SetChannelAccessRequest{EmployeeIds: []string{bruce}, ChannelIds: []string{wa},
			Level: pb.ChannelAccessLevel_CHANNEL_ACCESS_LEVEL_READ})
		NoErr(t, err)
		d = Route(t, admin, wa, Phone(1), "is anyone there?")
		if d.Assignment.Source != pb.ResponsibleSource_RESPONSIBLE_SOURCE_DISTRIBUTED || d.Client.ResponsibleEmployeeId == bruce ||
			d.Client.ResponsibleEmployeeId == "" {
			t.Fatalf("redistributed repeat client: %v", d)
		}
		if d.Notifications[0].Reason != pb.NotificationReason_NOTIFICATION_REASON_NEW_CLIENT_ASSIGNED {
			t.Fatalf("redistribution pushes %v", d.Notifications)
		}
		// Bruce, read-only now, no longer sees the chat (visibility OWN):
		// he is told, once, about this chat; nobody else is pushed twice.
		revoked, pushed := 0, map[string]int{}
		for _, n := range d.Notifications {
			pushed[n.EmployeeId]++
			if n.Reason == pb.NotificationReason_NOTIFICATION_REASON_CHAT_REVOKED {
				revoked++
				if n.EmployeeId != bruce || n.ChatId != d.Chat.Id || n.MessageId != d.Message.Id {
					t.Fatalf("revocation %v", n)
				}
			}
		}
		if revoked != 1 || pushed[bruce] != 1 || pushed[d.Client.ResponsibleEmployeeId] != 1 {
			t.Fatalf("redistribution pushes %v", d.Notifications)
		}
		if chk := check(t, admin, bruce, d.Chat.Id); chk.CanView {
			t.Fatalf("Bruce still views the chat: %v", chk)
		}
		// A replay answers the same, revocation included.
		again, err := admin.Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{ChannelId: wa,
			Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: Phone(1)}, Content: &pb.MessageContent{Text: "is anyone there?"},
			GatewayMessageId: d.Message.GatewayMessageId})
		NoErr(t, err)
		if !proto.Equal(again.Decision.Notifications[len(again.Decision.Notifications)-1], d.Notifications[len(d.Notifications)-1]) ||
			len(again.Decision.Notifications) != len(d.Notifications) {
			t.Fatalf("replay pushes %v, first %v", again.Decision.Notifications, d.Notifications)
		}
		// Closing twice is refused.
		_, err = admin.Routing.CloseDeal(ctx, &pb.CloseDealRequest{DealId: second.Id, Outcome: pb.DealOutcome_DEAL_OUTCOME_WON})
		WantCode(t, err, connect.CodeFailedPrecondition)
	})
}

// asStored fails unless the client, deal and chat of a decision are what
// the store holds.
func asStored(t *testing.T, env *Env, accountID int64, d *pb.RoutingDecision) {
	t.Helper()
	actx := tenant.NewContext(ctx, accountID)
	c := env.Store.Ent
	if got := convert.Client(c.Contact.GetX(actx, ids.Value(d.Client.Id))); !proto.Equal(got, d.Client) {
		t.Fatalf("client answered %v\nstored %v", d.Client, got)
	}
	if got := convert.Chat(c.Chat.GetX(actx, ids.Value(d.Chat.Id))); !proto.Equal(got, d.Chat) {
		t.Fatalf("chat answered %v\nstored %v", d.Chat, got)
	}
	if d.Deal != nil {
		if got := convert.Deal(c.Deal.GetX(actx, ids.Value(d.Deal.Id))); !proto.Equal(got, d.Deal) {
			t.Fatalf("deal answered %v\nstored %v", d.Deal, got)
		}
	}
}

// TestNewClientEntity: deal in the configured stage, lead, or contact only;
// the answer shows the rows as stored.
func TestNewClientEntity(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		wa := co.Channels["WhatsApp Sales"]
		pl, err := admin.Directory.ListPipelines(ctx, &pb.ListPipelinesRequest{})
		NoErr(t, err)
		d := Route(t, admin, wa, Phone(1), "x")
		if d.Deal.PipelineId != pl.Pipelines[0].Id || d.Deal.StageId != pl.Pipelines[0].Stages[0].Id || d.Deal.Kind != pb.DealKind_DEAL_KIND_DEAL {
			t.Fatalf("default entity: %v", d.Deal)
		}
		asStored(t, env, env.AccountID, d)
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			ChannelSettings(s, wa).NewClientEntity = &pb.NewClientEntity{Entity: &pb.NewClientEntity_Deal{Deal: &pb.DealTarget{
				PipelineId: pl.Pipelines[0].Id, StageId: pl.Pipelines[0].Stages[2].Id}}}
		})
		if d = Route(t, admin, wa, Phone(2), "x"); d.Deal.StageId != pl.Pipelines[0].Stages[2].Id {
			t.Fatalf("configured stage: %v", d.Deal)
		}
		asStored(t, env, env.AccountID, d)
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			ChannelSettings(s, wa).NewClientEntity = &pb.NewClientEntity{Entity: &pb.NewClientEntity_Lead{Lead: &pb.LeadTarget{LeadStatusId: pl.LeadStatuses[1].Id}}}
		})
		if d = Route(t, admin, wa, Phone(3), "x"); d.Deal.Kind != pb.DealKind_DEAL_KIND_LEAD || d.Deal.LeadStatusId != pl.LeadStatuses[1].Id {
			t.Fatalf("lead: %v", d.Deal)
		}
		asStored(t, env, env.AccountID, d)
		// An account without pipelines creates only the contact.
		bareID, key := env.NewAccount("Bare")
		bare := env.Clients(key, client.Connect)
		ch, err := bare.Directory.CreateChannel(ctx, &pb.CreateChannelRequest{Kind: pb.ChannelKind_CHANNEL_KIND_WHATSAPP, Name: "Bare"})
		NoErr(t, err)
		if d = Route(t, bare, ch.Channel.Id, Phone(4), "x"); d.EntityAction != pb.EntityAction_ENTITY_ACTION_CONTACT_ONLY || d.Deal != nil || !d.PostedToGeneralChat {
			t.Fatalf("contact only: %v", d)
		}
		asStored(t, env, bareID, d)
	})
}

// TestIncomingBadInput: a clear code, nothing stored, never Internal.
func TestIncomingBadInput(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		other := env.DemoIn(must(env.NewAccount("Other")))
		admin := env.Admin()
		wa := co.Channels["WhatsApp Sales"]
		off := false
		excluded, err := admin.Directory.CreateChannel(ctx, &pb.CreateChannelRequest{Kind: pb.ChannelKind_CHANNEL_KIND_TELEGRAM, Name: "Old"})
		NoErr(t, err)
		_, err = admin.Directory.UpdateChannel(ctx, &pb.UpdateChannelRequest{ChannelId: excluded.Channel.Id, InIntegration: &off})
		NoErr(t, err)
		phone := &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: Phone(1)}
		text := &pb.MessageContent{Text: "hi"}
		tests := []struct {
			name  string
			req   *pb.RouteIncomingMessageRequest
			code  connect.Code
			field string
		}{
			{"unknown channel", &pb.RouteIncomingMessageRequest{ChannelId: "999999", Sender: phone, Content: text, GatewayMessageId: "b1"}, connect.CodeNotFound, ""},
			{"another account's channel", &pb.RouteIncomingMessageRequest{ChannelId: other.Channels["WhatsApp Sales"], Sender: phone, Content: text, GatewayMessageId: "b2"}, connect.CodeNotFound, ""},
			{"excluded channel", &pb.RouteIncomingMessageRequest{ChannelId: excluded.Channel.Id, Sender: phone, Content: text, GatewayMessageId: "b3"}, connect.CodeFailedPrecondition, ""},
			{"unparseable sender", &pb.RouteIncomingMessageRequest{ChannelId: wa, Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: "not-a-phone"}, Content: text, GatewayMessageId: "b4"}, connect.CodeInvalidArgument, "sender_phone"},
			{"too short a number", &pb.RouteIncomingMessageRequest{ChannelId: wa, Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: "123"}, Content: text, GatewayMessageId: "b5"}, connect.CodeInvalidArgument, "sender_phone"},
			{"blank handle", &pb.RouteIncomingMessageRequest{ChannelId: wa, Sender: &pb.RouteIncomingMessageRequest_SenderHandle{SenderHandle: "@"}, Content: text, GatewayMessageId: "b6"}, connect.CodeInvalidArgument, "sender_handle"},
			{"no sender", &pb.RouteIncomingMessageRequest{ChannelId: wa, Content: text, GatewayMessageId: "b7"}, connect.CodeInvalidArgument, "sender_phone"},
			{"empty message", &pb.RouteIncomingMessageRequest{ChannelId: wa, Sender: phone, Content: &pb.MessageContent{}, GatewayMessageId: "b8"}, connect.CodeInvalidArgument, "content"},
			{"no content", &pb.RouteIncomingMessageRequest{ChannelId: wa, Sender: phone, GatewayMessageId: "b9"}, connect.CodeInvalidArgument, "content"},
			{"bad attachment", &pb.RouteIncomingMessageRequest{ChannelId: wa, Sender: phone, Content: &pb.MessageContent{Attachments: []*pb.Attachment{{Url: "file:///etc/passwd"}}}, GatewayMessageId: "b10"}, connect.CodeInvalidArgument, "content.attachments[0].url"},
			{"no gateway id", &pb.RouteIncomingMessageRequest{ChannelId: wa, Sender: phone, Content: text}, connect.CodeInvalidArgument, "gateway_message_id"},
			{"bad channel id", &pb.RouteIncomingMessageRequest{ChannelId: "wa", Sender: phone, Content: text, GatewayMessageId: "b11"}, connect.CodeInvalidArgument, "channel_id"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := admin.Routing.RouteIncomingMessage(ctx, tt.req)
				WantCode(t, err, tt.code)
				if tt.field != "" {
					WantViolations(t, err, tt.field)
				}
			})
		}
		actx := tenant.NewContext(ctx, env.AccountID)
		if n := env.Store.Ent.Contact.Query().CountX(actx) + env.Store.Ent.Message.Query().CountX(actx) + env.Store.Ent.Chat.Query().CountX(actx); n != 0 {
			t.Fatalf("bad input stored %d rows", n)
		}
		// After the integration is deleted nothing routes.
		_, err = admin.Integration.DeleteIntegration(ctx, &pb.DeleteIntegrationRequest{})
		NoErr(t, err)
		_, err = admin.Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{ChannelId: wa, Sender: phone, Content: text, GatewayMessageId: "b12"})
		WantCode(t, err, connect.CodeFailedPrecondition)
	})
}

func must(id int64, _ string) int64 { return id }

// TestTestMessage: SendTestMessage after the first save, and removing the
// test client.
func TestTestMessage(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		admin := env.Admin()
		_, err := admin.Integration.SendTestMessage(ctx, &pb.SendTestMessageRequest{})
		WantCode(t, err, connect.CodeFailedPrecondition) // never saved, no channel
		co := env.Demo()
		res, err := admin.Integration.SendTestMessage(ctx, &pb.SendTestMessageRequest{Text: "ping"})
		NoErr(t, err)
		d := res.Decision
		if res.Channel.Id != co.Channels["WhatsApp Sales"] || !d.Client.IsTest || d.Message.Content.Text != "ping" ||
			d.Client.ResponsibleEmployeeId == "" || len(d.Viewers) == 0 || len(d.Notifications) == 0 {
			t.Fatalf("test message: %v", res)
		}
		again, err := admin.Integration.SendTestMessage(ctx, &pb.SendTestMessageRequest{})
		NoErr(t, err)
		if again.Decision.Client.Id != d.Client.Id || again.Decision.NewClient {
			t.Fatal("a second test message made a new test client")
		}
		rm, err := admin.Integration.RemoveTestClient(ctx, &pb.RemoveTestClientRequest{})
		NoErr(t, err)
		actx := tenant.NewContext(ctx, env.AccountID)
		left := []int{env.Store.Ent.Contact.Query().CountX(actx), env.Store.Ent.Chat.Query().CountX(actx), env.Store.Ent.Message.Query().CountX(actx),
			env.Store.Ent.Notification.Query().CountX(actx), env.Store.Ent.Deal.Query().CountX(actx)}
		if !rm.Removed || slices.Max(left) != 0 {
			t.Fatalf("test client not removed with everything it caused: contacts, chats, messages, pushes, deals left: %v", left)
		}
		rm, err = admin.Integration.RemoveTestClient(ctx, &pb.RemoveTestClientRequest{})
		NoErr(t, err)
		if rm.Removed {
			t.Fatal("removed twice")
		}
	})
}

var _ = fmt.Sprint

// TestEligibility: SPEC §5 — only active READ_WRITE sales reps and managers
// who receive new clients are distributed to; read-only members, quality
// control, deactivated employees and members who do not receive new
// clients never are.
func TestEligibility(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		e := co.Employees
		wa := co.Channels["WhatsApp Sales"]
		rw, ro := pb.ChannelAccess_CHANNEL_ACCESS_READ_WRITE, pb.ChannelAccess_CHANNEL_ACCESS_READ_ONLY
		rep, mgr := pb.EmployeeRole_EMPLOYEE_ROLE_SALES_REP, pb.EmployeeRole_EMPLOYEE_ROLE_MANAGER
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			cs := ChannelSettings(s, wa)
			cs.Distribution = pb.DistributionMode_DISTRIBUTION_MODE_ROUND_ROBIN
			cs.Members = []*pb.ChannelMember{
				{EmployeeId: e["Bruce Wayne"], Role: rep, Access: rw, ReceivesNewClients: true},
				{EmployeeId: e["Scrooge McDuck"], Role: rep, Access: ro, ReceivesNewClients: true},
				{EmployeeId: e["Tony Stark"], Role: mgr, Access: rw, ReceivesNewClients: true},
				{EmployeeId: e["Constantine"], Role: rep, Access: rw, ReceivesNewClients: true},
				{EmployeeId: e["Alfred Pennyworth"], Role: mgr, Access: rw, ReceivesNewClients: false},
				{EmployeeId: e["Diana Prince"], Role: pb.EmployeeRole_EMPLOYEE_ROLE_QUALITY_CONTROL, Access: ro, ReceivesNewClients: true},
			}
		})
		_, err := admin.Directory.DeactivateEmployee(ctx, &pb.DeactivateEmployeeRequest{EmployeeId: e["Constantine"]})
		NoErr(t, err)
		got := map[string]int{}
		for i := range 6 {
			got[Route(t, admin, wa, Phone(i), "hi").Client.ResponsibleEmployeeId]++
		}
		if want := map[string]int{e["Bruce Wayne"]: 3, e["Tony Stark"]: 3}; !reflect.DeepEqual(got, want) {
			t.Fatalf("distributed %v, want Bruce and Tony 3 each (%v)", got, want)
		}
	})
}

// TestViewersOfNewClient: SPEC §3 and §4.6 — the decision lists exactly who
// can view the chat: the responsible, managers and quality control, and
// (visibility OWN) no other sales rep.
func TestViewersOfNewClient(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		d := Route(t, env.Admin(), co.Channels["WhatsApp Sales"], Phone(1), "hi")
		var got []string
		for _, v := range d.Viewers {
			got = append(got, names(co)[v.EmployeeId])
		}
		slices.Sort(got)
		if want := []string{"Alfred Pennyworth", "Bruce Wayne", "Diana Prince"}; !slices.Equal(got, want) {
			t.Fatalf("viewers %v, want %v", got, want)
		}
	})
}
