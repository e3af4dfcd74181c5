package hubspot_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/hubspot"
	"github.com/switchboardhq/switchboard/server/crm/hubspot/hubfake"
)

// events is a webhook body as HubSpot sends it: deal events the
// connector acts on, and others it does not.
const events = `[
 {"eventId":1,"subscriptionId":11,"portalId":62515,"appId":54321,"occurredAt":1764489600000,
  "subscriptionType":"deal.propertyChange","attemptNumber":0,"objectId":1201,"propertyName":"dealstage",
  "propertyValue":"closedwon","changeSource":"CRM_UI"},
 {"eventId":2,"subscriptionId":12,"portalId":62515,"appId":54321,"occurredAt":1764489600001,
  "subscriptionType":"deal.creation","attemptNumber":0,"objectId":1301,"changeFlag":"CREATED","changeSource":"CRM_UI"},
 {"eventId":3,"subscriptionId":13,"portalId":62515,"appId":54321,"occurredAt":1764489600002,
  "subscriptionType":"deal.propertyChange","attemptNumber":0,"objectId":1202,"propertyName":"amount",
  "propertyValue":"100","changeSource":"CRM_UI"},
 {"eventId":4,"subscriptionId":14,"portalId":62515,"appId":54321,"occurredAt":1764489600003,
  "subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":51,"propertyName":"hubspot_owner_id",
  "propertyValue":"41629781","changeSource":"CRM_UI"},
 {"eventId":5,"subscriptionId":15,"portalId":62515,"appId":54321,"occurredAt":1764489600004,
  "subscriptionType":"object.propertyChange","objectTypeId":"0-3","attemptNumber":1,"objectId":1203,
  "propertyName":"hubspot_owner_id","propertyValue":"41629782","changeSource":"CRM_UI"},
 {"eventId":6,"subscriptionId":16,"portalId":62515,"appId":54321,"occurredAt":1764489600005,
  "subscriptionType":"object.propertyChange","objectTypeId":"0-1","attemptNumber":0,"objectId":52,
  "propertyName":"hubspot_owner_id","propertyValue":"41629782","changeSource":"CRM_UI"}
]`

func post(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "https://hooks.example.com/webhooks/crm/key1?x=1", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

func TestParseWebhook(t *testing.T) {
	r := post(events)
	got, err := crm.ParseWebhook(crm.HubSpot, r)
	if err != nil {
		t.Fatal(err)
	}
	want := []crm.Event{{DealID: "1201"}, {DealID: "1301"}, {DealID: "1203"}}
	if len(got) != len(want) {
		t.Fatalf("events %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d = %+v, want %+v (no token: HubSpot signs each request)", i, got[i], want[i])
		}
	}
	// The body is put back for the signature check.
	if b, _ := io.ReadAll(r.Body); string(b) != events {
		t.Error("the body is not readable after parsing")
	}
	for _, bad := range []string{"", "not json", `[{"objectId":1}]`, `[{"subscriptionType":"deal.creation"}]`, `{"a":`} {
		if _, err := crm.ParseWebhook(crm.HubSpot, post(bad)); err == nil {
			t.Errorf("ParseWebhook(%q) accepted", bad)
		}
	}
	if got, err := crm.ParseWebhook(crm.HubSpot, post(`[]`)); err != nil || len(got) != 0 {
		t.Errorf("an empty batch: %+v, %v", got, err)
	}
}

