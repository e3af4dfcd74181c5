package crmsync_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/crm/zoho/zohofake"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// TestZohoBudgetPausesTheOutbox: when Zoho's daily credits are spent down
// to the reserve, the writes wait (pending, none failed or dropped) and the
// sync state shows the budget and that the writes are paused.
func TestZohoBudgetPausesTheOutbox(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		f := zohofake.Start()
		t.Cleanup(f.Close)
		env := New(t, b, Options{Configure: quickOutbox})
		admin := env.Admin()
		cred := strings.TrimSuffix(f.Credential(), "}") + `,"daily_credits":40}`
		res, err := admin.Integration.ConnectCrm(ctx, &pb.ConnectCrmRequest{CrmKind: pb.CrmKind_CRM_KIND_ZOHO, BaseUrl: f.URL, Token: cred})
		NoErr(t, err)
		// Without its public URL the server cannot tell Zoho where to send
		// its changes, and says how to mend it.
		if len(res.Refresh.Findings) != 1 || !strings.Contains(res.Refresh.Findings[0], "--public-url") {
			t.Fatalf("findings %v, want one naming --public-url", res.Refresh.Findings)
		}
		state, err := admin.Integration.GetCrmSyncState(ctx, &pb.GetCrmSyncStateRequest{})
		NoErr(t, err)
		if state.Budget == nil || state.Budget.Limit != 40 || state.Budget.Used == 0 || state.Budget.Paused {
			t.Fatalf("budget after connecting: %+v", state.Budget)
		}

		list, err := admin.Directory.ListEmployees(ctx, &pb.ListEmployeesRequest{})
		NoErr(t, err)
		ch, err := admin.Directory.CreateChannel(ctx, &pb.CreateChannelRequest{Kind: pb.ChannelKind_CHANNEL_KIND_WHATSAPP, Name: "WhatsApp"})
		NoErr(t, err)
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			ChannelSettings(s, ch.Channel.Id).Members = []*pb.ChannelMember{Member(list.Employees[0].Id, Rep, true, true, 1)}
		})
		const n = 20
		for i := range n {
			_, err := admin.Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{ChannelId: ch.Channel.Id,
				Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: Phone(900 + i)}, Content: &pb.MessageContent{Text: "hi"},
				GatewayMessageId: fmt.Sprintf("zb-%d", i)})
			NoErr(t, err)
		}
		waitFor(t, "the budget pauses the writes", 30*time.Second, func() bool {
			state, err = admin.Integration.GetCrmSyncState(ctx, &pb.GetCrmSyncStateRequest{})
			return err == nil && state.Budget.GetPaused()
		})
		if state.Budget.Used > state.Budget.Limit || state.Budget.ResetsTime == nil || !state.Budget.ResetsTime.AsTime().After(time.Now()) {
			t.Fatalf("paused budget: %+v", state.Budget)
		}
		if len(state.Failed) != 0 || len(state.Pending) == 0 {
			t.Fatalf("paused writes: %d pending, %d failed (%v); want them all waiting", len(state.Pending), len(state.Failed), state.Failed)
		}
	})
}
