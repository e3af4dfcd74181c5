package app_test

import (
	"strings"
	"testing"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// TestLimitsCountCharacters: every length limit counts characters, as the
// contract says, not bytes: names at the limit in Cyrillic (two bytes a
// letter) or emoji (four) are taken, on both stores, never answered
// INTERNAL.
func TestLimitsCountCharacters(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		cy := func(n int) string { return strings.Repeat("Я", n) }
		emoji := func(n int) string { return strings.Repeat("😀", n) }

		_, err := admin.Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{ChannelId: co.Channels["WhatsApp Sales"],
			Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: Phone(1)}, SenderName: cy(200),
			Content: &pb.MessageContent{Text: "x"}, GatewayMessageId: emoji(200)})
		NoErr(t, err)
		ch, err := admin.Directory.CreateChannel(ctx, &pb.CreateChannelRequest{Kind: pb.ChannelKind_CHANNEL_KIND_TELEGRAM, Name: cy(200)})
		NoErr(t, err)
		name := emoji(200)
		_, err = admin.Directory.UpdateChannel(ctx, &pb.UpdateChannelRequest{ChannelId: ch.Channel.Id, Name: &name})
		NoErr(t, err)
		_, err = admin.Account.CreateApiKey(ctx, &pb.CreateApiKeyRequest{Name: emoji(100)})
		NoErr(t, err)
		_, err = admin.Account.CreateEmployeeToken(ctx, &pb.CreateEmployeeTokenRequest{EmployeeId: co.Employees["Tony Stark"], Name: cy(100)})
		NoErr(t, err)
		_, err = admin.Directory.CreateEmployee(ctx, &pb.CreateEmployeeRequest{Name: cy(200)})
		NoErr(t, err)
	})
}
