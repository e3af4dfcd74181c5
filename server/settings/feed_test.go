package settings_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/client"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// TestClientFeed: the NATIVE CRM's feed of a client, by save_messages:
// an entry per message (paged, newest first), one per ended hour, none.
func TestClientFeed(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		wa := co.Channels["WhatsApp Sales"]
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			s.Account.SaveMessages = pb.SaveMessagesMode_SAVE_MESSAGES_MODE_EACH_MESSAGE
		})
		var d *pb.RoutingDecision
		for i := 0; i < 3; i++ {
			d = Route(t, admin, wa, Phone(1), fmt.Sprintf("question %d", i))
		}
		// Media go as links.
		_, err := admin.Routing.RouteOutgoingMessage(ctx, &pb.RouteOutgoingMessageRequest{EmployeeId: d.Client.ResponsibleEmployeeId,
			Target: &pb.RouteOutgoingMessageRequest_ChatId{ChatId: d.Chat.Id}, Content: &pb.MessageContent{Text: "our answer",
				Attachments: []*pb.Attachment{{Url: "https://files.example.com/sofa.jpg", MimeType: "image/jpeg"}}}})
		NoErr(t, err)

		page, err := admin.Integration.ListClientFeed(ctx, &pb.ListClientFeedRequest{ClientId: d.Client.Id, PageSize: 2})
		NoErr(t, err)
		if len(page.Entries) != 2 || !strings.Contains(page.Entries[0].Text, "Bruce Wayne: our answer\nhttps://files.example.com/sofa.jpg") ||
			!strings.Contains(page.Entries[1].Text, "question 2") || page.NextBefore == nil {
			t.Fatalf("first page %v", page)
		}
		rest, err := admin.Integration.ListClientFeed(ctx, &pb.ListClientFeedRequest{ClientId: d.Client.Id, PageSize: 2, Before: page.NextBefore})
		NoErr(t, err)
		if len(rest.Entries) != 2 || !strings.Contains(rest.Entries[1].Text, "question 0") || rest.NextBefore != nil {
			t.Fatalf("second page %v", rest)
		}

		// HOURLY: the running hour is not in the feed yet; an ended one is,
		// as one entry.
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			s.Account.SaveMessages = pb.SaveMessagesMode_SAVE_MESSAGES_MODE_HOURLY
		})
		actx := tenant.NewContext(ctx, env.AccountID)
		earlier := time.Now().Add(-3 * time.Hour).Truncate(time.Hour).Add(10 * time.Minute)
		for i := 0; i < 2; i++ {
			NoErr(t, env.Store.Ent.Message.Create().SetChatID(ids.Value(d.Chat.Id)).SetDirection("IN").
				SetText(fmt.Sprintf("earlier %d", i)).SetCreatedAt(earlier.Add(time.Duration(i)*time.Minute)).Exec(actx))
		}
		hourly, err := admin.Integration.ListClientFeed(ctx, &pb.ListClientFeedRequest{ClientId: d.Client.Id})
		NoErr(t, err)
		if len(hourly.Entries) != 1 || hourly.Entries[0].MessageCount != 2 || !strings.Contains(hourly.Entries[0].Text, "earlier 0") ||
			hourly.Entries[0].EndTime.AsTime().Sub(hourly.Entries[0].StartTime.AsTime()) != time.Hour {
			t.Fatalf("hourly feed %v", hourly)
		}

		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			s.Account.SaveMessages = pb.SaveMessagesMode_SAVE_MESSAGES_MODE_NONE
		})
		none, err := admin.Integration.ListClientFeed(ctx, &pb.ListClientFeedRequest{ClientId: d.Client.Id})
		NoErr(t, err)
		if len(none.Entries) != 0 {
			t.Fatalf("NONE feed %v", none)
		}

		_, otherKey := env.NewAccount("Other")
		_, err = env.Clients(otherKey, client.Connect).Integration.ListClientFeed(ctx, &pb.ListClientFeedRequest{ClientId: d.Client.Id})
		WantCode(t, err, connect.CodeNotFound)
	})
}
