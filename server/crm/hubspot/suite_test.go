package hubspot_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/crmtest"
	"github.com/switchboardhq/switchboard/server/crm/hubspot"
	"github.com/switchboardhq/switchboard/server/crm/hubspot/hubfake"
)

// suiteFake is hubfake behind the suite's control surface.
type suiteFake struct{ f *hubfake.Server }

func (s suiteFake) Seeded() crmtest.Seeded {
	return crmtest.Seeded{
		Users: 6, ActiveUserID: "41629781", OtherUserID: "41629782", InactiveUser: "41629784",
		Pipelines: 2, MainPipelineID: "default",
		ContactID: "51", ContactPhone: "+79035550102", OpenDealID: "1201",
	}
}

func (s suiteFake) AddContact(t *testing.T, name, raw string) string {
	return s.f.Add(hubfake.Record{Type: "contacts", Props: map[string]string{"firstname": name, "phone": raw, "hubspot_owner_id": "41629779"}})
}

func (s suiteFake) DealsWithMarker(marker string) int { return s.f.DealsNamed(marker) }

func (s suiteFake) DealResponsible(dealID string) string {
	d, _ := s.f.Get("deals", dealID)
	return d.Props["hubspot_owner_id"]
}

func (s suiteFake) ContactResponsible(contactID string) string {
	c, _ := s.f.Get("contacts", contactID)
	return c.Props["hubspot_owner_id"]
}

func (s suiteFake) NotesWith(ref crm.ClientRef, marker string) int {
	typ, id := "deals", ref.DealID
	if id == "" {
		typ, id = "contacts", ref.ContactID
	}
	n := 0
	for _, b := range s.f.NotesOf(typ, id) {
		if strings.Contains(b, marker) {
			n++
		}
	}
	return n
}

func (s suiteFake) CloseDeal(dealID string, won bool) error {
	return s.f.CloseDeal(context.Background(), dealID, won)
}

func (s suiteFake) LoseNextWrite(w crmtest.Write) {
	op := "POST /crm/v3/objects/deals"
	if w == crmtest.WriteNote {
		op = "POST /crm/v3/objects/notes"
	}
	s.f.Inject(hubfake.Fault{Op: op, DropAfterCommit: true})
}

func (s suiteFake) RateLimitNext(n int) {
	s.f.Inject(hubfake.Fault{Times: n, Status: http.StatusTooManyRequests, Policy: "TEN_SECONDLY_ROLLING"})
}

func (s suiteFake) ServerErrorNext() {
	s.f.Inject(hubfake.Fault{Status: http.StatusInternalServerError})
}

// SetRateLimit makes the fake's rolling window one second long, holding
// perSecond requests.
func (s suiteFake) SetRateLimit(perSecond int) { s.f.SetBurst(perSecond, time.Second) }

func (s suiteFake) RevokeCredentials() { s.f.RevokeToken() }

func (s suiteFake) Requests() int64 { return s.f.RequestCount() }

// start returns a fake and a client that does not pace itself, so tests
// run at full speed.
func start(t *testing.T, opts ...hubfake.Option) (*hubfake.Server, *hubspot.Client) {
	t.Helper()
	f := hubfake.Start(append([]hubfake.Option{hubfake.WithToken(uniqueToken())}, opts...)...)
	t.Cleanup(f.Close)
	c, err := hubspot.New(f.URL, f.Token(), clientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

var tokens atomic.Int64

// uniqueToken gives each fake its own token, so clients of different
// fakes do not share the process-wide pacing of one token.
func uniqueToken() string {
	return fmt.Sprintf("pat-na1-test-%d-0000", tokens.Add(1))
}

func clientOpts() []hubspot.Option {
	return []hubspot.Option{hubspot.AllowAnyHost(), hubspot.WithBurstLimit(0, 0), hubspot.WithSearchLimit(0),
		hubspot.WithHTTPClient(&http.Client{Timeout: 5 * time.Second})}
}

func TestConnectorSuite(t *testing.T) {
	crmtest.Run(t, func(t *testing.T) crmtest.Fixture {
		f := hubfake.Start(hubfake.WithSearchLimit(0), hubfake.WithToken(uniqueToken()))
		t.Cleanup(f.Close)
		conn, err := hubspot.Open(f.URL, f.Token(), clientOpts()...)
		if err != nil {
			t.Fatal(err)
		}
		return crmtest.Fixture{Conn: conn, Fake: suiteFake{f}}
	})
}
