package crmsync_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent/contact"
	"github.com/switchboardhq/switchboard/ent/deal"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/crm/bitrix24/bxfake"
	"github.com/switchboardhq/switchboard/server/crm/pipedrive/pdfake"
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
