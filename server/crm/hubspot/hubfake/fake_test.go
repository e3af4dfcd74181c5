package hubfake_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/server/crm/hubspot/hubfake"
)

// call sends a raw request with the fake's token and decodes the answer.
func call(t *testing.T, f *hubfake.Server, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, f.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+f.Token())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, out
}

func start(t *testing.T, opts ...hubfake.Option) *hubfake.Server {
	f := hubfake.Start(opts...)
	t.Cleanup(f.Close)
	return f
}

func TestErrorShapes(t *testing.T) {
	f := start(t, hubfake.WithBurst(2, time.Minute))
	req, _ := http.NewRequest("GET", f.URL+"/crm/v3/owners", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 401 || body["status"] != "error" || body["category"] != "INVALID_AUTHENTICATION" || body["correlationId"] == "" {
		t.Errorf("no token: %d %v", resp.StatusCode, body)
	}
	call(t, f, "GET", "/crm/v3/owners", "")
	call(t, f, "GET", "/crm/v3/owners", "")
	st, b := call(t, f, "GET", "/crm/v3/owners", "")
	if st != 429 || b["category"] != "RATE_LIMITS" || b["policyName"] != "TEN_SECONDLY_ROLLING" || b["errorType"] != "RATE_LIMIT" {
		t.Errorf("over the window: %d %v", st, b)
	}
	f.SetBurst(0, 0)
	st, b = call(t, f, "GET", "/crm/v3/objects/deals/999", "")
	if st != 404 || b["category"] != "OBJECT_NOT_FOUND" {
		t.Errorf("missing deal: %d %v", st, b)
	}
	st, b = call(t, f, "POST", "/crm/v3/objects/deals", `{"properties":{"dealname":"x","dealstage":"closedwon","colour":"red"}}`)
	if st != 400 || b["category"] != "VALIDATION_ERROR" || !strings.Contains(b["message"].(string), "PROPERTY_DOESNT_EXIST") {
		t.Errorf("unknown property: %d %v", st, b)
	}
	before := len(f.Records("deals"))
	st, _ = call(t, f, "POST", "/crm/v3/objects/deals", `{"properties":{"dealname":"x","dealstage":"closedwon"},
		"associations":[{"to":{"id":"999999"},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":3}]}]}`)
	if st != 400 || len(f.Records("deals")) != before {
		t.Errorf("an association to nothing: %d, and %d deals written", st, len(f.Records("deals"))-before)
	}
	st, _ = call(t, f, "POST", "/crm/v3/objects/deals", `{"properties":{"dealname":"x","dealstage":"75894513"}}`)
	if st != 400 {
		t.Errorf("a stage of another pipeline than default: %d", st)
	}
}

func TestOwnersAndPipelinesShapes(t *testing.T) {
	f := start(t)
	st, b := call(t, f, "GET", "/crm/v3/owners?limit=2", "")
	res := b["results"].([]any)
	next := b["paging"].(map[string]any)["next"].(map[string]any)["after"]
	if st != 200 || len(res) != 2 || next != "2" || res[0].(map[string]any)["id"] != "41629779" {
		t.Errorf("owners page: %d %v", st, b)
	}
	_, b = call(t, f, "GET", "/crm/v3/owners?archived=true", "")
	if res := b["results"].([]any); len(res) != 1 || res[0].(map[string]any)["archived"] != true || b["paging"] != nil {
		t.Errorf("archived owners: %v", b)
	}
	_, b = call(t, f, "GET", "/crm/v3/pipelines/deals", "")
	p := b["results"].([]any)[0].(map[string]any)
	won := p["stages"].([]any)[5].(map[string]any)["metadata"].(map[string]any)
	if p["id"] != "default" || won["isClosed"] != "true" || won["probability"] != "1.0" {
		t.Errorf("pipeline %v", p)
	}
}

func TestSearchAndAssociations(t *testing.T) {
	f := start(t, hubfake.WithSearchLimit(0))
	id := f.Add(hubfake.Record{Type: "contacts", Props: map[string]string{"firstname": "Ann", "phone": "+7 916 123-45-01"}})
	for _, tc := range []struct {
		filter string
		hits   int
	}{
		{`{"propertyName":"phone","operator":"EQ","value":"+7 916 123-45-01"}`, 1},
		{`{"propertyName":"hs_searchable_calculated_phone_number","operator":"IN","values":["9161234501"]}`, 1},
		{`{"propertyName":"hs_searchable_calculated_phone_number","operator":"EQ","value":"89035550102"}`, 1},
		{`{"propertyName":"firstname","operator":"CONTAINS_TOKEN","value":"an*"}`, 1},
		{`{"propertyName":"mobilephone","operator":"HAS_PROPERTY"}`, 0},
	} {
		st, b := call(t, f, "POST", "/crm/v3/objects/contacts/search", `{"filterGroups":[{"filters":[`+tc.filter+`]}],"properties":["phone"]}`)
		if st != 200 || int(b["total"].(float64)) != tc.hits {
			t.Errorf("%s: %d %v", tc.filter, st, b)
		}
	}
	groups := strings.Repeat(`{"filters":[{"propertyName":"phone","operator":"HAS_PROPERTY"}]},`, 6)
	if st, _ := call(t, f, "POST", "/crm/v3/objects/contacts/search", `{"filterGroups":[`+strings.TrimSuffix(groups, ",")+`]}`); st != 400 {
		t.Errorf("6 filter groups: %d, want 400", st)
	}
	st, b := call(t, f, "POST", "/crm/v3/objects/contacts/batch/read", `{"properties":["firstname"],"inputs":[{"id":"`+id+`"},{"id":"777"}]}`)
	if st != 207 || len(b["results"].([]any)) != 1 || b["errors"] == nil {
		t.Errorf("batch read with a missing id: %d %v", st, b)
	}
	_, b = call(t, f, "GET", "/crm/v4/objects/contacts/51/associations/deals", "")
	r := b["results"].([]any)[0].(map[string]any)
	types := r["associationTypes"].([]any)[0].(map[string]any)
	if r["toObjectId"] != float64(1201) || types["typeId"] != float64(4) || types["category"] != "HUBSPOT_DEFINED" {
		t.Errorf("contact→deal association: %v", b)
	}
}
