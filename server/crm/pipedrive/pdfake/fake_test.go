package pdfake_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/server/crm/pipedrive/pdfake"
)

// call sends one request with the fake's token and decodes the answer.
func call(t *testing.T, f *pdfake.Server, method, path, body string) (int, http.Header, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, f.URL+path, rd)
	req.Header.Set("x-api-token", f.Token())
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, out
}

func TestShapes(t *testing.T) {
	f := pdfake.Start(pdfake.WithWindowLimit(0, 0))
	defer f.Close()
	st, _, out := call(t, f, "GET", "/v1/users", "")
	users, _ := out["data"].([]any)
	if st != 200 || out["success"] != true || len(users) != 6 {
		t.Fatalf("users: %d %v", st, out)
	}
	if u := users[5].(map[string]any); u["active_flag"] != false || u["id"] != 6.0 {
		t.Errorf("user 6: %v", u)
	}
	st, _, out = call(t, f, "POST", "/api/v2/persons", `{"name":"Mary","owner_id":3,"phones":[{"value":"+7 916 555-01-11","primary":true,"label":"mobile"}]}`)
	p, _ := out["data"].(map[string]any)
	if st != 200 || p["owner_id"] != 3.0 || p["phones"].([]any)[0].(map[string]any)["label"] != "mobile" {
		t.Fatalf("add person: %d %v", st, out)
	}
	st, _, out = call(t, f, "GET", "/api/v2/persons/search?term=9165550111&fields=phone&exact_match=false", "")
	items := out["data"].(map[string]any)["items"].([]any)
	if st != 200 || len(items) != 1 {
		t.Fatalf("search: %d %v", st, out)
	}
	item := items[0].(map[string]any)["item"].(map[string]any)
	if item["phones"].([]any)[0] != "+7 916 555-01-11" || item["owner"].(map[string]any)["id"] != 3.0 {
		t.Errorf("search item %v", item)
	}
	if st, _, out = call(t, f, "GET", "/api/v2/persons/search?term=9", ""); st != 400 || out["success"] != false || out["error"] == "" {
		t.Errorf("a 1-character term: %d %v", st, out)
	}
	st, _, out = call(t, f, "POST", "/api/v2/deals", `{"title":"Mary #m1","person_id":`+jsonNum(p["id"])+`,"owner_id":3,"pipeline_id":2}`)
	d, _ := out["data"].(map[string]any)
	if st != 200 || d["stage_id"] != 5.0 || d["status"] != "open" {
		t.Fatalf("add deal: %d %v", st, out)
	}
	if st, _, out = call(t, f, "GET", "/api/v2/deals/987654", ""); st != 404 || out["success"] != false || out["errorCode"] != 404.0 {
		t.Errorf("missing deal: %d %v", st, out)
	}
	if st, _, out = call(t, f, "POST", "/v1/notes", `{"content":"<b>hi</b>","deal_id":1}`); st != 201 || out["data"].(map[string]any)["deal_id"] != 1.0 {
		t.Errorf("add note: %d %v", st, out)
	}
	st, _, out = call(t, f, "GET", "/v1/notes?deal_id=1&start=0&limit=100", "")
	pg := out["additional_data"].(map[string]any)["pagination"].(map[string]any)
	if st != 200 || len(out["data"].([]any)) != 1 || pg["more_items_in_collection"] != false {
		t.Errorf("notes: %d %v", st, out)
	}
}

func jsonNum(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestCursorPaging(t *testing.T) {
	f := pdfake.Start(pdfake.WithWindowLimit(0, 0))
	defer f.Close()
	var ids []any
	path := "/api/v2/stages?limit=3"
	for range 10 {
		_, _, out := call(t, f, "GET", path, "")
		ids = append(ids, out["data"].([]any)...)
		next := out["additional_data"].(map[string]any)["next_cursor"]
		if next == nil {
			break
		}
		path = "/api/v2/stages?limit=3&cursor=" + url.QueryEscape(next.(string))
	}
	if len(ids) != 7 {
		t.Errorf("%d stages over the pages, want 7", len(ids))
	}
	if st, _, _ := call(t, f, "GET", "/api/v2/stages?limit=501", ""); st != 400 {
		t.Errorf("limit 501: %d, want 400", st)
	}
	if st, _, _ := call(t, f, "GET", "/api/v2/stages?cursor=nonsense", ""); st != 400 {
		t.Errorf("a bad cursor: %d, want 400", st)
	}
}

func TestAuth(t *testing.T) {
	f := pdfake.Start()
	defer f.Close()
	resp, err := http.Get(f.URL + "/v1/users?api_token=" + f.Token())
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("api_token in the query: %v %v", resp.Status, err)
	}
	resp.Body.Close()
	resp, _ = http.Get(f.URL + "/v1/users?api_token=wrong")
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("a wrong token: %d", resp.StatusCode)
	}
	f.RevokeToken()
	if st, _, out := call(t, f, "GET", "/v1/users", ""); st != 401 || out["success"] != false {
		t.Errorf("a revoked token: %d %v", st, out)
	}
}

