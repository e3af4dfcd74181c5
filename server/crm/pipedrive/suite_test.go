package pipedrive_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/crmtest"
	"github.com/switchboardhq/switchboard/server/crm/pipedrive"
	"github.com/switchboardhq/switchboard/server/crm/pipedrive/pdfake"
)

// suiteFake is pdfake behind the suite's control surface.
type suiteFake struct{ f *pdfake.Server }

func (s suiteFake) Seeded() crmtest.Seeded {
	return crmtest.Seeded{
		Users: 6, ActiveUserID: "3", OtherUserID: "4", InactiveUser: "6",
		Pipelines: 2, MainPipelineID: "1",
		ContactID: "1", ContactPhone: "+79035550102", OpenDealID: "1",
	}
}

func id(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }

func (s suiteFake) AddContact(t *testing.T, name, raw string) string {
	return strconv.FormatInt(s.f.AddPerson(pdfake.Person{Name: name, OwnerID: 1, Phones: []pdfake.Phone{{Value: raw, Primary: true, Label: "work"}}}), 10)
}

func (s suiteFake) DealsWithMarker(marker string) int {
	n := 0
	for _, d := range s.f.Deals() {
		if strings.Contains(d.Title, marker) {
			n++
		}
	}
	return n
}

func (s suiteFake) DealResponsible(dealID string) string {
	d, _ := s.f.Deal(id(dealID))
	return strconv.FormatInt(d.OwnerID, 10)
}

func (s suiteFake) ContactResponsible(contactID string) string {
	p, _ := s.f.Person(id(contactID))
	return strconv.FormatInt(p.OwnerID, 10)
}

func (s suiteFake) NotesWith(ref crm.ClientRef, marker string) int {
	n := 0
	for _, note := range s.f.Notes(id(ref.DealID), id(ref.ContactID)) {
		if strings.Contains(note.Content, marker) {
			n++
		}
	}
	return n
}

// CloseDeal sets the deal's status: Pipedrive closes deals by status.
func (s suiteFake) CloseDeal(dealID string, won bool) error {
	return s.f.CloseDeal(context.Background(), id(dealID), won)
}

func (s suiteFake) LoseNextWrite(w crmtest.Write) {
	route := "POST /api/v2/deals"
	if w == crmtest.WriteNote {
		route = "POST /v1/notes"
	}
	s.f.Inject(pdfake.Fault{Route: route, DropAfterCommit: true})
}

func (s suiteFake) RateLimitNext(n int) {
	s.f.Inject(pdfake.Fault{Times: n, Status: http.StatusTooManyRequests, RetryAfter: "1"})
}

func (s suiteFake) ServerErrorNext() {
	s.f.Inject(pdfake.Fault{Status: http.StatusInternalServerError})
}

// SetRateLimit sets the 2-second window to twice perSecond.
func (s suiteFake) SetRateLimit(perSecond int) { s.f.SetWindowLimit(2*perSecond, 2*perSecond) }

func (s suiteFake) RevokeCredentials() { s.f.RevokeToken() }

func (s suiteFake) Requests() int64 { return s.f.RequestCount() }

// clientOpts makes a client that does not pace itself, so tests run at
// full speed (the fake's headers still slow it down).
func clientOpts() []pipedrive.Option {
	return []pipedrive.Option{pipedrive.AllowAnyHost(), pipedrive.WithWindowLimit(0), pipedrive.WithSearchLimit(0),
		pipedrive.WithHTTPClient(&http.Client{Timeout: 5 * time.Second})}
}

// start returns a fake without limits (unless opts set some) and a client
// that does not pace itself.
func start(t *testing.T, opts ...pdfake.Option) (*pdfake.Server, *pipedrive.Client) {
	t.Helper()
	f := pdfake.Start(append([]pdfake.Option{pdfake.WithWindowLimit(0, 0)}, opts...)...)
	t.Cleanup(f.Close)
	c, err := pipedrive.New(f.URL, f.Token(), clientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

func TestConnectorSuite(t *testing.T) {
	crmtest.Run(t, func(t *testing.T) crmtest.Fixture {
		f := pdfake.Start(pdfake.WithWindowLimit(0, 0))
		t.Cleanup(f.Close)
		conn, err := pipedrive.Open(f.URL, f.Token(), clientOpts()...)
		if err != nil {
			t.Fatal(err)
		}
		return crmtest.Fixture{Conn: conn, Fake: suiteFake{f}}
	})
}
