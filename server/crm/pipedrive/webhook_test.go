package pipedrive_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/pipedrive"
	"github.com/switchboardhq/switchboard/server/crm/pipedrive/pdfake"
)

const v2Change = `{"meta":{"action":"change","entity":"deal","entity_id":"42","version":"2.0","company_id":"1","user_id":"7",
 "webhook_id":"9","attempt":1,"timestamp":"2026-11-30T09:00:00Z","change_source":"app"},
 "data":{"id":42,"title":"Mary #sb-1-2","status":"won","owner_id":7},"previous":{"status":"open"}}`

func webhookRequest(method, body, user, pass string) *http.Request {
	r := httptest.NewRequest(method, "/crm/webhook/abc", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if user != "" || pass != "" {
		r.SetBasicAuth(user, pass)
	}
	return r
}

func TestParseWebhook(t *testing.T) {
	events, err := crm.ParseWebhook(crm.Pipedrive, webhookRequest(http.MethodPost, v2Change, "switchboard", "s3cret-pass"))
	if err != nil || len(events) != 1 || events[0] != (crm.Event{DealID: "42", Token: "s3cret-pass"}) {
		t.Fatalf("v2 change.deal = %+v, %v", events, err)
	}
	if !crm.TokenMatches(events[0].Token, "s3cret-pass") || crm.TokenMatches(events[0].Token, "other") {
		t.Error("the Basic password does not match the stored one as it should")
	}
	// Without Basic credentials the token is empty: never a match.
	events, err = crm.ParseWebhook(crm.Pipedrive, webhookRequest(http.MethodPost, v2Change, "", ""))
	if err != nil || len(events) != 1 || events[0].Token != "" || crm.TokenMatches(events[0].Token, "s3cret-pass") {
		t.Errorf("without credentials = %+v, %v", events, err)
	}
	ignored := map[string]string{
		"person":        `{"meta":{"action":"change","entity":"person","entity_id":"5"},"data":{"id":5}}`,
		"deleted deal":  `{"meta":{"action":"delete","entity":"deal","entity_id":"42"},"data":null,"previous":{"id":42}}`,
		"lead (a UUID)": `{"meta":{"action":"create","entity":"lead","entity_id":"adf21080-0e10-11eb-879b-05d71fb426ec"},"data":{"id":"adf21080-0e10-11eb-879b-05d71fb426ec"}}`,
	}
	for name, body := range ignored {
		if events, err := crm.ParseWebhook(crm.Pipedrive, webhookRequest(http.MethodPost, body, "u", "p")); err != nil || len(events) != 0 {
			t.Errorf("%s: %+v, %v; want nothing", name, events, err)
		}
	}
	// A v1 webhook still works: meta.object, meta.id, current.
	v1 := `{"v":1,"meta":{"action":"updated","object":"deal","id":17},"current":{"id":17,"status":"lost"},"previous":{"status":"open"},"event":"updated.deal"}`
	if events, err := crm.ParseWebhook(crm.Pipedrive, webhookRequest(http.MethodPost, v1, "u", "p")); err != nil || len(events) != 1 || events[0].DealID != "17" {
		t.Errorf("v1 updated.deal = %+v, %v", events, err)
	}
	// A v2 create with the id only in data.
	create := `{"meta":{"action":"create","entity":"deal"},"data":{"id":8}}`
	if events, err := crm.ParseWebhook(crm.Pipedrive, webhookRequest(http.MethodPost, create, "u", "p")); err != nil || len(events) != 1 || events[0].DealID != "8" {
		t.Errorf("create.deal = %+v, %v", events, err)
	}
	bad := map[string]*http.Request{
		"GET":            webhookRequest(http.MethodGet, v2Change, "u", "p"),
		"not JSON":       webhookRequest(http.MethodPost, "event=x", "u", "p"),
		"no meta":        webhookRequest(http.MethodPost, `{"data":{"id":1}}`, "u", "p"),
		"deal id a word": webhookRequest(http.MethodPost, `{"meta":{"action":"change","entity":"deal","entity_id":"x1"}}`, "u", "p"),
		"too big":        webhookRequest(http.MethodPost, `{"meta":{"action":"change","entity":"deal","entity_id":"1"},"pad":"`+strings.Repeat("x", 1<<20)+`"}`, "u", "p"),
	}
	for name, r := range bad {
		if events, err := crm.ParseWebhook(crm.Pipedrive, r); err == nil {
			t.Errorf("%s: %+v; want an error", name, events)
		}
	}
	w, err := pipedrive.ParseWebhookRequest(webhookRequest(http.MethodPost, v2Change, "switchboard", "s3cret-pass"))
	if err != nil || w.Action != "change" || w.Entity != "deal" || w.EntityID != "42" || w.User != "switchboard" {
		t.Errorf("ParseWebhookRequest = %+v, %v", w, err)
	}
}

// The fake's webhooks carry the subscription's Basic credentials; the
// receiver compares the password and reads the deal.
func TestFakeWebhookEndToEnd(t *testing.T) {
	f, _ := start(t)
	conn, _ := pipedrive.Open(f.URL, f.Token(), clientOpts()...)
	var mu sync.Mutex
	var got []crm.DealState
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		events, err := crm.ParseWebhook(crm.Pipedrive, r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, e := range events {
			if !crm.TokenMatches(e.Token, "hook-pass") {
				http.Error(w, "wrong credentials", http.StatusUnauthorized)
				return
			}
			st, err := conn.Deal(r.Context(), e.DealID)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			mu.Lock()
			got = append(got, st)
			mu.Unlock()
		}
	}))
	defer recv.Close()
	f.Subscribe(pdfake.Subscription{URL: recv.URL, Action: "change", Entity: "deal", User: "switchboard", Password: "hook-pass"})
	c := context.Background()
	if err := f.CloseDeal(c, 1, false); err != nil {
		t.Fatal(err)
	}
	if err := f.ChangeDealOwner(c, 1, 5); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || !got[0].Lost || got[1].ResponsibleID != "5" {
		t.Errorf("states read after the webhooks: %+v", got)
	}
	ds := f.Deliveries()
	if len(ds) != 2 || ds[0].User != "switchboard" || ds[0].Status != http.StatusOK {
		t.Errorf("deliveries %+v", ds)
	}
	f.Unsubscribe()
	f.Subscribe(pdfake.Subscription{URL: recv.URL, User: "switchboard", Password: "wrong"})
	if err := f.CloseDeal(c, 1, true); err == nil {
		t.Error("a webhook with the wrong password was accepted")
	}
}
