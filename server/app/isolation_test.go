package app_test

import (
	"context"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/client"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// snapshot is everything an admin can read of its account.
func snapshot(t *testing.T, c *client.Clients) []proto.Message {
	t.Helper()
	ctx := context.Background()
	must := func(m proto.Message, err error) proto.Message {
		t.Helper()
		NoErr(t, err)
		return m
	}
	return []proto.Message{
		must(c.Integration.GetIntegrationSettings(ctx, &pb.GetIntegrationSettingsRequest{})),
		must(c.Directory.ListChannels(ctx, &pb.ListChannelsRequest{})),
		must(c.Directory.ListEmployees(ctx, &pb.ListEmployeesRequest{IncludeDeactivated: true})),
		must(c.Directory.ListPipelines(ctx, &pb.ListPipelinesRequest{})),
		must(c.Account.ListApiKeys(ctx, &pb.ListApiKeysRequest{})),
		must(c.Account.ListEmployeeTokens(ctx, &pb.ListEmployeeTokensRequest{})),
	}
}

// TestTenantIsolation calls every settings, directory, account and routing RPC with
// another account's ids: each answers NOT_FOUND exactly as for a missing id
// (INVALID_ARGUMENT for references inside a settings document), and the
// other account is unchanged.
func TestTenantIsolation(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		ctx := context.Background()
		victim := env.Demo()
		victimAdmin := env.Admin()
		tok, err := victimAdmin.Account.CreateEmployeeToken(ctx, &pb.CreateEmployeeTokenRequest{EmployeeId: victim.Employees["Tony Stark"], Name: "x"})
		NoErr(t, err)
		key, err := victimAdmin.Account.CreateApiKey(ctx, &pb.CreateApiKeyRequest{Name: "gateway"})
		NoErr(t, err)
		routed := Route(t, victimAdmin, victim.Channels["WhatsApp Sales"], Phone(1), "private")
		otherID, otherKey := env.NewAccount("Intruder")
		intruderCo := env.DemoIn(otherID)
		intruderChat := Route(t, env.Clients(otherKey, client.Connect), intruderCo.Channels["WhatsApp Sales"], Phone(2), "mine")
		before := snapshot(t, victimAdmin)
		victimMsgs, err := victimAdmin.Routing.ListChatMessages(ctx, &pb.ListChatMessagesRequest{ChatId: routed.Chat.Id})
		NoErr(t, err)

		for _, p := range Protocols {
			in := env.Clients(otherKey, p)
			ch, emp := victim.Channels["WhatsApp Sales"], victim.Employees["Bruce Wayne"]
			name, flag := "pwned", false
			notFound := map[string]func() error{
				"UpdateChannel": func() error {
					return second(in.Directory.UpdateChannel(ctx, &pb.UpdateChannelRequest{ChannelId: ch, Name: &name, InIntegration: &flag}))
				},
				"UpdateEmployee": func() error {
					return second(in.Directory.UpdateEmployee(ctx, &pb.UpdateEmployeeRequest{EmployeeId: emp, Name: &name}))
				},
				"DeactivateEmployee": func() error {
					return second(in.Directory.DeactivateEmployee(ctx, &pb.DeactivateEmployeeRequest{EmployeeId: emp}))
				},
				"ReactivateEmployee": func() error {
					return second(in.Directory.ReactivateEmployee(ctx, &pb.ReactivateEmployeeRequest{EmployeeId: emp}))
				},
				"SetChannelAccess employees": func() error {
					return second(in.Directory.SetChannelAccess(ctx, &pb.SetChannelAccessRequest{EmployeeIds: []string{emp}, AllChannels: true,
						Level: pb.ChannelAccessLevel_CHANNEL_ACCESS_LEVEL_NO_ACCESS}))
				},
				"SetChannelAccess channels": func() error {
					return second(in.Directory.SetChannelAccess(ctx, &pb.SetChannelAccessRequest{AllEmployees: true, ChannelIds: []string{ch},
						Level: pb.ChannelAccessLevel_CHANNEL_ACCESS_LEVEL_NO_ACCESS}))
				},
				"SetDefaultOutgoingChannel employee": func() error {
					return second(in.Directory.SetDefaultOutgoingChannel(ctx, &pb.SetDefaultOutgoingChannelRequest{EmployeeId: emp}))
				},
				"SetDefaultOutgoingChannel channel": func() error {
					return second(in.Directory.SetDefaultOutgoingChannel(ctx, &pb.SetDefaultOutgoingChannelRequest{
						EmployeeId: intruderCo.Employees["Bruce Wayne"], ChannelId: ch}))
				},
				"RevokeApiKey": func() error {
					return second(in.Account.RevokeApiKey(ctx, &pb.RevokeApiKeyRequest{ApiKeyId: key.ApiKey.Id}))
				},
				"UpdateApiKey": func() error {
					limit := uint32(1)
					return second(in.Account.UpdateApiKey(ctx, &pb.UpdateApiKeyRequest{ApiKeyId: key.ApiKey.Id, RateLimit: &limit}))
				},
				"CreateEmployeeToken": func() error {
					return second(in.Account.CreateEmployeeToken(ctx, &pb.CreateEmployeeTokenRequest{EmployeeId: emp, Name: "x"}))
				},
				"RevokeEmployeeToken": func() error {
					return second(in.Account.RevokeEmployeeToken(ctx, &pb.RevokeEmployeeTokenRequest{EmployeeTokenId: tok.EmployeeToken.Id}))
				},
				"RouteIncomingMessage": func() error {
					return second(in.Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{ChannelId: ch,
						Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: Phone(3)}, Content: &pb.MessageContent{Text: "x"}, GatewayMessageId: GatewayID()}))
				},
				"RouteOutgoingMessage chat": func() error {
					return second(in.Routing.RouteOutgoingMessage(ctx, &pb.RouteOutgoingMessageRequest{EmployeeId: intruderCo.Employees["Bruce Wayne"],
						Target: &pb.RouteOutgoingMessageRequest_ChatId{ChatId: routed.Chat.Id}, Content: &pb.MessageContent{Text: "x"}}))
				},
				"RouteOutgoingMessage client": func() error {
					return second(in.Routing.RouteOutgoingMessage(ctx, &pb.RouteOutgoingMessageRequest{EmployeeId: intruderCo.Employees["Bruce Wayne"],
						Target: &pb.RouteOutgoingMessageRequest_ClientId{ClientId: routed.Client.Id}, Content: &pb.MessageContent{Text: "x"}}))
				},
				"RouteOutgoingMessage employee": func() error {
					return second(in.Routing.RouteOutgoingMessage(ctx, &pb.RouteOutgoingMessageRequest{EmployeeId: emp,
						Target: &pb.RouteOutgoingMessageRequest_ChatId{ChatId: intruderChat.Chat.Id}, Content: &pb.MessageContent{Text: "x"}}))
				},
				"RouteOutgoingMessage channel": func() error {
					return second(in.Routing.RouteOutgoingMessage(ctx, &pb.RouteOutgoingMessageRequest{EmployeeId: intruderCo.Employees["Bruce Wayne"],
						Target: &pb.RouteOutgoingMessageRequest_ClientId{ClientId: intruderChat.Client.Id}, ChannelId: ch, Content: &pb.MessageContent{Text: "x"}}))
				},
				"CheckAccess chat": func() error {
					return second(in.Routing.CheckAccess(ctx, &pb.CheckAccessRequest{EmployeeId: intruderCo.Employees["Bruce Wayne"], ChatId: routed.Chat.Id}))
				},
				"CheckAccess employee": func() error {
					return second(in.Routing.CheckAccess(ctx, &pb.CheckAccessRequest{EmployeeId: emp, ChatId: intruderChat.Chat.Id}))
				},
				"CheckAccess channel and client": func() error {
					return second(in.Routing.CheckAccess(ctx, &pb.CheckAccessRequest{EmployeeId: intruderCo.Employees["Bruce Wayne"], ChannelId: ch, ClientId: intruderChat.Client.Id}))
				},
				"ListVisibleChats": func() error {
					return second(in.Routing.ListVisibleChats(ctx, &pb.ListVisibleChatsRequest{EmployeeId: emp}))
				},
				"ListVisibleChats channel": func() error {
					return second(in.Routing.ListVisibleChats(ctx, &pb.ListVisibleChatsRequest{EmployeeId: intruderCo.Employees["Bruce Wayne"], ChannelId: ch}))
				},
				"ListChatMessages": func() error {
					return second(in.Routing.ListChatMessages(ctx, &pb.ListChatMessagesRequest{ChatId: routed.Chat.Id}))
				},
				"AssignResponsible chat": func() error {
					return second(in.Routing.AssignResponsible(ctx, &pb.AssignResponsibleRequest{ChatId: routed.Chat.Id, EmployeeId: intruderCo.Employees["Bruce Wayne"]}))
				},
				"AssignResponsible employee": func() error {
					return second(in.Routing.AssignResponsible(ctx, &pb.AssignResponsibleRequest{ChatId: intruderChat.Chat.Id, EmployeeId: emp}))
				},
				"CloseDeal": func() error {
					return second(in.Routing.CloseDeal(ctx, &pb.CloseDealRequest{DealId: routed.Deal.Id, Outcome: pb.DealOutcome_DEAL_OUTCOME_LOST}))
				},
			}
			for name, call := range notFound {
				t.Run(p.String()+"/"+name, func(t *testing.T) { WantCode(t, call(), connect.CodeNotFound) })
			}

			// References inside a settings document are validation errors.
			s, err := in.Integration.GetIntegrationSettings(ctx, &pb.GetIntegrationSettingsRequest{})
			NoErr(t, err)
			doc := s.Settings
			doc.Channels = append(doc.Channels, &pb.ChannelSettings{ChannelId: ch})
			doc.Channels[0].Members = append(doc.Channels[0].Members, &pb.ChannelMember{EmployeeId: emp})
			_, err = in.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: doc})
			WantViolations(t, err, "settings.channels[2].channel_id")

			// Lists show only the caller's own things.
			_, err = in.Account.ListEmployeeTokens(ctx, &pb.ListEmployeeTokensRequest{EmployeeId: emp})
			WantCode(t, err, connect.CodeNotFound)
			_, err = in.Account.ListEmployeeTokens(ctx, &pb.ListEmployeeTokensRequest{EmployeeId: "987654"})
			WantCode(t, err, connect.CodeNotFound)
			toks, err := in.Account.ListEmployeeTokens(ctx, &pb.ListEmployeeTokensRequest{})
			NoErr(t, err)
			emps, err := in.Directory.ListEmployees(ctx, &pb.ListEmployeesRequest{IncludeDeactivated: true})
			NoErr(t, err)
			chs, err := in.Directory.ListChannels(ctx, &pb.ListChannelsRequest{})
			NoErr(t, err)
			keys, err := in.Account.ListApiKeys(ctx, &pb.ListApiKeysRequest{})
			NoErr(t, err)
			if len(toks.EmployeeTokens) != 1 || toks.EmployeeTokens[0].EmployeeId != intruderCo.Employees["Bruce Wayne"] || len(emps.Employees) != 6 || len(chs.Channels) != 2 || len(keys.ApiKeys) != 1 {
				t.Fatalf("intruder sees foreign data: tokens %v, employees %d, channels %d, keys %d",
					toks.EmployeeTokens, len(emps.Employees), len(chs.Channels), len(keys.ApiKeys))
			}
			for _, e := range emps.Employees {
				if e.Id == emp {
					t.Fatal("intruder lists the victim's employee")
				}
			}
		}
		// Account-wide RPCs act on the caller's own account only.
		in := env.Clients(otherKey, client.Connect)
		_, err = in.Integration.SendTestMessage(ctx, &pb.SendTestMessageRequest{})
		NoErr(t, err)
		_, err = in.Integration.RemoveTestClient(ctx, &pb.RemoveTestClientRequest{})
		NoErr(t, err)
		_, err = in.Integration.DeleteIntegration(ctx, &pb.DeleteIntegrationRequest{})
		NoErr(t, err)
		_, err = in.Integration.RefreshFromCrm(ctx, &pb.RefreshFromCrmRequest{})
		WantCode(t, err, connect.CodeFailedPrecondition) // its own integration is gone now

		after := snapshot(t, victimAdmin)
		msgs, err := victimAdmin.Routing.ListChatMessages(ctx, &pb.ListChatMessagesRequest{ChatId: routed.Chat.Id})
		NoErr(t, err)
		if !proto.Equal(msgs, victimMsgs) {
			t.Fatal("the victim's chat changed")
		}
		chk, err := victimAdmin.Routing.CheckAccess(ctx, &pb.CheckAccessRequest{EmployeeId: victim.Employees["Bruce Wayne"], ChatId: routed.Chat.Id})
		NoErr(t, err)
		if !chk.Access.CanWrite {
			t.Fatal("the victim's client changed hands")
		}
		for i := range before {
			if !proto.Equal(before[i], after[i]) {
				t.Fatalf("the victim's data changed:\n%v\n%v", before[i], after[i])
			}
		}
		// The victim's credentials still work.
		if _, err := env.Clients(key.Secret, client.Connect).Account.GetAccount(ctx, &pb.GetAccountRequest{}); err != nil {
			t.Fatalf("victim key: %v", err)
		}
		if _, err := env.Clients(tok.Secret, client.Connect).Account.GetAccount(ctx, &pb.GetAccountRequest{}); err != nil {
			t.Fatalf("victim token: %v", err)
		}
	})
}

func second[T any](_ T, err error) error { return err }
