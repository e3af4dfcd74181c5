package routing_test

import (
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/client"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

func check(t *testing.T, c *client.Clients, employee, chat string) *pb.AccessDecision {
	t.Helper()
	res, err := c.Routing.CheckAccess(ctx, &pb.CheckAccessRequest{EmployeeId: employee, ChatId: chat})
	NoErr(t, err)
	return res.Access
}

// TestCheckAccessEndToEnd asks CheckAccess through the API for stored
// members, chat admins, deactivation and every global visibility mode, and
// checks the rule and its words.
func TestCheckAccessEndToEnd(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		e := co.Employees
		wa, tg := co.Channels["WhatsApp Sales"], co.Channels["Telegram Support"]
		bruces := Route(t, admin, wa, Phone(1), "hi").Chat.Id  // Bruce's client
		pending := Route(t, admin, tg, Phone(2), "hi").Chat.Id // first responder pending
		type row struct {
			employee, chat string
			view, write    bool
			rule           pb.AccessRule
			words          string
		}
		run := func(rows []row) {
			t.Helper()
			for _, r := range rows {
				a := check(t, admin, e[r.employee], r.chat)
				if a.CanView != r.view || a.CanWrite != r.write || a.Rule != r.rule || !strings.Contains(a.Explanation, r.words) {
					t.Fatalf("%s on chat %s: %v; want view=%v write=%v %v %q", r.employee, r.chat, a, r.view, r.write, r.rule, r.words)
				}
			}
		}
		run([]row{
			{"Bruce Wayne", bruces, true, true, pb.AccessRule_ACCESS_RULE_RESPONSIBLE, "responsible for the client"},
			{"Scrooge McDuck", bruces, false, false, pb.AccessRule_ACCESS_RULE_NOT_VISIBLE, "sales rep, not responsible, global visibility OWN"},
			{"Alfred Pennyworth", bruces, true, true, pb.AccessRule_ACCESS_RULE_MANAGER, "manager"},
			{"Diana Prince", bruces, true, false, pb.AccessRule_ACCESS_RULE_QUALITY_CONTROL, "never writes"},
			{"Bruce Wayne", pending, true, true, pb.AccessRule_ACCESS_RULE_FIRST_RESPONDER_CANDIDATE, "claims"},
			{"Scrooge McDuck", pending, false, false, pb.AccessRule_ACCESS_RULE_NOT_A_MEMBER, "not a member"},
		})
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			s.Account.GlobalChatVisibility = pb.GlobalChatVisibility_GLOBAL_CHAT_VISIBILITY_OWN_AND_UNASSIGNED
			s.Account.ChatAdminEmployeeIds = []string{e["Constantine"]}
			ChannelSettings(s, tg).Members = append(ChannelSettings(s, tg).Members, Member(e["Scrooge McDuck"], Rep, true, false, 1))
		})
		run([]row{
			{"Scrooge McDuck", bruces, false, false, pb.AccessRule_ACCESS_RULE_NOT_VISIBLE, "global visibility OWN_AND_UNASSIGNED"},
			{"Scrooge McDuck", pending, true, true, pb.AccessRule_ACCESS_RULE_UNASSIGNED_VISIBLE, "unassigned client, global visibility OWN_AND_UNASSIGNED"},
			{"Constantine", bruces, true, false, pb.AccessRule_ACCESS_RULE_CHAT_ADMIN, "chat admin"},
		})
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			s.Account.GlobalChatVisibility = pb.GlobalChatVisibility_GLOBAL_CHAT_VISIBILITY_ALL
		})
		run([]row{
			{"Scrooge McDuck", bruces, true, false, pb.AccessRule_ACCESS_RULE_ALL_VISIBLE, "another employee's client, global visibility ALL"},
			{"Scrooge McDuck", pending, true, true, pb.AccessRule_ACCESS_RULE_UNASSIGNED_VISIBLE, "ALL"},
		})
		_, err := admin.Directory.DeactivateEmployee(ctx, &pb.DeactivateEmployeeRequest{EmployeeId: e["Bruce Wayne"]})
		NoErr(t, err)
		run([]row{{"Bruce Wayne", bruces, false, false, pb.AccessRule_ACCESS_RULE_DEACTIVATED, "deactivated"}})

		// By channel and client, for a chat that does not exist yet.
		res, err := admin.Routing.CheckAccess(ctx, &pb.CheckAccessRequest{EmployeeId: e["Tony Stark"], ChannelId: tg,
			ClientId: Route(t, admin, wa, Phone(3), "x").Client.Id})
		NoErr(t, err)
		if !res.Access.CanView {
			t.Fatalf("by channel and client: %v", res.Access)
		}
		// Bad and foreign references.
		_, err = admin.Routing.CheckAccess(ctx, &pb.CheckAccessRequest{EmployeeId: e["Tony Stark"]})
		WantViolations(t, err, "chat_id")
		_, err = admin.Routing.CheckAccess(ctx, &pb.CheckAccessRequest{EmployeeId: e["Tony Stark"], ChatId: "1", ChannelId: "1"})
		WantViolations(t, err, "chat_id")
		_, err = admin.Routing.CheckAccess(ctx, &pb.CheckAccessRequest{EmployeeId: "999999", ChatId: bruces})
		WantCode(t, err, connect.CodeNotFound)
		_, err = admin.Routing.CheckAccess(ctx, &pb.CheckAccessRequest{EmployeeId: e["Tony Stark"], ChatId: "999999"})
		WantCode(t, err, connect.CodeNotFound)
		// An employee token asks only about itself.
		_, err = admin.Directory.ReactivateEmployee(ctx, &pb.ReactivateEmployeeRequest{EmployeeId: e["Bruce Wayne"]})
		NoErr(t, err)
		tok := env.Clients(co.Token, client.Connect)
		if _, err := tok.Routing.CheckAccess(ctx, &pb.CheckAccessRequest{ChatId: bruces}); err != nil {
			t.Fatal(err)
		}
		_, err = tok.Routing.CheckAccess(ctx, &pb.CheckAccessRequest{EmployeeId: e["Tony Stark"], ChatId: bruces})
		WantCode(t, err, connect.CodePermissionDenied)
	})
}

