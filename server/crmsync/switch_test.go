package crmsync_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent/contact"
	"github.com/switchboardhq/switchboard/ent/deal"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/app"
	"github.com/switchboardhq/switchboard/server/crm/bitrix24/bxfake"
	"github.com/switchboardhq/switchboard/server/crm/pipedrive/pdfake"
	"github.com/switchboardhq/switchboard/server/crm/zoho/zohofake"
	"github.com/switchboardhq/switchboard/server/crmsync"
	"github.com/switchboardhq/switchboard/server/ids"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// TestConnectAnotherCRM: the ids a CRM gave the account's contacts and
// deals are that CRM's. Connecting the same CRM again keeps them;
// connecting another one (another kind, or another company of the same
// kind, whose ids count from the same numbers) forgets them, so no write
// or webhook of the new CRM reaches a client through an id of the old one.
func TestConnectAnotherCRM(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		s := connectSystem(t, b, vendor{"pipedrive", startPipedrive}, suiteOutbox)
		Route(t, s.admin, s.channel, Phone(71), "hello")
		s.waitLinked(t, 1, 20*time.Second)
		linked := func() (deals, contacts int) {
			t.Helper()
			d, err := s.env.Store.Ent.Deal.Query().Where(deal.CrmIDNotNil()).Count(s.actx)
			NoErr(t, err)
			c, err := s.env.Store.Ent.Contact.Query().Where(contact.CrmIDNotNil()).Count(s.actx)
			NoErr(t, err)
			return d, c
		}

		// The same company again (a new token, say): the links stay.
		_, err := s.admin.Integration.ConnectCrm(ctx, s.fake.Connect())
		NoErr(t, err)
		if d, c := linked(); d != 1 || c != 1 {
			t.Fatalf("after connecting the same CRM again: %d deals and %d contacts linked, want 1 and 1", d, c)
		}

		// Another company of the same CRM.
		other := pdfake.Start()
		t.Cleanup(other.Close)
		_, err = s.admin.Integration.ConnectCrm(ctx, &pb.ConnectCrmRequest{CrmKind: pb.CrmKind_CRM_KIND_PIPEDRIVE, BaseUrl: other.URL, Token: other.Token()})
		NoErr(t, err)
		if d, c := linked(); d != 0 || c != 0 {
			t.Fatalf("after connecting another company: %d deals and %d contacts keep the old one's ids", d, c)
		}

		// Another CRM.
		s2 := connectSystem(t, b, vendor{"pipedrive", startPipedrive}, suiteOutbox)
		Route(t, s2.admin, s2.channel, Phone(72), "hello")
		s2.waitLinked(t, 1, 20*time.Second)
		bx := bxfake.Start()
		t.Cleanup(bx.Close)
		_, err = s2.admin.Integration.ConnectCrm(ctx, &pb.ConnectCrmRequest{CrmKind: pb.CrmKind_CRM_KIND_BITRIX24, BaseUrl: bx.URL, Token: bx.WebhookURL()})
		NoErr(t, err)
		d, err := s2.env.Store.Ent.Deal.Query().Where(deal.CrmIDNotNil()).Count(s2.actx)
		NoErr(t, err)
		c, err := s2.env.Store.Ent.Contact.Query().Where(contact.CrmIDNotNil()).Count(s2.actx)
		NoErr(t, err)
		if d != 0 || c != 0 {
			t.Fatalf("after connecting Bitrix24: %d deals and %d contacts keep Pipedrive's ids", d, c)
		}
	})
}

// TestReconnectAnotherPortal: HubSpot and Zoho answer every account at
// one address; reconnecting there with another portal's (org's)
// credential is another CRM, and the ids go. The same one again keeps
// them.
func TestReconnectAnotherPortal(t *testing.T) {
	for _, v := range []struct {
		vendor
		other func(f crmFake)
	}{
		{vendor{"hubspot", startHubSpot}, func(f crmFake) { f.(hubFake).f.SetPortalID(90210) }},
		{vendor{"zoho", startZoho}, func(f crmFake) { f.(zohoFake).f.SetOrgID("5725767000009999001") }},
	} {
		t.Run(v.name, func(t *testing.T) {
			ForEachBackend(t, func(t *testing.T, b Backend) {
				ctx := context.Background()
				s := connectSystem(t, b, v.vendor, suiteOutbox)
				Route(t, s.admin, s.channel, Phone(73), "hello")
				s.waitLinked(t, 1, 20*time.Second)
				count := func() int {
					n, err := s.env.Store.Ent.Deal.Query().Where(deal.CrmIDNotNil()).Count(s.actx)
					NoErr(t, err)
					return n
				}
				_, err := s.admin.Integration.ConnectCrm(ctx, s.fake.Connect())
				NoErr(t, err)
				if n := count(); n != 1 {
					t.Fatalf("the same account again: %d deals linked, want 1", n)
				}
				v.other(s.fake)
				_, err = s.admin.Integration.ConnectCrm(ctx, s.fake.Connect())
				NoErr(t, err)
				if n := count(); n != 0 {
					t.Fatalf("another account at the same address: %d deals keep the old one's ids", n)
				}
			})
		})
	}
}

