package bitrix24_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/bitrix24"
	"github.com/switchboardhq/switchboard/server/crm/bitrix24/bxfake"
)

func postForm(t *testing.T, body string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/webhooks/crm/key", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

const dealUpdate = "event=ONCRMDEALUPDATE&event_handler_id=7&data%5BFIELDS%5D%5BID%5D=662&ts=1764489600" +
	"&auth%5Bdomain%5D=example.bitrix24.ru&auth%5Bclient_endpoint%5D=https%3A%2F%2Fexample.bitrix24.ru%2Frest%2F" +
	"&auth%5Bserver_endpoint%5D=https%3A%2F%2Foauth.bitrix.info%2Frest%2F&auth%5Bmember_id%5D=a223c6b3" +
	"&auth%5Bapplication_token%5D=tok-123"

func TestParseEvent(t *testing.T) {
	form, err := url.ParseQuery(dealUpdate)
	if err != nil {
		t.Fatal(err)
	}
	e, err := bitrix24.ParseEvent(form)
	if err != nil {
		t.Fatal(err)
	}
	want := bitrix24.Event{Name: "ONCRMDEALUPDATE", ID: "662", Token: "tok-123", Domain: "example.bitrix24.ru",
		MemberID: "a223c6b3", At: time.Unix(1764489600, 0).UTC()}
	if e != want {
		t.Errorf("ParseEvent = %+v, want %+v", e, want)
	}
	for _, bad := range []string{
		"data[FIELDS][ID]=1",
		"event=ONCRMDEALUPDATE&data[FIELDS][ID]=x",
		"event=ONCRMDEALUPDATE&data[FIELDS][ID]=-4",
		"event=ONCRMDEALUPDATE&data[FIELDS][ID]=4&ts=yesterday",
	} {
		form, _ := url.ParseQuery(bad)
		if _, err := bitrix24.ParseEvent(form); err == nil {
			t.Errorf("ParseEvent(%q) accepted", bad)
		}
	}
}

func TestParseWebhook(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		events  []crm.Event
		wantErr bool
	}{
		{name: "deal update", body: dealUpdate, events: []crm.Event{{DealID: "662", Token: "tok-123"}}},
		{name: "deal add, lower case", body: "event=onCrmDealAdd&data[FIELDS][ID]=5&auth[application_token]=t",
			events: []crm.Event{{DealID: "5", Token: "t"}}},
		{name: "no token", body: "event=ONCRMDEALUPDATE&data[FIELDS][ID]=5", events: []crm.Event{{DealID: "5"}}},
		{name: "contact update is not a deal's", body: "event=ONCRMCONTACTUPDATE&data[FIELDS][ID]=5&auth[application_token]=t"},
		{name: "deal delete", body: "event=ONCRMDEALDELETE&data[FIELDS][ID]=5&auth[application_token]=t"},
		{name: "deal event without id", body: "event=ONCRMDEALUPDATE&auth[application_token]=t", wantErr: true},
		{name: "no event", body: "data[FIELDS][ID]=5", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := crm.ParseWebhook(crm.Bitrix24, postForm(t, tt.body))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if len(got) != len(tt.events) {
				t.Fatalf("events %+v, want %+v", got, tt.events)
			}
			for i := range got {
				if got[i] != tt.events[i] {
					t.Errorf("event %d = %+v, want %+v", i, got[i], tt.events[i])
				}
			}
		})
	}
}

func TestWebhookToken(t *testing.T) {
	evs, err := crm.ParseWebhook(crm.Bitrix24, postForm(t, dealUpdate))
	if err != nil || len(evs) != 1 {
		t.Fatal(evs, err)
	}
	if !crm.TokenMatches(evs[0].Token, "tok-123") {
		t.Error("the right token does not match")
	}
	for _, stored := range []string{"tok-124", "tok-12", "", "TOK-123"} {
		if crm.TokenMatches(evs[0].Token, stored) {
			t.Errorf("token matches %q", stored)
		}
	}
	if crm.TokenMatches("", "") {
		t.Error("no token matches none stored")
	}
}

// A portal user's change reaches a receiver as an outgoing event whose
// token matches the portal's, and reading the deal gives its new state.
func TestOutgoingEvents(t *testing.T) {
	var mu sync.Mutex
	var got []crm.Event
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		evs, err := crm.ParseWebhook(crm.Bitrix24, r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, evs...)
		mu.Unlock()
	}))
	defer recv.Close()
	f, _ := start(t, bxfake.WithApplicationToken("portal-token"))
	f.BindEvent(bxfake.EventDealUpdate, recv.URL)
	conn, err := bitrix24.Open(f.URL, f.Credential(), clientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := f.CloseDeal(ctx, 1, true); err != nil {
		t.Fatal(err)
	}
	if err := f.ChangeDealResponsible(ctx, 1, 4); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0].DealID != "1" {
		t.Fatalf("events %+v", got)
	}
	for _, e := range got {
		if !crm.TokenMatches(e.Token, "portal-token") || crm.TokenMatches(e.Token, bxfake.DefaultApplicationToken) {
			t.Errorf("event token %q", e.Token)
		}
	}
	st, err := conn.Deal(ctx, got[1].DealID)
	if err != nil || !st.Won || st.ResponsibleID != "4" {
		t.Errorf("Deal = %+v, %v", st, err)
	}
	ds := f.Deliveries()
	if len(ds) != 2 || ds[0].Status != http.StatusOK || ds[0].Form.Get("auth[application_token]") != "portal-token" {
		t.Errorf("deliveries %+v", ds)
	}
}
