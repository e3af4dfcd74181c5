package amofake_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/server/crm/amocrm/amofake"
)

// call sends one request with the default token (or none when token is
// "-") and returns the status, content type and body.
func call(t *testing.T, f *amofake.Server, method, path, token, body string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, f.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "-" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

func start(t *testing.T, opts ...amofake.Option) *amofake.Server {
	t.Helper()
	f := amofake.Start(append([]amofake.Option{amofake.WithRateLimit(0)}, opts...)...)
	t.Cleanup(f.Close)
	return f
}

func TestContentTypesAndShapes(t *testing.T) {
	f := start(t)
	tok := amofake.DefaultToken
	tests := []struct {
		name, method, path, token, body string
		status                          int
		ctype                           string
		keys                            []string
	}{
		{"success is hal+json", "GET", "/api/v4/leads/pipelines", tok, "", 200, "application/hal+json", []string{"_total_items", "_links", "_embedded"}},
		{"no token", "GET", "/api/v4/users", "-", "", 401, "application/problem+json", []string{"title", "type", "status", "detail"}},
		{"wrong token", "GET", "/api/v4/users", "nope", "", 401, "application/problem+json", []string{"title", "status"}},
		{"unknown path", "GET", "/api/v4/companies", tok, "", 404, "application/problem+json", []string{"title"}},
		{"malformed body", "POST", "/api/v4/contacts", tok, "{", 400, "application/problem+json", []string{"title"}},
		{"complex answer is a top-level array", "POST", "/api/v4/leads/complex", tok, `[{"name":"x","request_id":"r1"}]`, 200, "application/hal+json", nil},
		{"validation shape", "POST", "/api/v4/leads/complex", tok, `[{"status_id":1}]`, 400, "application/problem+json", []string{"validation-errors", "title", "type", "status", "detail"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, ctype, body := call(t, f, tt.method, tt.path, tt.token, tt.body)
			if status != tt.status || ctype != tt.ctype {
				t.Fatalf("status %d %q, want %d %q: %s", status, ctype, tt.status, tt.ctype, body)
			}
			if tt.keys == nil {
				var arr []map[string]any
				if err := json.Unmarshal(body, &arr); err != nil || len(arr) != 1 {
					t.Fatalf("body %s is not a one-element array", body)
				}
				if rid, _ := arr[0]["request_id"].([]any); len(rid) != 1 || rid[0] != "r1" || arr[0]["merged"] != false || arr[0]["contact_id"] != nil {
					t.Errorf("answer %v", arr[0])
				}
				return
			}
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			for _, k := range tt.keys {
				if _, ok := m[k]; !ok {
					t.Errorf("body lacks %q: %s", k, body)
				}
			}
			if v, ok := m["validation-errors"].([]any); ok {
				g := v[0].(map[string]any)
				e := g["errors"].([]any)[0].(map[string]any)
				if g["request_id"] != "0" || e["code"] == "" || e["path"] != "status_id" || e["detail"] == "" {
					t.Errorf("validation entry %v", g)
				}
			}
		})
	}
}

func TestPaging(t *testing.T) {
	f := start(t)
	var page struct {
		Page  int `json:"_page"`
		Links struct {
			Next *struct{ Href string } `json:"next"`
		} `json:"_links"`
		Embedded struct {
			Users []struct{ ID int64 } `json:"users"`
		} `json:"_embedded"`
	}
	for p, want := range map[string]int{"1": 4, "2": 2} {
		status, _, body := call(t, f, "GET", "/api/v4/users?limit=4&page="+p, amofake.DefaultToken, "")
		if status != 200 || json.Unmarshal(body, &page) != nil {
			t.Fatalf("page %s: %d %s", p, status, body)
		}
		if len(page.Embedded.Users) != want || (p == "1") != (page.Links.Next != nil) {
			t.Errorf("page %s: %d users, next %v", p, len(page.Embedded.Users), page.Links.Next)
		}
		page.Links.Next = nil
	}
	if status, _, body := call(t, f, "GET", "/api/v4/users?limit=4&page=3", amofake.DefaultToken, ""); status != 204 || len(body) != 0 {
		t.Errorf("past the end: %d %q", status, body)
	}
}

func TestRateLimitBodies(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		f := start(t)
		f.SetRateLimit(2, asJSON)
		var status int
		var ctype string
		var body []byte
		for range 3 {
			status, ctype, body = call(t, f, "GET", "/api/v4/leads/pipelines", amofake.DefaultToken, "")
		}
		if status != 429 {
			t.Fatalf("third request in a second: %d", status)
		}
		if isJSON := json.Valid(body); isJSON != asJSON || strings.Contains(ctype, "json") != asJSON {
			t.Errorf("json %v: content type %q body %q", asJSON, ctype, body)
		}
	}
}

