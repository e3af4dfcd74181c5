package routing_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/client"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

func write(c *client.Clients, employee, chat string) (*pb.RouteOutgoingMessageResponse, error) {
	return c.Routing.RouteOutgoingMessage(ctx, &pb.RouteOutgoingMessageRequest{EmployeeId: employee,
		Target: &pb.RouteOutgoingMessageRequest_ChatId{ChatId: chat}, Content: &pb.MessageContent{Text: "hello from us"}})
}

func writeFirst(c *client.Clients, employee, clientID, channel string) (*pb.RouteOutgoingMessageResponse, error) {
	return c.Routing.RouteOutgoingMessage(ctx, &pb.RouteOutgoingMessageRequest{EmployeeId: employee,
		Target: &pb.RouteOutgoingMessageRequest_ClientId{ClientId: clientID}, ChannelId: channel, Content: &pb.MessageContent{Text: "hi first"}})
}

func errorInfo(err error) *errdetails.ErrorInfo {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return nil
	}
	for _, d := range ce.Details() {
		if v, derr := d.Value(); derr == nil {
			if ei, ok := v.(*errdetails.ErrorInfo); ok {
				return ei
			}
		}
	}
	return nil
}

// TestOutgoingAuthorization: RouteOutgoingMessage enforces the SPEC §3 table.
func TestOutgoingAuthorization(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		e := co.Employees
		wa := co.Channels["WhatsApp Sales"]
		d := Route(t, admin, wa, Phone(1), "hi") // Bruce's client
		chat := d.Chat.Id
		if d.Client.ResponsibleEmployeeId != e["Bruce Wayne"] {
			t.Fatalf("responsible %s", d.Client.ResponsibleEmployeeId)
		}
		allowed := func(name string) {
			t.Helper()
			res, err := write(admin, e[name], chat)
			if err != nil {
				t.Fatalf("%s may write: %v", name, err)
			}
			if res.Claimed || res.ChannelChoice != pb.ChannelChoice_CHANNEL_CHOICE_CHAT || res.Message.EmployeeId != e[name] {
				t.Fatalf("%s: %v", name, res)
			}
		}
		denied := func(name string, why string) {
			t.Helper()
			_, err := write(admin, e[name], chat)
			WantCode(t, err, connect.CodePermissionDenied)
			if !strings.Contains(err.Error(), why) {
				t.Fatalf("%s: %v does not say %q", name, err, why)
			}
		}
		allowed("Bruce Wayne")       // responsible, read-write
		allowed("Alfred Pennyworth") // manager, read-write
		denied("Diana Prince", "quality control")
		denied("Scrooge McDuck", "global visibility OWN")
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			s.Account.GlobalChatVisibility = pb.GlobalChatVisibility_GLOBAL_CHAT_VISIBILITY_ALL
		})
		denied("Scrooge McDuck", "another employee's client, global visibility ALL")
		// Read-only: the responsible and the manager lose writing.
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			s.Account.DefaultOutgoingChannels = nil // Bruce's would contradict read-only
			for _, m := range ChannelSettings(s, wa).Members {
				if m.EmployeeId == e["Bruce Wayne"] || m.EmployeeId == e["Alfred Pennyworth"] {
					m.Access = pb.ChannelAccess_CHANNEL_ACCESS_READ_ONLY
				}
			}
		})
		denied("Bruce Wayne", "read-only")
		denied("Alfred Pennyworth", "read-only")
		// Not a member; deactivated.
		_, err := admin.Directory.SetChannelAccess(ctx, &pb.SetChannelAccessRequest{EmployeeIds: []string{e["Tony Stark"]},
			ChannelIds: []string{wa}, Level: pb.ChannelAccessLevel_CHANNEL_ACCESS_LEVEL_NO_ACCESS})
		NoErr(t, err)
		denied("Tony Stark", "not a member")
		_, err = admin.Directory.DeactivateEmployee(ctx, &pb.DeactivateEmployeeRequest{EmployeeId: e["Constantine"]})
		NoErr(t, err)
		denied("Constantine", "deactivated")

		// Unknown ids are NOT_FOUND; an API key must name the writer.
		_, err = write(admin, "999999", chat)
		WantCode(t, err, connect.CodeNotFound)
		_, err = write(admin, e["Bruce Wayne"], "999999")
		WantCode(t, err, connect.CodeNotFound)
		_, err = write(admin, "", chat)
		WantViolations(t, err, "employee_id")
		_, err = admin.Routing.RouteOutgoingMessage(ctx, &pb.RouteOutgoingMessageRequest{EmployeeId: e["Bruce Wayne"],
			Target: &pb.RouteOutgoingMessageRequest_ChatId{ChatId: chat}, Content: &pb.MessageContent{}})
		WantViolations(t, err, "content")
		_, err = admin.Routing.RouteOutgoingMessage(ctx, &pb.RouteOutgoingMessageRequest{EmployeeId: e["Bruce Wayne"], Content: &pb.MessageContent{Text: "x"}})
		WantViolations(t, err, "chat_id")
		_, err = admin.Routing.RouteOutgoingMessage(ctx, &pb.RouteOutgoingMessageRequest{EmployeeId: e["Bruce Wayne"], ChannelId: co.Channels["Telegram Support"],
			Target: &pb.RouteOutgoingMessageRequest_ChatId{ChatId: chat}, Content: &pb.MessageContent{Text: "x"}})
		WantViolations(t, err, "channel_id")
	})
}

