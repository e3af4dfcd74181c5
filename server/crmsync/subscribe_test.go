package crmsync_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent/crmconnection"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/app"
	"github.com/switchboardhq/switchboard/server/crm/hubspot/hubfake"
	"github.com/switchboardhq/switchboard/server/crm/zoho/zohofake"
	"github.com/switchboardhq/switchboard/server/crmsync"
	"github.com/switchboardhq/switchboard/server/secrets"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// TestZohoSubscription: a server that knows its public URL opens Zoho's
// notification channel when connecting (Zoho has no page for it), so a
// deal given to another user in Zoho changes its responsible here; a
// channel about to lapse is renewed (the outbox does it every hour), and
// a notification with another token changes nothing.
func TestZohoSubscription(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		f := zohofake.Start()
		t.Cleanup(f.Close)
		// The public address Zoho is given: a proxy to the server, which
		// starts after its options are set.
		var target atomic.Pointer[url.URL]
		front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			httputil.NewSingleHostReverseProxy(target.Load()).ServeHTTP(w, r)
		}))
		t.Cleanup(front.Close)
		env := New(t, b, Options{Configure: func(o *app.Options) { quickOutbox(o); o.PublicURL = front.URL }})
		u, _ := url.Parse(env.Server.URL)
		target.Store(u)
		admin := env.Admin()

		res, err := admin.Integration.ConnectCrm(ctx, &pb.ConnectCrmRequest{CrmKind: pb.CrmKind_CRM_KIND_ZOHO, BaseUrl: f.URL, Token: f.Credential()})
		NoErr(t, err)
		if len(res.Refresh.Findings) != 0 {
			t.Fatalf("findings: %v", res.Refresh.Findings)
		}
		chs := f.Channels()
		if len(chs) != 1 || chs[0].NotifyURL != res.WebhookUrl || !strings.HasPrefix(res.WebhookUrl, front.URL) {
			t.Fatalf("channels %+v for webhook URL %s", chs, res.WebhookUrl)
		}
		actx := tenant.NewContext(ctx, env.AccountID)
		cc, err := env.Store.Ent.CrmConnection.Query().Only(actx)
		NoErr(t, err)
		if cc.SubscribedUntil == nil || cc.SubscribedUntil.Before(time.Now().Add(20*time.Hour)) {
			t.Fatalf("subscribed until %v", cc.SubscribedUntil)
		}

		// A new client's deal reaches Zoho; Zoho gives it to another user.
		list, err := admin.Directory.ListEmployees(ctx, &pb.ListEmployeesRequest{})
		NoErr(t, err)
		crmOf := map[string]string{}
		for _, e := range list.Employees {
			crmOf[e.Id] = e.CrmUserId
		}
		ch, err := admin.Directory.CreateChannel(ctx, &pb.CreateChannelRequest{Kind: pb.ChannelKind_CHANNEL_KIND_WHATSAPP, Name: "WhatsApp"})
		NoErr(t, err)
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			ChannelSettings(s, ch.Channel.Id).Members = []*pb.ChannelMember{
				Member(list.Employees[0].Id, Rep, true, true, 1), Member(list.Employees[1].Id, Rep, true, true, 1)}
		})
		d := Route(t, admin, ch.Channel.Id, Phone(4242), "hi")
		var crmDeal string
		waitFor(t, "the deal in Zoho", 30*time.Second, func() bool {
			dl, err := env.Store.Ent.Deal.Get(actx, atoi(d.Deal.Id))
			if err == nil && dl.CrmID != nil {
				crmDeal = *dl.CrmID
			}
			return crmDeal != ""
		})
		other := list.Employees[0].Id
		if d.Client.ResponsibleEmployeeId == other {
			other = list.Employees[1].Id
		}
		NoErr(t, f.SetDealOwner(crmDeal, crmOf[other]))
		NoErr(t, f.Notify(ctx, "Deals", "edit", crmDeal))
		waitFor(t, "Zoho's new owner responsible here", 20*time.Second, func() bool {
			c, err := env.Store.Ent.Contact.Get(actx, atoi(d.Client.Id))
			return err == nil && c.ResponsibleID != nil && itoa(*c.ResponsibleID) == other
		})

		// The channel lapses; a renewal due opens it again.
		f.CloseChannels()
		NoErr(t, env.Store.Ent.CrmConnection.UpdateOneID(cc.ID).SetSubscribedUntil(time.Now().Add(time.Hour)).Exec(actx))
		sealer, err := secrets.New(key)
		NoErr(t, err)
		syncer := crmsync.New(env.Store, crmsync.Options{Sealer: sealer, AllowAnyHost: true, PublicURL: front.URL}, nil)
		NoErr(t, syncer.RenewSubscriptions(ctx))
		if chs := f.Channels(); len(chs) != 1 || chs[0].NotifyURL != res.WebhookUrl {
			t.Fatalf("after renewal: %+v", chs)
		}
		cc, err = env.Store.Ent.CrmConnection.Query().Where(crmconnection.ID(cc.ID)).Only(actx)
		NoErr(t, err)
		if cc.SubscribedUntil.Before(time.Now().Add(20 * time.Hour)) {
			t.Fatalf("renewed until %v", cc.SubscribedUntil)
		}

		// Another channel's token is refused.
		f.OpenChannel(zohofake.Channel{ID: "77", Events: []string{"Deals.all"}, NotifyURL: res.WebhookUrl, Token: "someone-elses-token"})
		if err := f.Notify(ctx, "Deals", "edit", crmDeal); err == nil || !strings.Contains(err.Error(), "403") {
			t.Fatalf("a notification with another token: %v, want 403", err)
		}
	})
}

