package zoho_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/crmtest"
	"github.com/switchboardhq/switchboard/server/crm/zoho/zohofake"
)

// suiteFake is zohofake behind the suite's control surface.
type suiteFake struct{ f *zohofake.Server }

func (s suiteFake) Seeded() crmtest.Seeded {
	return crmtest.Seeded{
		Users: 6, ActiveUserID: zohofake.UserActive, OtherUserID: zohofake.UserOther, InactiveUser: zohofake.UserDisabled,
		Pipelines: 2, MainPipelineID: zohofake.PipelineStandard,
		ContactID: zohofake.SeedContact, ContactPhone: zohofake.SeedContactPhone, OpenDealID: zohofake.SeedDeal,
	}
}

func (s suiteFake) AddContact(t *testing.T, name, raw string) string {
	return s.f.AddContact(zohofake.Contact{LastName: name, Phone: raw})
}

func (s suiteFake) DealsWithMarker(marker string) int {
	n := 0
	for _, d := range s.f.Deals() {
		if strings.Contains(d.Name, marker) {
			n++
		}
	}
	return n
}

func (s suiteFake) DealResponsible(dealID string) string {
	d, _ := s.f.Deal(dealID)
	return d.OwnerID
}

func (s suiteFake) ContactResponsible(contactID string) string {
	c, _ := s.f.Contact(contactID)
	return c.OwnerID
}

func (s suiteFake) NotesWith(ref crm.ClientRef, marker string) int {
	module, id := "Deals", ref.DealID
	if id == "" {
		module, id = "Contacts", ref.ContactID
	}
	n := 0
	for _, note := range s.f.Notes(module, id) {
		if strings.Contains(note.Content, marker) {
			n++
		}
	}
	return n
}

func (s suiteFake) CloseDeal(dealID string, won bool) error { return s.f.CloseDeal(dealID, won) }

func (s suiteFake) LoseNextWrite(w crmtest.Write) {
	f := zohofake.Fault{Method: http.MethodPost, Path: "/crm/v7/Deals", DropAfterCommit: true}
	if w == crmtest.WriteNote {
		f.Path, f.PathPrefix = "", "/crm/v7/Deals/"
	}
	s.f.Inject(f)
}

func (s suiteFake) RateLimitNext(n int) {
	s.f.Inject(zohofake.Fault{Times: n, Status: http.StatusTooManyRequests})
}

func (s suiteFake) ServerErrorNext() {
	s.f.Inject(zohofake.Fault{Status: http.StatusInternalServerError})
}

func (s suiteFake) SetRateLimit(perSecond int) { s.f.SetRateLimit(perSecond) }

func (s suiteFake) RevokeCredentials() { s.f.RevokeCredentials() }

func (s suiteFake) Requests() int64 { return s.f.RequestCount() }

func TestConnectorSuite(t *testing.T) {
	crmtest.Run(t, func(t *testing.T) crmtest.Fixture {
		f := zohofake.Start()
		t.Cleanup(f.Close)
		conn, err := crm.Open(crm.Config{Kind: crm.Zoho, BaseURL: f.URL, Token: f.Credential(), AllowAnyHost: true,
			HTTP: &http.Client{Timeout: 5 * time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		return crmtest.Fixture{Conn: conn, Fake: suiteFake{f}}
	})
}