// TestEmployeeTokenWrites: a token writes as its own employee only.
func TestEmployeeTokenWrites(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		d := Route(t, admin, co.Channels["WhatsApp Sales"], Phone(1), "hi") // Bruce's client
		bruce := env.Clients(co.Token, client.GRPC)
		res, err := write(bruce, "", d.Chat.Id)
		NoErr(t, err)
		if res.Message.EmployeeId != co.Employees["Bruce Wayne"] {
			t.Fatalf("wrote as %s", res.Message.EmployeeId)
		}
		_, err = write(bruce, co.Employees["Alfred Pennyworth"], d.Chat.Id)
		WantCode(t, err, connect.CodePermissionDenied)
		_, err = bruce.Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{})
		WantCode(t, err, connect.CodePermissionDenied) // the gateway's RPC needs an API key
	})
}

// TestWritingFirst: the channel is the one given, else the default outgoing
// channel, else the only writable one, else the choices are listed.
func TestWritingFirst(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		e := co.Employees
		wa, tg := co.Channels["WhatsApp Sales"], co.Channels["Telegram Support"]
		// A client known from Telegram, claimed there by Tony.
		d := Route(t, admin, tg, Phone(1), "hi")
		_, err := write(admin, e["Tony Stark"], d.Chat.Id)
		NoErr(t, err)
		clientID := d.Client.Id

		// Tony writes on both channels and has no default: he must choose.
		_, err = writeFirst(admin, e["Tony Stark"], clientID, "")
		WantCode(t, err, connect.CodeFailedPrecondition)
		var ce *connect.Error
		errors.As(err, &ce)
		var subjects []string
		for _, det := range ce.Details() {
			if v, derr := det.Value(); derr == nil {
				if pf, ok := v.(*errdetails.PreconditionFailure); ok {
					for _, vi := range pf.Violations {
						subjects = append(subjects, vi.Subject)
					}
				}
			}
		}
		if !slices.Equal(subjects, []string{"channels/" + wa, "channels/" + tg}) {
			t.Fatalf("choices %v", subjects)
		}
		// Given.
		res, err := writeFirst(admin, e["Tony Stark"], clientID, wa)
		NoErr(t, err)
		if res.ChannelChoice != pb.ChannelChoice_CHANNEL_CHOICE_GIVEN || res.Chat.ChannelId != wa || res.Chat.ClientId != clientID {
			t.Fatalf("given: %v", res)
		}
		// Default outgoing channel.
		_, err = admin.Directory.SetDefaultOutgoingChannel(ctx, &pb.SetDefaultOutgoingChannelRequest{EmployeeId: e["Tony Stark"], ChannelId: tg})
		NoErr(t, err)
		res, err = writeFirst(admin, e["Tony Stark"], clientID, "")
		NoErr(t, err)
		if res.ChannelChoice != pb.ChannelChoice_CHANNEL_CHOICE_DEFAULT_OUTGOING || res.Chat.ChannelId != tg {
			t.Fatalf("default: %v", res)
		}
		// The only writable channel.
		_, err = admin.Routing.AssignResponsible(ctx, &pb.AssignResponsibleRequest{ChatId: d.Chat.Id, EmployeeId: e["Alfred Pennyworth"]})
		NoErr(t, err)
		_, err = admin.Directory.SetChannelAccess(ctx, &pb.SetChannelAccessRequest{EmployeeIds: []string{e["Alfred Pennyworth"]},
			ChannelIds: []string{tg}, Level: pb.ChannelAccessLevel_CHANNEL_ACCESS_LEVEL_READ})
		NoErr(t, err)
		res, err = writeFirst(admin, e["Alfred Pennyworth"], clientID, "")
		NoErr(t, err)
		if res.ChannelChoice != pb.ChannelChoice_CHANNEL_CHOICE_ONLY_WRITABLE || res.Chat.ChannelId != wa {
			t.Fatalf("only writable: %v", res)
		}
		// Nowhere to write.
		_, err = writeFirst(admin, e["Diana Prince"], clientID, "")
		WantCode(t, err, connect.CodePermissionDenied)
		// A channel given that the writer may not write on.
		_, err = writeFirst(admin, e["Scrooge McDuck"], clientID, wa)
		WantCode(t, err, connect.CodePermissionDenied)
		_, err = writeFirst(admin, e["Scrooge McDuck"], "999999", wa)
		WantCode(t, err, connect.CodeNotFound)
	})
}