func visible(t *testing.T, c *client.Clients, employee string, size int32) []string {
	t.Helper()
	var out []string
	token := ""
	for {
		res, err := c.Routing.ListVisibleChats(ctx, &pb.ListVisibleChatsRequest{EmployeeId: employee, PageSize: size, PageToken: token})
		NoErr(t, err)
		for _, vc := range res.Chats {
			if !vc.Access.CanView {
				t.Fatalf("listed a chat it cannot view: %v", vc)
			}
			out = append(out, vc.Chat.Id)
		}
		if token = res.NextPageToken; token == "" {
			return out
		}
		if len(res.Chats) != int(size) {
			t.Fatalf("short page %d with a next token", len(res.Chats))
		}
	}
}

func TestListVisibleChats(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		e := co.Employees
		wa, tg := co.Channels["WhatsApp Sales"], co.Channels["Telegram Support"]
		var all, bruces []string
		for i := 0; i < 10; i++ { // Bruce gets clients 1 and 6 of every 5
			d := Route(t, admin, wa, Phone(i), "hi")
			all = append(all, d.Chat.Id)
			if d.Client.ResponsibleEmployeeId == e["Bruce Wayne"] {
				bruces = append(bruces, d.Chat.Id)
			}
		}
		pending := Route(t, admin, tg, Phone(100), "hi").Chat.Id
		Route(t, admin, wa, Phone(0), "again") // the first chat becomes the newest
		newestFirst := append([]string{all[0]}, reverse(all[1:])...)

		if got := visible(t, admin, e["Bruce Wayne"], 1); !slices.Equal(got, []string{bruces[0], pending, bruces[1]}) {
			t.Fatalf("Bruce sees %v, want %v", got, []string{bruces[0], pending, bruces[1]})
		}
		if got := visible(t, admin, e["Alfred Pennyworth"], 3); !slices.Equal(got, append([]string{all[0], pending}, reverse(all[1:])...)) {
			t.Fatalf("the manager sees %v", got)
		}
		if got := visible(t, admin, e["Diana Prince"], 200); !slices.Equal(got, newestFirst) {
			t.Fatalf("quality control sees %v, want %v", got, newestFirst)
		}
		if got := visible(t, admin, e["Scrooge McDuck"], 50); len(got) != 2 {
			t.Fatalf("Scrooge sees %v", got)
		}
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			s.Account.GlobalChatVisibility = pb.GlobalChatVisibility_GLOBAL_CHAT_VISIBILITY_ALL
		})
		if got := visible(t, admin, e["Scrooge McDuck"], 4); !slices.Equal(got, newestFirst) {
			t.Fatalf("Scrooge under ALL sees %v", got)
		}
		// Filter by channel; an employee token lists its own.
		res, err := env.Clients(co.Token, client.GRPC).Routing.ListVisibleChats(ctx, &pb.ListVisibleChatsRequest{ChannelId: tg})
		NoErr(t, err)
		if len(res.Chats) != 1 || res.Chats[0].Chat.Id != pending || res.Chats[0].Client.Phone != Phone(100) {
			t.Fatalf("Bruce's telegram chats: %v", res.Chats)
		}
		_, err = admin.Routing.ListVisibleChats(ctx, &pb.ListVisibleChatsRequest{EmployeeId: e["Bruce Wayne"], PageToken: "garbage"})
		WantViolations(t, err, "page_token")
		_, err = admin.Routing.ListVisibleChats(ctx, &pb.ListVisibleChatsRequest{EmployeeId: e["Bruce Wayne"], PageSize: 201})
		WantViolations(t, err, "page_size")
		_, err = admin.Routing.ListVisibleChats(ctx, &pb.ListVisibleChatsRequest{EmployeeId: e["Bruce Wayne"], ChannelId: "999999"})
		WantCode(t, err, connect.CodeNotFound)

		// Messages of a visible chat, newest first; not of an invisible one.
		msgs, err := admin.Routing.ListChatMessages(ctx, &pb.ListChatMessagesRequest{ChatId: all[0], EmployeeId: e["Bruce Wayne"], PageSize: 1})
		NoErr(t, err)
		if len(msgs.Messages) != 1 || msgs.Messages[0].Content.Text != "again" || msgs.NextPageToken == "" {
			t.Fatalf("messages: %v", msgs)
		}
		msgs, err = admin.Routing.ListChatMessages(ctx, &pb.ListChatMessagesRequest{ChatId: all[0], EmployeeId: e["Bruce Wayne"], PageToken: msgs.NextPageToken})
		NoErr(t, err)
		if len(msgs.Messages) != 1 || msgs.Messages[0].Content.Text != "hi" || msgs.NextPageToken != "" {
			t.Fatalf("second page: %v", msgs)
		}
		_, err = admin.Routing.ListChatMessages(ctx, &pb.ListChatMessagesRequest{ChatId: pending, EmployeeId: e["Scrooge McDuck"]})
		WantCode(t, err, connect.CodePermissionDenied)
	})
}