func TestFaultsAreUsedUpConcurrently(t *testing.T) {
	f := start(t)
	f.Inject(amofake.Fault{PathPrefix: "/api/v4/users", Status: 503, Times: 10})
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for i := range 40 {
		wg.Go(func() {
			if i%5 == 0 {
				f.Inject(amofake.Fault{PathPrefix: "/api/v4/never", Status: 500})
			}
			status, _, _ := call(t, f, "GET", "/api/v4/users", amofake.DefaultToken, "")
			if status == 503 {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if failed != 10 {
		t.Fatalf("%d requests failed, want exactly 10", failed)
	}
	if n := f.RequestCount(); n != 40 {
		t.Fatalf("RequestCount = %d, want 40", n)
	}
	f.ClearFaults()
	if status, _, _ := call(t, f, "GET", "/api/v4/never", amofake.DefaultToken, ""); status != 404 {
		t.Fatalf("after ClearFaults: %d", status)
	}
}

func TestDropAfterCommit(t *testing.T) {
	f := start(t)
	f.Inject(amofake.Fault{Method: "PATCH", PathPrefix: "/api/v4/leads/8001", DropAfterCommit: true})
	req, _ := http.NewRequest("PATCH", f.URL+"/api/v4/leads/8001", strings.NewReader(`{"responsible_user_id":5003}`))
	req.Header.Set("Authorization", "Bearer "+amofake.DefaultToken)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("got an answer %d, want a dropped connection", resp.StatusCode)
	}
	if l, _ := f.Lead(8001); l.ResponsibleUserID != 5003 {
		t.Fatalf("the write was not kept: %+v", l)
	}
}

func TestWebhookDeliveryFailure(t *testing.T) {
	f := start(t)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer down.Close()
	status, _, body := call(t, f, "POST", "/api/v4/webhooks", amofake.DefaultToken,
		`{"destination":"`+down.URL+`","settings":["status_lead","update_lead"],"sort":10}`)
	if status != 200 {
		t.Fatalf("register: %d %s", status, body)
	}
	err := f.MoveLead(context.Background(), 8001, 0, 7103)
	if err == nil {
		t.Fatal("a failing destination is not reported")
	}
	if l, _ := f.Lead(8001); l.StatusID != 7103 {
		t.Fatalf("the move was not applied: %+v", l)
	}
	d := f.Deliveries()
	if len(d) != 1 || d[0].Status != 500 || d[0].Err == nil {
		t.Fatalf("deliveries = %+v", d)
	}
	if d[0].Form.Get("leads[status][0][old_status_id]") != "7102" || d[0].Form.Get("leads[update][0][id]") != "8001" {
		t.Errorf("form = %v", d[0].Form)
	}
	// A move to 142 keeps the lead's pipeline; the destination still fails.
	if err := f.MoveLead(context.Background(), 8001, 0, 142); err == nil {
		t.Error("the failing destination is not reported")
	}
	if l, _ := f.Lead(8001); l.StatusID != 142 || l.PipelineID != 7001 || l.ClosedAt == 0 {
		t.Errorf("after the move to 142: %+v", l)
	}
	if err := f.MoveLead(context.Background(), 424242, 0, 142); err == nil {
		t.Error("moving a missing lead is not an error")
	}
}

func TestServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- amofake.Serve(ctx, addr, "demo-token") }()
	var resp *http.Response
	for range 50 {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/v4/users", nil)
		req.Header.Set("Authorization", "Bearer demo-token")
		if resp, err = http.DefaultClient.Do(req); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve returned %v", err)
	}
}
