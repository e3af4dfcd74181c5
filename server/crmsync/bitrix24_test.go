package crmsync_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent/deal"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/bitrix24/bxfake"
	"github.com/switchboardhq/switchboard/server/crmsync"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// TestBitrix24EndToEnd: connecting with the portal's webhook URL stores the
// portal in clear and the secret sealed (a webhook URL where the address
// goes is refused without repeating it); new clients routed at once while
// the portal answers 503 and loses answers each get one contact and one
// deal with the responsible chosen here; a deal won in the portal is won
// here, and a responsible changed there changes here; a webhook signed
// with another application token changes nothing.
func TestBitrix24EndToEnd(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		f := bxfake.Start(bxfake.WithBucket(1000, 1000))
		t.Cleanup(f.Close)
		env := New(t, b, Options{Configure: quickOutbox})
		admin := env.Admin()

		_, err := admin.Integration.ConnectCrm(ctx, &pb.ConnectCrmRequest{CrmKind: pb.CrmKind_CRM_KIND_BITRIX24, BaseUrl: f.WebhookURL(), Token: "x"})
		WantViolations(t, err, "base_url")
		if strings.Contains(err.Error(), bxfake.DefaultSecret) {
			t.Fatalf("the refusal repeats the secret: %v", err)
		}
		res, err := admin.Integration.ConnectCrm(ctx, &pb.ConnectCrmRequest{CrmKind: pb.CrmKind_CRM_KIND_BITRIX24, BaseUrl: f.URL, Token: f.WebhookURL()})
		NoErr(t, err)
		if got := res.Settings.CrmConnection.GetBaseUrl(); got != f.URL {
			t.Fatalf("stored address %q, want the portal's %q", got, f.URL)
		}
		actx := tenant.NewContext(ctx, env.AccountID)
		cc, err := env.Store.Ent.CrmConnection.Query().Only(actx)
		NoErr(t, err)
		if strings.Contains(string(cc.TokenSealed), bxfake.DefaultSecret) || strings.Contains(cc.BaseURL, bxfake.DefaultSecret) {
			t.Fatal("the webhook's secret is stored in clear")
		}

		emps := map[string]string{}  // CRM user → employee
		crmOf := map[string]string{} // employee → CRM user
		list, err := admin.Directory.ListEmployees(ctx, &pb.ListEmployeesRequest{})
		NoErr(t, err)
		for _, e := range list.Employees {
			emps[e.CrmUserId], crmOf[e.Id] = e.Id, e.CrmUserId
		}
		if len(emps) != 5 {
			t.Fatalf("%d active employees from the portal, want 5", len(emps))
		}
		ch, err := admin.Directory.CreateChannel(ctx, &pb.CreateChannelRequest{Kind: pb.ChannelKind_CHANNEL_KIND_WHATSAPP, Name: "WhatsApp"})
		NoErr(t, err)
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			ChannelSettings(s, ch.Channel.Id).Members = []*pb.ChannelMember{
				Member(emps["2"], Rep, true, true, 1), Member(emps["3"], Rep, true, true, 1), Member(emps["5"], Rep, true, true, 1),
			}
		})
		f.Inject(bxfake.Fault{Method: "batch", Status: 503, Times: 3})
		f.Inject(bxfake.Fault{Method: "batch", DropAfterCommit: true, Times: 2})

		const n = 12
		decisions := make([]*pb.RoutingDecision, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := admin.Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{ChannelId: ch.Channel.Id,
					Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: Phone(700 + i)}, Content: &pb.MessageContent{Text: "hi"},
					GatewayMessageId: fmt.Sprintf("bx-%d", i)})
				if err != nil {
					t.Errorf("route %d: %v", i, err)
					return
				}
				decisions[i] = r.Decision
			}()
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		waitFor(t, "every deal is in the portal", 60*time.Second, func() bool {
			linked, err := env.Store.Ent.Deal.Query().Where(deal.CrmIDNotNil()).Count(actx)
			return err == nil && linked == n
		})
		for _, d := range decisions {
			marker := crmsync.Marker(ids.Value(d.Deal.Id))
			var found []bxfake.Deal
			for _, bd := range f.Deals() {
				if crm.HasMarker(bd.Title, marker) {
					found = append(found, bd)
				}
			}
			if len(found) != 1 {
				t.Fatalf("deal %s: %d deals in the portal", d.Deal.Id, len(found))
			}
			if want := crmOf[d.Client.ResponsibleEmployeeId]; strconv.FormatInt(found[0].AssignedBy, 10) != want {
				t.Fatalf("deal %s: portal responsible %d, here %s", d.Deal.Id, found[0].AssignedBy, want)
			}
		}
		if got := len(f.Deals()); got != n+1 { // and the seed's deal
			t.Fatalf("%d deals in the portal for %d new clients", got, n)
		}

		// The portal's outgoing webhook reaches this server.
		f.BindEvent("ONCRMDEALUPDATE", env.Server.URL+res.WebhookUrl)
		first := decisions[0]
		dl, err := env.Store.Ent.Deal.Get(actx, ids.Value(first.Deal.Id))
		NoErr(t, err)
		portalDeal, _ := strconv.ParseInt(*dl.CrmID, 10, 64)
		to := emps["5"]
		if first.Client.ResponsibleEmployeeId == to {
			to = emps["3"]
		}
		toUser, _ := strconv.ParseInt(crmOf[to], 10, 64)
		NoErr(t, f.ChangeDealResponsible(ctx, portalDeal, toUser))
		waitFor(t, "the portal's new responsible is the client's here", 20*time.Second, func() bool {
			c, err := env.Store.Ent.Contact.Get(actx, ids.Value(first.Client.Id))
			return err == nil && c.ResponsibleID != nil && ids.Format(*c.ResponsibleID) == to
		})
		NoErr(t, f.CloseDeal(ctx, portalDeal, true))
		waitFor(t, "the deal won in the portal is won here", 20*time.Second, func() bool {
			d, err := env.Store.Ent.Deal.Get(actx, dl.ID)
			return err == nil && d.State == deal.StateWON
		})

		// Another portal's token: refused, nothing changes.
		second := decisions[1]
		dl2, err := env.Store.Ent.Deal.Get(actx, ids.Value(second.Deal.Id))
		NoErr(t, err)
		other := bxfake.Start(bxfake.WithApplicationToken("not-the-portals-token"))
		t.Cleanup(other.Close)
		other.BindEvent("ONCRMDEALUPDATE", env.Server.URL+res.WebhookUrl)
		_ = other.SendEvent(ctx, "ONCRMDEALUPDATE", 1)
		got := other.Deliveries()
		if len(got) != 1 || got[0].Status != 403 {
			t.Fatalf("a webhook with another token: %+v, want one answered 403", got)
		}
		d2, err := env.Store.Ent.Deal.Get(actx, dl2.ID)
		NoErr(t, err)
		if d2.State != dl2.State {
			t.Fatalf("a refused webhook changed the deal: %s → %s", dl2.State, d2.State)
		}
	})
}
