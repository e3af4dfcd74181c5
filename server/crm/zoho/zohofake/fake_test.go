package zohofake_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/server/crm/zoho/zohofake"
)

// call sends one raw request and returns the status and the decoded body
// (nil for an empty one).
func call(t *testing.T, method, u, tok, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	if tok != "" {
		req.Header.Set("Authorization", "Zoho-oauthtoken "+tok)
	}
	if strings.Contains(body, "grant_type=") {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s %s: body %q is not a JSON object", method, u, raw)
		}
	}
	return resp.StatusCode, m
}

func token(t *testing.T, f *zohofake.Server, refresh string) map[string]any {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {zohofake.DefaultClientID},
		"client_secret": {zohofake.DefaultClientSecret}, "refresh_token": {refresh}}
	st, m := call(t, http.MethodPost, f.URL+"/oauth/v2/token", "", form.Encode())
	if st != http.StatusOK {
		t.Fatalf("token endpoint: %d", st)
	}
	return m
}

func TestShapes(t *testing.T) {
	f := zohofake.Start(zohofake.WithTokenTTL(time.Minute))
	defer f.Close()
	if m := token(t, f, "wrong"); m["error"] != "invalid_code" {
		t.Errorf("a wrong refresh token: %v", m)
	}
	m := token(t, f, zohofake.DefaultRefreshToken)
	tok, _ := m["access_token"].(string)
	if tok == "" || m["expires_in"] != float64(60) {
		t.Fatalf("token answer %v", m)
	}
	api := f.URL + "/crm/v7"

	if st, m := call(t, http.MethodGet, api+"/users?type=AllUsers", "bad", ""); st != 401 || m["code"] != "INVALID_TOKEN" || m["status"] != "error" {
		t.Errorf("a bad token: %d %v", st, m)
	}
	if st, m := call(t, http.MethodGet, api+"/Contacts/search?phone=1234567", tok, ""); st != http.StatusNoContent || m != nil {
		t.Errorf("a search without a match: %d %v; want 204 and no body", st, m)
	}
	st, m := call(t, http.MethodGet, api+"/Contacts/search?phone=9035550102", tok, "")
	data, _ := m["data"].([]any)
	if st != 200 || len(data) != 1 {
		t.Fatalf("search: %d %v", st, m)
	}
	c := data[0].(map[string]any)
	if _, ok := c["id"].(string); !ok || c["Owner"].(map[string]any)["id"] != zohofake.UserAdmin {
		t.Errorf("contact %v: want a string id and an Owner object", c)
	}
	if info, _ := m["info"].(map[string]any); info["more_records"] != false {
		t.Errorf("info %v", m["info"])
	}

	st, m = call(t, http.MethodPost, api+"/Contacts", tok, `{"data":[{"First_Name":"No"},{"Last_Name":"Yes"}]}`)
	data, _ = m["data"].([]any)
	if st != http.StatusMultiStatus || len(data) != 2 {
		t.Fatalf("a half-failed insert: %d %v", st, m)
	}
	if r := data[0].(map[string]any); r["status"] != "error" || r["code"] != "MANDATORY_NOT_FOUND" || r["details"].(map[string]any)["api_name"] != "Last_Name" {
		t.Errorf("record 0 %v", r)
	}
	if r := data[1].(map[string]any); r["status"] != "success" || r["details"].(map[string]any)["id"] == "" {
		t.Errorf("record 1 %v", r)
	}
	st, m = call(t, http.MethodPost, api+"/Deals", tok, `{"data":[{"Deal_Name":"X","Stage":"Nope"}]}`)
	if r := m["data"].([]any)[0].(map[string]any); st != 400 || r["code"] != "INVALID_DATA" {
		t.Errorf("a deal in an unknown stage: %d %v", st, m)
	}
	if st, _ := call(t, http.MethodGet, api+"/Deals/"+zohofake.SeedDeal+"/Notes", tok, ""); st != 400 {
		t.Errorf("notes without fields: %d, want 400", st)
	}

	f.SetCredits(100, 100)
	if st, m := call(t, http.MethodGet, api+"/Deals/"+zohofake.SeedDeal, tok, ""); st != 400 || m["code"] != "LIMIT_REACHED" {
		t.Errorf("spent credits: %d %v", st, m)
	}
	f.SetCredits(0, 0)
	f.ExpireAccessTokens()
	if st, m := call(t, http.MethodGet, api+"/Deals/"+zohofake.SeedDeal, tok, ""); st != 401 || m["code"] != "INVALID_TOKEN" {
		t.Errorf("an expired token: %d %v", st, m)
	}
	if f.RefusedCount() != 2 {
		t.Errorf("%d refusals counted, want 2", f.RefusedCount())
	}
}

func TestFaults(t *testing.T) {
	f := zohofake.Start()
	defer f.Close()
	tok := token(t, f, zohofake.DefaultRefreshToken)["access_token"].(string)
	api := f.URL + "/crm/v7"
	f.Inject(zohofake.Fault{Times: 2, Status: 429})
	for range 2 {
		if st, m := call(t, http.MethodGet, api+"/users", tok, ""); st != 429 || m["code"] != "TOO_MANY_REQUESTS" {
			t.Errorf("injected 429: %d %v", st, m)
		}
	}
	// A record refused inside a 200; nothing written.
	before := len(f.Deals())
	f.Inject(zohofake.Fault{Method: http.MethodPost, Path: "/crm/v7/Deals", RecordError: "DUPLICATE_DATA"})
	st, m := call(t, http.MethodPost, api+"/Deals", tok, `{"data":[{"Deal_Name":"X","Stage":"Qualification"}]}`)
	if r := m["data"].([]any)[0].(map[string]any); st != 200 || r["status"] != "error" || r["code"] != "DUPLICATE_DATA" || len(f.Deals()) != before {
		t.Errorf("record error: %d %v", st, m)
	}
	// Taken, then the answer dropped.
	f.Inject(zohofake.Fault{Method: http.MethodPost, Path: "/crm/v7/Deals", DropAfterCommit: true})
	req, _ := http.NewRequest(http.MethodPost, api+"/Deals", strings.NewReader(`{"data":[{"Deal_Name":"Y","Stage":"Qualification"}]}`))
	req.Header.Set("Authorization", "Zoho-oauthtoken "+tok)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Error("an answer came back from a dropped connection")
	}
	if n := len(f.Deals()); n != before+1 {
		t.Errorf("%d deals after a dropped answer, want %d", n, before+1)
	}
	if err := f.CloseDeal(zohofake.SeedDeal, true); err != nil {
		t.Fatal(err)
	}
	if d, _ := f.Deal(zohofake.SeedDeal); d.Stage != "Closed Won" {
		t.Errorf("closed deal stage %q", d.Stage)
	}
}

func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- zohofake.Serve(ctx, "127.0.0.1:0") }()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