// blockWatch holds Zoho's watch call until released, so a test can make
// something happen while a connect is opening its channel.
type blockWatch struct {
	entered, release chan struct{}
	once             sync.Once
}

func (b *blockWatch) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/actions/watch") {
		b.once.Do(func() { close(b.entered); <-b.release })
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestSubscribeAfterReconnect: a Zoho connect whose channel opens after
// another connect replaced it records nothing on the connection that
// replaced it: a HubSpot connection is never taken for subscribed.
func TestSubscribeAfterReconnect(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		zo := zohofake.Start()
		t.Cleanup(zo.Close)
		hs := hubfake.Start()
		t.Cleanup(hs.Close)
		bw := &blockWatch{entered: make(chan struct{}), release: make(chan struct{})}
		env := New(t, b, Options{Configure: func(o *app.Options) {
			quickOutbox(o)
			o.PublicURL = "https://switchboard.example.com"
			o.CRMHTTP = &http.Client{Transport: bw}
		}})
		admin := env.Admin()
		done := make(chan error, 1)
		go func() {
			_, err := admin.Integration.ConnectCrm(ctx, &pb.ConnectCrmRequest{CrmKind: pb.CrmKind_CRM_KIND_ZOHO, BaseUrl: zo.URL, Token: zo.Credential()})
			done <- err
		}()
		select {
		case <-bw.entered:
		case err := <-done:
			t.Fatalf("the Zoho connect ended before opening its channel: %v", err)
		}
		_, err := admin.Integration.ConnectCrm(ctx, &pb.ConnectCrmRequest{CrmKind: pb.CrmKind_CRM_KIND_HUBSPOT, BaseUrl: hs.URL, Token: hs.Token()})
		NoErr(t, err)
		close(bw.release)
		NoErr(t, <-done)
		cc, err := env.Store.Ent.CrmConnection.Query().Only(tenant.NewContext(ctx, env.AccountID))
		NoErr(t, err)
		if cc.Kind != crmconnection.KindHUBSPOT || cc.SubscribedUntil != nil {
			t.Fatalf("after the HubSpot connect: %s subscribed until %v", cc.Kind, cc.SubscribedUntil)
		}
	})
}