// TestReconnectClosesZohoChannel: reconnecting Zoho, and unlinking it,
// closes the notification channel the replaced connection opened; a
// notification still carrying its token is refused and changes nothing.
func TestReconnectClosesZohoChannel(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		f := zohofake.Start()
		t.Cleanup(f.Close)
		env := New(t, b, Options{Configure: func(o *app.Options) { suiteOutbox(o); o.PublicURL = "http://switchboard.test" }})
		admin := env.Admin()
		z := zohoFake{f}
		first, err := admin.Integration.ConnectCrm(ctx, z.Connect())
		NoErr(t, err)
		if n := len(f.Channels()); n != 1 {
			t.Fatalf("%d channels after connecting, want 1", n)
		}
		old := f.Channels()[0]
		second, err := admin.Integration.ConnectCrm(ctx, z.Connect())
		NoErr(t, err)
		chs := f.Channels()
		if len(chs) != 1 || chs[0].ID == old.ID || chs[0].Token == old.Token {
			t.Fatalf("channels after reconnecting: %+v; want only a new one (the old was %s)", chs, old.ID)
		}
		// A notification of the old channel, to the old key or the new one.
		for _, url := range []string{env.Server.URL + first.WebhookUrl[len("http://switchboard.test"):], env.Server.URL + second.WebhookUrl[len("http://switchboard.test"):]} {
			body := `{"module":"Deals","ids":["` + zohofake.SeedDeal + `"],"operation":"update","channel_id":"` + old.ID + `","token":"` + old.Token + `"}`
			resp, err := http.Post(url, "application/json", strings.NewReader(body))
			NoErr(t, err)
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				t.Fatalf("a notification with the old channel's token to %s: %s, want refused", url, resp.Status)
			}
		}
		_, err = admin.Integration.DeleteIntegration(ctx, &pb.DeleteIntegrationRequest{})
		NoErr(t, err)
		if n := len(f.Channels()); n != 0 {
			t.Fatalf("%d channels after unlinking Zoho, want 0", n)
		}
	})
}

// TestLateWriteOfTheOldCRM: a new client's job still waiting for the old
// CRM's answer when the account connects another CRM links nothing when
// the answer comes: the ids are the old CRM's.
func TestLateWriteOfTheOldCRM(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		s := connectSystem(t, b, vendor{"pipedrive", startPipedrive}, suiteOutbox)
		pd := s.fake.(pdFake).f
		pd.Inject(pdfake.Fault{Route: "POST /api/v2/deals", Delay: 2 * time.Second, Times: 1})
		d := Route(t, s.admin, s.channel, Phone(74), "hello")
		waitFor(t, "the job writes the person, then its deal", 10*time.Second, func() bool {
			return slices.Contains(pd.Calls(), "POST /api/v2/persons")
		})
		time.Sleep(300 * time.Millisecond) // the deal's answer is 2 s away
		bx := bxfake.Start()
		t.Cleanup(bx.Close)
		_, err := s.admin.Integration.ConnectCrm(ctx, &pb.ConnectCrmRequest{CrmKind: pb.CrmKind_CRM_KIND_BITRIX24, BaseUrl: bx.URL, Token: bx.WebhookURL()})
		NoErr(t, err)
		waitFor(t, "the old CRM's job ends", 20*time.Second, func() bool {
			var left int
			err := s.env.Store.DB.QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE kind = 'crm_new_client' AND state <> 'completed'`).Scan(&left)
			return err == nil && left == 0
		})
		if got := s.fake.Deals(crmsync.Marker(ids.Value(d.Deal.Id))); len(got) != 1 {
			t.Fatalf("the old CRM has %d deals for the client, want the 1 it made", len(got))
		}
		dl, err := s.env.Store.Ent.Deal.Get(s.actx, ids.Value(d.Deal.Id))
		NoErr(t, err)
		ct, err := s.env.Store.Ent.Contact.Get(s.actx, dl.ContactID)
		NoErr(t, err)
		if dl.CrmID != nil || ct.CrmID != nil {
			t.Fatalf("after the switch the client got the old CRM's ids: deal %v, contact %v", deref(dl.CrmID), deref(ct.CrmID))
		}
	})
}

func deref(p *string) string {
	if p == nil {
		return "none"
	}
	return *p
}