func TestWindowAndDailyBudget(t *testing.T) {
	f := pdfake.Start(pdfake.WithWindowLimit(3, 1), pdfake.WithDailyBudget(2))
	defer f.Close()
	st, h, _ := call(t, f, "GET", "/api/v2/deals/1", "")
	if st != 200 || h.Get("x-ratelimit-limit") != "3" || h.Get("x-ratelimit-remaining") != "2" || h.Get("x-ratelimit-reset") == "" || h.Get("x-daily-requests-left") != "2" {
		t.Errorf("headers %v", h)
	}
	if st, _, _ := call(t, f, "GET", "/api/v2/deals/search?term=Peter", ""); st != 200 {
		t.Errorf("first search: %d", st)
	}
	if st, h, _ := call(t, f, "GET", "/api/v2/deals/search?term=Peter", ""); st != 429 || h.Get("Retry-After") == "" {
		t.Errorf("second search in the window: %d %v", st, h)
	}
	call(t, f, "GET", "/api/v2/deals/1", "")
	st, h, out := call(t, f, "GET", "/api/v2/deals/1", "")
	if st != 429 || h.Get("x-ratelimit-remaining") != "0" || out["success"] != false {
		t.Errorf("fourth request in the window: %d %v %v", st, h, out)
	}
	time.Sleep(pdfake.Window)
	for i, want := range []int{200, 200, 429} {
		st, h, _ := call(t, f, "PATCH", "/api/v2/deals/1", `{"owner_id":3}`)
		if st != want {
			t.Errorf("write %d: %d, want %d", i, st, want)
		}
		if want == 429 && (h.Get("x-daily-requests-left") != "0" || h.Get("Retry-After") == "") {
			t.Errorf("over the budget: %v", h)
		}
	}
	// The budget is of writes: a read still passes (the refused write did
	// not count in the window).
	if st, _, _ := call(t, f, "GET", "/api/v2/deals/1", ""); st != 200 {
		t.Errorf("a read after the budget ran out: %d", st)
	}
}

func TestFaultRoutes(t *testing.T) {
	f := pdfake.Start(pdfake.WithWindowLimit(0, 0))
	defer f.Close()
	if r := pdfake.Route("PATCH", "/api/v2/deals/42"); r != "PATCH /api/v2/deals/{id}" {
		t.Errorf("Route = %q", r)
	}
	f.Inject(pdfake.Fault{Route: "PATCH /api/v2/deals/{id}", Status: 500})
	if st, _, _ := call(t, f, "GET", "/api/v2/deals/1", ""); st != 200 {
		t.Errorf("another route took the fault: %d", st)
	}
	if st, _, out := call(t, f, "PATCH", "/api/v2/deals/1", `{"owner_id":3}`); st != 500 || out["success"] != false {
		t.Errorf("the fault: %d %v", st, out)
	}
	if d, _ := f.Deal(1); d.OwnerID != 2 {
		t.Errorf("a failed request wrote: owner %d", d.OwnerID)
	}
	f.Inject(pdfake.Fault{Route: "/api/v2/deals/{id}", Times: 2, Status: 403})
	for range 2 {
		if st, _, _ := call(t, f, "GET", "/api/v2/deals/1", ""); st != 403 {
			t.Errorf("a method-less route: %d", st)
		}
	}
	if st, _, _ := call(t, f, "GET", "/api/v2/deals/1", ""); st != 200 {
		t.Errorf("the fault outlived its times: %d", st)
	}
}
