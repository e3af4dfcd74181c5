package crmsync_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent/deal"
	"github.com/switchboardhq/switchboard/server/crm/pipedrive/pdfake"
	"github.com/switchboardhq/switchboard/server/ids"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// TestPipedriveWebhookPassword: what the system suite (TestCRMSystem)
// does not cover for Pipedrive. The company's webhooks are held to the
// HTTP Basic password of the first one: a webhook with another password,
// or with none, is refused and changes nothing.
func TestPipedriveWebhookPassword(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		s := connectSystem(t, b, vendor{"pipedrive", startPipedrive}, suiteOutbox)
		f := s.fake.(pdFake).f
		d := Route(t, s.admin, s.channel, Phone(61), "hello")
		s.waitLinked(t, 1, 20*time.Second)
		crmID := atoi(s.crmDeal(t, d.Deal.Id).ID)
		hook := s.env.Server.URL + s.res.WebhookUrl

		// The first webhook sets the password: the deal is won here.
		s.fake.BindWebhook(t, hook)
		NoErr(t, f.CloseDeal(ctx, crmID, true))
		waitFor(t, "the deal won in the CRM is won here", 10*time.Second, func() bool {
			dl, err := s.env.Store.Ent.Deal.Get(s.actx, ids.Value(d.Deal.Id))
			return err == nil && dl.State == deal.StateWON
		})

		// Then another password, and none, are refused.
		f.Unsubscribe()
		f.Subscribe(pdfake.Subscription{URL: hook, Entity: "deal", User: "switchboard", Password: "not-the-password"})
		f.Subscribe(pdfake.Subscription{URL: hook, Entity: "deal"})
		if err := f.CloseDeal(ctx, crmID, false); err == nil {
			t.Fatal("webhooks with another password and with none were taken")
		}
		got := f.Deliveries()
		if len(got) != 3 || got[0].Status != http.StatusOK || got[1].Status != http.StatusForbidden || got[2].Status != http.StatusForbidden {
			t.Fatalf("deliveries %+v: want the first answered 200, the others 403", got)
		}
		dl, err := s.env.Store.Ent.Deal.Get(s.actx, ids.Value(d.Deal.Id))
		NoErr(t, err)
		if dl.State != deal.StateWON {
			t.Fatalf("a refused webhook changed the deal: %s", dl.State)
		}

		// The company's own webhooks still go through.
		f.Unsubscribe()
		s.fake.BindWebhook(t, hook)
		NoErr(t, f.ChangeDealOwner(ctx, crmID, 3))
	})
}
