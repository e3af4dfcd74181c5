package crmsync_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/client"
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

// TestZohoBudgetAcrossReplicas: two servers on one PostgreSQL share the
// org's daily credits: together they spend exactly the budget less its
// reserve, not that much each, then wait (nothing failed or dropped), and
// each shows the credits both spent.
func TestZohoBudgetAcrossReplicas(t *testing.T) {
	b := Postgres(t)
	ctx := context.Background()
	f := zohofake.Start()
	t.Cleanup(f.Close)
	env := New(t, b, Options{Configure: quickOutbox})
	other := env.Replica(Options{Configure: quickOutbox})
	admin := env.Admin()
	onOther := client.New(other.URL, env.AdminKey, client.Connect, nil)
	const credits, stop = 60, 54 // 90 %
	cred := strings.TrimSuffix(f.Credential(), "}") + fmt.Sprintf(`,"daily_credits":%d}`, credits)
	_, err := admin.Integration.ConnectCrm(ctx, &pb.ConnectCrmRequest{CrmKind: pb.CrmKind_CRM_KIND_ZOHO, BaseUrl: f.URL, Token: cred})
	NoErr(t, err)

	list, err := admin.Directory.ListEmployees(ctx, &pb.ListEmployeesRequest{})
	NoErr(t, err)
	ch, err := admin.Directory.CreateChannel(ctx, &pb.CreateChannelRequest{Kind: pb.ChannelKind_CHANNEL_KIND_WHATSAPP, Name: "WhatsApp"})
	NoErr(t, err)
	UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
		ChannelSettings(s, ch.Channel.Id).Members = []*pb.ChannelMember{Member(list.Employees[0].Id, Rep, true, true, 1)}
	})
	const n = 30
	for i := range n {
		c := admin
		if i%2 == 1 {
			c = onOther
		}
		_, err := c.Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{ChannelId: ch.Channel.Id,
			Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: Phone(700 + i)}, Content: &pb.MessageContent{Text: "hi"},
			GatewayMessageId: fmt.Sprintf("zr-%d", i)})
		NoErr(t, err)
	}
	states := func() (a, o *pb.GetCrmSyncStateResponse) {
		a, err := admin.Integration.GetCrmSyncState(ctx, &pb.GetCrmSyncStateRequest{})
		NoErr(t, err)
		o, err = onOther.Integration.GetCrmSyncState(ctx, &pb.GetCrmSyncStateRequest{})
		NoErr(t, err)
		return a, o
	}
	waitFor(t, "both servers pause the writes", 60*time.Second, func() bool {
		a, o := states()
		return a.Budget.GetPaused() && o.Budget.GetPaused()
	})
	// Calls that took their credits before the pause still wait for
	// their slot of the rate limit: they land, and no more follow.
	waitFor(t, "the calls in flight land", 20*time.Second, func() bool { return f.CreditsUsed() >= stop })
	time.Sleep(2 * time.Second)
	if got := f.CreditsUsed(); got != stop {
		a, o := states()
		t.Fatalf("the two servers spent %d credits of the org's %d, want exactly %d (its 90 %%); they say %+v, %+v", got, credits, stop, a.Budget, o.Budget)
	}
	a, o := states()
	for name, st := range map[string]*pb.GetCrmSyncStateResponse{"first": a, "second": o} {
		if st.Budget.Used != stop || st.Budget.Limit != credits || st.Budget.ResetsTime == nil {
			t.Errorf("the %s server's budget %+v: want %d of %d used, both servers' spending", name, st.Budget, stop, credits)
		}
		if len(st.Failed) != 0 || len(st.Pending) == 0 {
			t.Errorf("the %s server: %d pending, %d failed; want the writes waiting", name, len(st.Pending), len(st.Failed))
		}
	}
}
