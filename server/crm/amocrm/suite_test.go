package amocrm_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/amocrm"
	"github.com/switchboardhq/switchboard/server/crm/amocrm/amofake"
	"github.com/switchboardhq/switchboard/server/crm/crmtest"
)

// suiteFake is amofake behind the suite's control surface.
type suiteFake struct {
	f *amofake.Server
	c *amocrm.Client
}

func (s suiteFake) Seeded() crmtest.Seeded {
	return crmtest.Seeded{
		Users: 6, ActiveUserID: "5003", OtherUserID: "5004", InactiveUser: "5006",
		Pipelines: 2, MainPipelineID: "7001",
		ContactID: "9001", ContactPhone: "+79035550102", OpenDealID: "8001",
	}
}

func id64(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }

// AddContact creates the contact through the API, as the fake has no
// other way in once started.
func (s suiteFake) AddContact(t *testing.T, name, raw string) string {
	t.Helper()
	out, err := s.c.CreateContacts(context.Background(), []amocrm.NewContact{{Name: name, Phone: raw}})
	if err != nil || len(out) != 1 {
		t.Fatalf("create contact: %v (%d)", err, len(out))
	}
	return strconv.FormatInt(out[0].ID, 10)
}

func (s suiteFake) DealsWithMarker(marker string) int {
	n := 0
	for _, l := range s.f.Leads() {
		if strings.Contains(l.Name, marker) {
			n++
		}
	}
	return n
}

func (s suiteFake) DealResponsible(dealID string) string {
	l, _ := s.f.Lead(id64(dealID))
	return strconv.FormatInt(l.ResponsibleUserID, 10)
}

func (s suiteFake) ContactResponsible(contactID string) string {
	c, _ := s.f.Contact(id64(contactID))
	return strconv.FormatInt(c.ResponsibleUserID, 10)
}

func (s suiteFake) NotesWith(ref crm.ClientRef, marker string) int {
	entity, id := "leads", ref.DealID
	if id == "" {
		entity, id = "contacts", ref.ContactID
	}
	n := 0
	for _, note := range s.f.Notes(entity, id64(id)) {
		if strings.Contains(note.Text, marker) {
			n++
		}
	}
	return n
}

func (s suiteFake) CloseDeal(dealID string, won bool) error {
	status := amofake.StatusLost
	if won {
		status = amofake.StatusWon
	}
	l, _ := s.f.Lead(id64(dealID))
	return s.f.MoveLead(context.Background(), l.ID, l.PipelineID, status)
}

func (s suiteFake) LoseNextWrite(w crmtest.Write) {
	path := "/api/v4/leads/complex"
	if w == crmtest.WriteNote {
		path = "/api/v4/leads/notes"
	}
	s.f.Inject(amofake.Fault{Method: http.MethodPost, PathPrefix: path, DropAfterCommit: true})
}

func (s suiteFake) RateLimitNext(n int) {
	s.f.Inject(amofake.Fault{Times: n, Status: http.StatusTooManyRequests, RetryAfter: "1"})
}

func (s suiteFake) ServerErrorNext() {
	s.f.Inject(amofake.Fault{Status: http.StatusInternalServerError})
}

func (s suiteFake) SetRateLimit(perSecond int) { s.f.SetRateLimit(perSecond, false) }

func (s suiteFake) RevokeCredentials() { s.f.ExpireToken() }

func (s suiteFake) Requests() int64 { return s.f.RequestCount() }

func TestConnectorSuite(t *testing.T) {
	crmtest.Run(t, func(t *testing.T) crmtest.Fixture {
		f := amofake.Start(amofake.WithRateLimit(0))
		t.Cleanup(f.Close)
		conn, err := crm.Open(crm.Config{Kind: crm.AmoCRM, BaseURL: f.URL, Token: amofake.DefaultToken, AllowAnyHost: true,
			HTTP: &http.Client{Timeout: 5 * time.Second}, Limiter: unlimited()})
		if err != nil {
			t.Fatal(err)
		}
		return crmtest.Fixture{Conn: conn, Fake: suiteFake{f: f, c: client(t, f, amofake.DefaultToken)}}
	})
}
