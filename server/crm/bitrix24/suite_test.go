package bitrix24_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/bitrix24"
	"github.com/switchboardhq/switchboard/server/crm/bitrix24/bxfake"
	"github.com/switchboardhq/switchboard/server/crm/crmtest"
)

// suiteFake is bxfake behind the suite's control surface.
type suiteFake struct{ f *bxfake.Server }

func (s suiteFake) Seeded() crmtest.Seeded {
	return crmtest.Seeded{
		Users: 6, ActiveUserID: "3", OtherUserID: "4", InactiveUser: "6",
		Pipelines: 2, MainPipelineID: "0",
		ContactID: "1", ContactPhone: "+79035550102", OpenDealID: "1",
	}
}

func id(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }

func (s suiteFake) AddContact(t *testing.T, name, raw string) string {
	return strconv.FormatInt(s.f.AddContact(bxfake.Contact{Name: name, AssignedBy: 1, Phones: []bxfake.Phone{{Value: raw}}}), 10)
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
	return strconv.FormatInt(d.AssignedBy, 10)
}

func (s suiteFake) ContactResponsible(contactID string) string {
	c, _ := s.f.Contact(id(contactID))
	return strconv.FormatInt(c.AssignedBy, 10)
}

func (s suiteFake) NotesWith(ref crm.ClientRef, marker string) int {
	owner, oid := "deal", ref.DealID
	if oid == "" {
		owner, oid = "contact", ref.ContactID
	}
	n := 0
	for _, c := range s.f.Comments(owner, id(oid)) {
		if strings.Contains(c.Comment, marker) {
			n++
		}
	}
	return n
}

func (s suiteFake) CloseDeal(dealID string, won bool) error {
	return s.f.CloseDeal(context.Background(), id(dealID), won)
}

func (s suiteFake) LoseNextWrite(w crmtest.Write) {
	m := "crm.deal.add"
	if w == crmtest.WriteNote {
		m = "crm.timeline.comment.add"
	}
	s.f.Inject(bxfake.Fault{Method: m, DropAfterCommit: true})
}

func (s suiteFake) RateLimitNext(n int) {
	s.f.Inject(bxfake.Fault{Times: n, Status: http.StatusServiceUnavailable})
}

func (s suiteFake) ServerErrorNext() {
	s.f.Inject(bxfake.Fault{Status: http.StatusInternalServerError})
}

func (s suiteFake) SetRateLimit(perSecond int) { s.f.SetBucket(float64(perSecond), perSecond) }

func (s suiteFake) RevokeCredentials() { s.f.RevokeWebhook() }

func (s suiteFake) Requests() int64 { return s.f.RequestCount() }

// start returns a fake without a bucket (unless opts set one) and a client
// that does not pace itself, so tests run at full speed.
func start(t *testing.T, opts ...bxfake.Option) (*bxfake.Server, *bitrix24.Client) {
	t.Helper()
	f := bxfake.Start(append([]bxfake.Option{bxfake.WithBucket(0, 0)}, opts...)...)
	t.Cleanup(f.Close)
	c, err := bitrix24.New(f.URL, f.Credential(), clientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

func clientOpts() []bitrix24.Option {
	return []bitrix24.Option{bitrix24.AllowAnyHost(), bitrix24.WithPortalLimit(0, 0),
		bitrix24.WithHTTPClient(&http.Client{Timeout: 5 * time.Second})}
}

func TestConnectorSuite(t *testing.T) {
	crmtest.Run(t, func(t *testing.T) crmtest.Fixture {
		f := bxfake.Start(bxfake.WithBucket(0, 0))
		t.Cleanup(f.Close)
		conn, err := bitrix24.Open(f.URL, f.Credential(), clientOpts()...)
		if err != nil {
			t.Fatal(err)
		}
		return crmtest.Fixture{Conn: conn, Fake: suiteFake{f}}
	})
}