func reverse(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// TestAssignResponsible: transfers by a manager or an account key.
func TestAssignResponsible(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		e := co.Employees
		d := Route(t, admin, co.Channels["WhatsApp Sales"], Phone(1), "hi") // Bruce's
		res, err := admin.Routing.AssignResponsible(ctx, &pb.AssignResponsibleRequest{ChatId: d.Chat.Id, EmployeeId: e["Scrooge McDuck"]})
		NoErr(t, err)
		if res.PreviousResponsibleEmployeeId != e["Bruce Wayne"] || res.Client.ResponsibleEmployeeId != e["Scrooge McDuck"] {
			t.Fatalf("transfer: %v", res)
		}
		reasons := map[string]pb.NotificationReason{}
		for _, n := range res.Notifications {
			reasons[n.EmployeeId] = n.Reason
		}
		if len(reasons) != 2 || reasons[e["Bruce Wayne"]] != pb.NotificationReason_NOTIFICATION_REASON_CHAT_REVOKED ||
			reasons[e["Scrooge McDuck"]] != pb.NotificationReason_NOTIFICATION_REASON_NEW_CLIENT_ASSIGNED {
			t.Fatalf("transfer pushes: %v", res.Notifications)
		}
		// The new responsible must be able to write there.
		_, err = admin.Routing.AssignResponsible(ctx, &pb.AssignResponsibleRequest{ChatId: d.Chat.Id, EmployeeId: e["Diana Prince"]})
		WantViolations(t, err, "employee_id")
		// A sales rep's token cannot transfer; a manager's can.
		_, err = env.Clients(co.Token, client.Connect).Routing.AssignResponsible(ctx, &pb.AssignResponsibleRequest{ChatId: d.Chat.Id, EmployeeId: e["Bruce Wayne"]})
		WantCode(t, err, connect.CodePermissionDenied)
		tok, err := admin.Account.CreateEmployeeToken(ctx, &pb.CreateEmployeeTokenRequest{EmployeeId: e["Alfred Pennyworth"], Name: "phone"})
		NoErr(t, err)
		res, err = env.Clients(tok.Secret, client.Connect).Routing.AssignResponsible(ctx, &pb.AssignResponsibleRequest{ChatId: d.Chat.Id, EmployeeId: e["Tony Stark"]})
		NoErr(t, err)
		if res.Client.ResponsibleEmployeeId != e["Tony Stark"] {
			t.Fatalf("manager transfer: %v", res)
		}
		_, err = admin.Routing.AssignResponsible(ctx, &pb.AssignResponsibleRequest{ChatId: "999999", EmployeeId: e["Tony Stark"]})
		WantCode(t, err, connect.CodeNotFound)
		_, err = admin.Routing.AssignResponsible(ctx, &pb.AssignResponsibleRequest{ChatId: d.Chat.Id, EmployeeId: "999999"})
		WantCode(t, err, connect.CodeNotFound)
		// Closing a deal: only someone who can write to the client.
		_, err = env.Clients(co.Token, client.Connect).Routing.CloseDeal(ctx, &pb.CloseDealRequest{DealId: d.Deal.Id, Outcome: pb.DealOutcome_DEAL_OUTCOME_WON})
		WantCode(t, err, connect.CodePermissionDenied)
		cl, err := env.Clients(tok.Secret, client.Connect).Routing.CloseDeal(ctx, &pb.CloseDealRequest{DealId: d.Deal.Id, Outcome: pb.DealOutcome_DEAL_OUTCOME_LOST})
		NoErr(t, err)
		if cl.Deal.State != pb.DealState_DEAL_STATE_LOST || cl.Deal.CloseTime == nil {
			t.Fatalf("closed: %v", cl.Deal)
		}
		_, err = admin.Routing.CloseDeal(ctx, &pb.CloseDealRequest{DealId: d.Deal.Id})
		WantViolations(t, err, "outcome")
		_, err = admin.Routing.CloseDeal(ctx, &pb.CloseDealRequest{DealId: "999999", Outcome: pb.DealOutcome_DEAL_OUTCOME_WON})
		WantCode(t, err, connect.CodeNotFound)
	})
}
