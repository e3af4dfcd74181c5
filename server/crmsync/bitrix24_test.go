package crmsync_test

import (
	"context"
	"strings"
	"testing"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/crm/bitrix24/bxfake"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// TestBitrix24WebhookURLAndToken: what the system suite (TestCRMSystem)
// does not cover for Bitrix24. The portal's webhook URL pasted where the
// address goes is refused without being repeated; pasted as the token, the
// portal is stored in clear and the secret sealed. The portal's outgoing
// webhooks are held to the application token of the first one: a webhook
// of another portal is refused and changes nothing.
func TestBitrix24WebhookURLAndToken(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		f := bxfake.Start(bxfake.WithBucket(0, 0))
		t.Cleanup(f.Close)
		env := New(t, b, Options{Configure: suiteOutbox})
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
		cc, err := env.Store.Ent.CrmConnection.Query().Only(tenant.NewContext(ctx, env.AccountID))
		NoErr(t, err)
		if strings.Contains(string(cc.TokenSealed), bxfake.DefaultSecret) || strings.Contains(cc.BaseURL, bxfake.DefaultSecret) {
			t.Fatal("the webhook's secret is stored in clear")
		}

		// The portal's first webhook sets its token.
		hook := env.Server.URL + res.WebhookUrl
		f.BindEvent(bxfake.EventDealUpdate, hook)
		NoErr(t, f.CloseDeal(ctx, 1, true))

		other := bxfake.Start(bxfake.WithApplicationToken("not-the-portals-token"))
		t.Cleanup(other.Close)
		other.BindEvent(bxfake.EventDealUpdate, hook)
		_ = other.SendEvent(ctx, bxfake.EventDealUpdate, 1)
		if got := other.Deliveries(); len(got) != 1 || got[0].Status != 403 {
			t.Fatalf("a webhook with another token: %+v, want one answered 403", got)
		}
		_ = f.SendEvent(ctx, bxfake.EventDealUpdate, 1)
		if got := f.Deliveries(); len(got) != 2 || got[1].Status != 200 {
			t.Fatalf("the portal's webhooks: %+v, want both answered 200", got)
		}
	})
}