// TestFirstResponderClaim: the first candidate to write becomes
// responsible; the others lose the chat with a clear error.
func TestFirstResponderClaim(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		e := co.Employees
		tg := co.Channels["Telegram Support"]
		d := Route(t, admin, tg, Phone(1), "who's there?")
		if d.Assignment.Source != pb.ResponsibleSource_RESPONSIBLE_SOURCE_PENDING_FIRST_RESPONDER ||
			!slices.Equal(d.Assignment.CandidateEmployeeIds, []string{e["Bruce Wayne"], e["Tony Stark"]}) {
			t.Fatalf("pending: %v", d.Assignment)
		}
		// Bruce's access is known (and cached) before the claim.
		if chk, err := admin.Routing.CheckAccess(ctx, &pb.CheckAccessRequest{EmployeeId: e["Bruce Wayne"], ChatId: d.Chat.Id}); err != nil || !chk.Access.CanWrite {
			t.Fatalf("before the claim: %v %v", chk, err)
		}
		res, err := write(admin, e["Tony Stark"], d.Chat.Id)
		NoErr(t, err)
		if !res.Claimed || res.Client.ResponsibleEmployeeId != e["Tony Stark"] || !res.Access.WriteClaims {
			t.Fatalf("claim: %v", res)
		}
		var revoked, assigned []string
		for _, n := range res.Notifications {
			switch n.Reason {
			case pb.NotificationReason_NOTIFICATION_REASON_CHAT_REVOKED:
				revoked = append(revoked, n.EmployeeId)
			case pb.NotificationReason_NOTIFICATION_REASON_NEW_CLIENT_ASSIGNED:
				assigned = append(assigned, n.EmployeeId)
			}
		}
		// Bruce loses the chat; Alfred, a manager, still sees it.
		if !slices.Equal(revoked, []string{e["Bruce Wayne"]}) || !slices.Equal(assigned, []string{e["Tony Stark"]}) {
			t.Fatalf("claim pushes: %v", res.Notifications)
		}
		_, err = write(admin, e["Bruce Wayne"], d.Chat.Id)
		WantCode(t, err, connect.CodeAborted)
		if ei := errorInfo(err); ei == nil || ei.Reason != "CLIENT_CLAIMED" || ei.Metadata["responsible_employee_id"] != e["Tony Stark"] {
			t.Fatalf("lost claim error: %v %v", err, ei)
		}
		chk, err := admin.Routing.CheckAccess(ctx, &pb.CheckAccessRequest{EmployeeId: e["Bruce Wayne"], ChatId: d.Chat.Id})
		NoErr(t, err)
		if chk.Access.CanView {
			t.Fatal("the loser still sees the chat")
		}
		// The winner writes on as responsible, claiming nothing more.
		res, err = write(admin, e["Tony Stark"], d.Chat.Id)
		NoErr(t, err)
		if res.Claimed || len(res.Notifications) != 0 || res.Access.Rule != pb.AccessRule_ACCESS_RULE_RESPONSIBLE {
			t.Fatalf("second write: %v", res)
		}
		// The client's next message pushes Tony as responsible.
		d = Route(t, admin, tg, Phone(1), "thanks")
		if d.Assignment.Source != pb.ResponsibleSource_RESPONSIBLE_SOURCE_KEPT || len(d.Notifications) != 1 ||
			d.Notifications[0].EmployeeId != e["Tony Stark"] || d.Notifications[0].Reason != pb.NotificationReason_NOTIFICATION_REASON_RESPONSIBLE {
			t.Fatalf("after claim: %v", d)
		}
	})
}

// TestOutgoingReplay: a gateway id makes RouteOutgoingMessage idempotent.
func TestOutgoingReplay(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		d := Route(t, admin, co.Channels["Telegram Support"], Phone(1), "hi")
		req := &pb.RouteOutgoingMessageRequest{EmployeeId: co.Employees["Bruce Wayne"], Target: &pb.RouteOutgoingMessageRequest_ChatId{ChatId: d.Chat.Id},
			Content: &pb.MessageContent{Text: "mine"}, GatewayMessageId: "out-1"}
		first, err := admin.Routing.RouteOutgoingMessage(ctx, req)
		NoErr(t, err)
		again, err := admin.Routing.RouteOutgoingMessage(ctx, req)
		NoErr(t, err)
		if !first.Claimed || first.Replayed || !again.Replayed || again.Message.Id != first.Message.Id || !again.Claimed {
			t.Fatalf("replay: %v / %v", first, again)
		}
	})
}
