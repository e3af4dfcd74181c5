package bxfake_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/server/crm/bitrix24/bxfake"
)

// call POSTs JSON to a method and returns the status and decoded body.
func call(t *testing.T, f *bxfake.Server, method, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(f.WebhookURL()+method+".json", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, decode(t, resp.Body)
}

func decode(t *testing.T, r io.Reader) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func start(t *testing.T, opts ...bxfake.Option) *bxfake.Server {
	t.Helper()
	f := bxfake.Start(append([]bxfake.Option{bxfake.WithBucket(0, 0)}, opts...)...)
	t.Cleanup(f.Close)
	return f
}

func TestAnswerShapes(t *testing.T) {
	f := start(t)
	status, m := call(t, f, "crm.deal.get", `{"id": 1}`)
	if status != 200 || m["time"] == nil {
		t.Fatalf("%d %v", status, m)
	}
	d := m["result"].(map[string]any)
	if d["ID"] != "1" || d["CATEGORY_ID"] != "0" || d["STAGE_SEMANTIC_ID"] != "P" || d["CONTACT_ID"] != "1" || d["ASSIGNED_BY_ID"] != "2" {
		t.Errorf("deal %v: ids must be strings", d)
	}
	_, m = call(t, f, "crm.contact.get", `{"id": "1"}`)
	ph := m["result"].(map[string]any)["PHONE"].([]any)[0].(map[string]any)
	if ph["VALUE"] != "8 (903) 555-01-02" || ph["VALUE_TYPE"] != "MOBILE" || ph["TYPE_ID"] != "PHONE" {
		t.Errorf("phone %v", ph)
	}
	_, m = call(t, f, "crm.contact.add", `{"fields": {"NAME": "Ann"}}`)
	if _, isNum := m["result"].(float64); !isNum {
		t.Errorf("add answers %v; want a number", m["result"])
	}
	_, m = call(t, f, "crm.duplicate.findbycomm", `{"entity_type": "CONTACT", "type": "PHONE", "values": ["+15550000000"]}`)
	if r, ok := m["result"].([]any); !ok || len(r) != 0 {
		t.Errorf("nothing found answers %v; want []", m["result"])
	}
	_, m = call(t, f, "crm.duplicate.findbycomm", `{"entity_type": "CONTACT", "type": "PHONE", "values": ["+7 903 555 01 02"]}`)
	if ids := m["result"].(map[string]any)["CONTACT"].([]any); len(ids) != 1 || ids[0] != float64(1) {
		t.Errorf("found %v", m["result"])
	}
	_, m = call(t, f, "user.get", `{}`)
	if m["total"] != float64(6) || m["next"] != nil || len(m["result"].([]any)) != 6 {
		t.Errorf("user.get %v", m)
	}
	_, m = call(t, f, "crm.category.list", `{"entityTypeId": 2}`)
	cats := m["result"].(map[string]any)["categories"].([]any)
	if len(cats) != 2 || cats[0].(map[string]any)["id"] != float64(0) || cats[0].(map[string]any)["isDefault"] != "Y" {
		t.Errorf("categories %v", cats)
	}
	_, m = call(t, f, "crm.status.list", `{"filter": {"ENTITY_ID": "DEAL_STAGE_1"}}`)
	st := m["result"].([]any)
	if len(st) != 4 || st[0].(map[string]any)["STATUS_ID"] != "C1:NEW" || st[2].(map[string]any)["SEMANTICS"] != "S" || st[0].(map[string]any)["SEMANTICS"] != nil {
		t.Errorf("stages %v", st)
	}
}

func TestErrorsAndAuth(t *testing.T) {
	f := start(t)
	status, m := call(t, f, "crm.deal.get", `{"id": 999}`)
	if status != 400 || m["error_description"] != "Not found" {
		t.Errorf("missing deal: %d %v", status, m)
	}
	status, m = call(t, f, "crm.nothing", `{}`)
	if status != 404 || m["error"] != "ERROR_METHOD_NOT_FOUND" {
		t.Errorf("unknown method: %d %v", status, m)
	}
	status, m = call(t, f, "crm.timeline.comment.add", `{"FIELDS": {"ENTITY_ID": 1, "ENTITY_TYPE": "deal", "COMMENT": "x"}}`)
	if status != 400 {
		t.Errorf("upper-case FIELDS accepted: %d %v", status, m)
	}
	status, m = call(t, f, "crm.timeline.comment.add", `{"fields": {"ENTITY_ID": 9999, "ENTITY_TYPE": "deal", "COMMENT": "x"}}`)
	if status != 400 || m["error"] != "OWNER_NOT_FOUND" {
		t.Errorf("comment on a missing deal: %d %v", status, m)
	}
	f.RevokeWebhook()
	status, m = call(t, f, "crm.deal.get", `{"id": 1}`)
	if status != 401 || m["error"] != "INVALID_CREDENTIALS" {
		t.Errorf("revoked: %d %v", status, m)
	}
}

func TestLeakyBucket(t *testing.T) {
	f := start(t, bxfake.WithBucket(1, 2))
	for i, want := range []int{200, 200, 503} {
		status, m := call(t, f, "crm.deal.get", `{"id": 1}`)
		if status != want {
			t.Fatalf("request %d: %d %v, want %d", i, status, m, want)
		}
		if status == 503 && m["error"] != "QUERY_LIMIT_EXCEEDED" {
			t.Errorf("503 body %v", m)
		}
	}
}

func TestFormAndQueryParams(t *testing.T) {
	f := start(t)
	resp, err := http.PostForm(f.WebhookURL()+"crm.contact.add", url.Values{
		"fields[NAME]": {"Form"}, "fields[PHONE][0][VALUE]": {"+1 555 0100"}, "fields[PHONE][0][VALUE_TYPE]": {"HOME"},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, resp.Body)
	resp.Body.Close()
	c, ok := f.Contact(int64(m["result"].(float64)))
	if !ok || c.Name != "Form" || len(c.Phones) != 1 || c.Phones[0].ValueType != "HOME" {
		t.Errorf("form-encoded add: %+v", c)
	}
	resp, err = http.Get(f.WebhookURL() + "crm.deal.get.json?id=1")
	if err != nil {
		t.Fatal(err)
	}
	m = decode(t, resp.Body)
	resp.Body.Close()
	if m["result"].(map[string]any)["ID"] != "1" {
		t.Errorf("GET with a query: %v", m)
	}
}

func TestBatchRunsInOrderWithReferences(t *testing.T) {
	f := start(t)
	// "z" before "a": the order sent, not the keys' order.
	status, m := call(t, f, "batch", `{"halt": 1, "cmd": {
		"z": "crm.contact.add?fields[NAME]=Zed&fields[PHONE][0][VALUE]=%2B15550101",
		"a": "crm.deal.add?fields[TITLE]=Zed%27s&fields[CONTACT_IDS][0]=$result[z]"}}`)
	if status != 200 {
		t.Fatalf("%d %v", status, m)
	}
	r := m["result"].(map[string]any)
	if e, ok := r["result_error"].([]any); !ok || len(e) != 0 {
		t.Errorf("result_error %v; want []", r["result_error"])
	}
	res := r["result"].(map[string]any)
	d, ok := f.Deal(int64(res["a"].(float64)))
	if !ok || len(d.ContactIDs) != 1 || d.ContactIDs[0] != int64(res["z"].(float64)) || d.Title != "Zed's" {
		t.Errorf("deal %+v from %v", d, res)
	}
	// halt stops at the failure; without halt the rest runs.
	_, m = call(t, f, "batch", `{"halt": 1, "cmd": {"bad": "crm.deal.get?id=999", "ok": "crm.deal.get?id=1"}}`)
	r = m["result"].(map[string]any)
	if res, ok := r["result"].([]any); !ok || len(res) != 0 {
		t.Errorf("halt did not stop, or an empty result is not []: %v", r["result"])
	}
	if r["result_error"].(map[string]any)["bad"] == nil {
		t.Errorf("no error for the failed command: %v", r)
	}
	if got := f.Calls(); got[len(got)-2] != "batch" || got[len(got)-1] != "batch:crm.deal.get" {
		t.Errorf("calls %v", got)
	}
}

func TestFaults(t *testing.T) {
	f := start(t)
	f.Inject(bxfake.Fault{Method: "crm.deal.add", DropAfterCommit: true})
	before := len(f.Deals())
	_, err := http.Post(f.WebhookURL()+"batch", "application/json",
		strings.NewReader(`{"cmd": {"d": "crm.deal.add?fields[TITLE]=Lost"}}`))
	if err == nil {
		t.Fatal("the connection was not dropped")
	}
	if len(f.Deals()) != before+1 {
		t.Error("the write was not kept")
	}
	f.FailNext("crm.deal.get", 2, 503)
	for i, want := range []int{503, 503, 200} {
		if status, _ := call(t, f, "crm.deal.get", `{"id": 1}`); status != want {
			t.Errorf("call %d: %d, want %d", i, status, want)
		}
	}
}

func TestEventDelivery(t *testing.T) {
	got := make(chan url.Values, 1)
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got <- r.PostForm
	}))
	defer sink.Close()
	f := start(t, bxfake.WithApplicationToken("tok"))
	f.BindEvent("onCrmDealUpdate", sink.URL)
	if err := f.MoveDeal(context.Background(), 1, "EXECUTING"); err != nil {
		t.Fatal(err)
	}
	form := <-got
	if form.Get("event") != "ONCRMDEALUPDATE" || form.Get("data[FIELDS][ID]") != "1" || form.Get("auth[application_token]") != "tok" ||
		form.Get("auth[domain]") == "" || form.Get("ts") == "" {
		t.Errorf("event form %v", form)
	}
	if err := f.MoveDeal(context.Background(), 1, "C1:NEW"); err == nil {
		t.Error("a stage of another pipeline accepted")
	}
}