// signV3 is the v3 signature written out from the reference, apart from
// both the connector's and the fake's.
func signV3(secret, method, uri, body, ts string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(method + uri + body + ts))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestVerifyWebhook(t *testing.T) {
	const secret, uri = "client-secret-1", "https://hooks.example.com/webhooks/crm/key1?x=1"
	now := time.UnixMilli(1764489600000)
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	signed := func(body, sig, ts string) *http.Request {
		r := post(body)
		r.Header.Set(hubspot.HeaderSignatureV3, sig)
		r.Header.Set(hubspot.HeaderTimestamp, ts)
		return r
	}
	good := signV3(secret, "POST", uri, events, ts)
	if hubspot.Sign(secret, "POST", uri, []byte(events), ts) != good || hubfake.SignV3(secret, "POST", uri, []byte(events), ts) != good {
		t.Fatal("the connector's or the fake's signature differs from the reference's")
	}
	r := signed(events, good, ts)
	if err := hubspot.VerifyWebhook(r, uri, secret, now.Add(time.Minute)); err != nil {
		t.Fatalf("a good signature: %v", err)
	}
	if evs, err := crm.ParseWebhook(crm.HubSpot, r); err != nil || len(evs) != 3 {
		t.Errorf("parse after verifying: %+v, %v", evs, err)
	}
	// An escaped URI is signed decoded.
	escaped := "https://hooks.example.com/webhooks/crm/key1?next=a%3Ab%2Fc"
	if hubspot.Sign(secret, "POST", escaped, nil, ts) != signV3(secret, "POST", "https://hooks.example.com/webhooks/crm/key1?next=a:b/c", "", ts) {
		t.Error("escapes in the URI are not decoded before signing")
	}
	cases := []struct {
		name string
		r    *http.Request
		uri  string
		key  string
		at   time.Time
		want error
	}{
		{"wrong secret", signed(events, good, ts), uri, "other", now, hubspot.ErrBadSignature},
		{"body changed", signed(strings.Replace(events, "closedwon", "closedlost", 1), good, ts), uri, secret, now, hubspot.ErrBadSignature},
		{"other URI", signed(events, good, ts), "https://hooks.example.com/webhooks/crm/key2?x=1", secret, now, hubspot.ErrBadSignature},
		{"stale", signed(events, good, ts), uri, secret, now.Add(6 * time.Minute), hubspot.ErrStale},
		{"future", signed(events, good, ts), uri, secret, now.Add(-6 * time.Minute), hubspot.ErrStale},
		{"bad timestamp", signed(events, good, "yesterday"), uri, secret, now, hubspot.ErrStale},
		{"unsigned", post(events), uri, secret, now, hubspot.ErrNoSignature},
		{"no secret", signed(events, good, ts), uri, "", now, hubspot.ErrNoSignature},
	}
	for _, c := range cases {
		err := hubspot.VerifyWebhook(c.r, c.uri, c.key, c.at)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if err != nil && (strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), good)) {
			t.Errorf("%s: the error shows the secret or the signature: %v", c.name, err)
		}
	}
}

// The fake's webhooks are verified with the app's client secret, then
// the deal is read.
func TestFakeWebhookEndToEnd(t *testing.T) {
	f, _ := start(t, hubfake.WithClientSecret("app-secret-7"))
	conn, err := hubspot.Open(f.URL, f.Token(), clientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var mu sync.Mutex
	var got []string
	var recv *httptest.Server
	recv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := hubspot.VerifyWebhook(r, recv.URL+r.URL.RequestURI(), "app-secret-7", time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		evs, err := crm.ParseWebhook(crm.HubSpot, r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, e := range evs {
			st, err := conn.Deal(r.Context(), e.DealID)
			mu.Lock()
			got = append(got, e.DealID+":"+strconv.FormatBool(st.Won)+":"+st.ResponsibleID)
			mu.Unlock()
			if err != nil {
				t.Error(err)
			}
		}
	}))
	defer recv.Close()
	f.Subscribe(recv.URL + "/webhooks/crm/key1")
	if err := f.CloseDeal(ctx, "1201", true); err != nil {
		t.Fatal(err)
	}
	if err := f.ChangeDeal(ctx, "1201", map[string]string{"hubspot_owner_id": "41629783"}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0] != "1201:true:41629780" || got[1] != "1201:true:41629783" {
		t.Errorf("deliveries read %v", got)
	}
	for _, d := range f.Deliveries() {
		if d.Status != http.StatusOK || len(d.Events) != 1 || d.Events[0].SubscriptionType != "deal.propertyChange" {
			t.Errorf("delivery %+v", d)
		}
	}
	// A wrong secret is refused by the receiver.
	f2, _ := start(t, hubfake.WithClientSecret("another-secret"))
	f2.Subscribe(recv.URL + "/webhooks/crm/key1")
	if err := f2.CloseDeal(ctx, "1201", false); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("a webhook signed with another secret: %v; want refused", err)
	}
}
