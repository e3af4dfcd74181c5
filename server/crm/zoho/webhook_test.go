package zoho_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/zoho"
)

func post(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/hooks/crm/zoho", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

func TestParseWebhook(t *testing.T) {
	const update = `{"server_time":1764489600000,"query_params":{},"module":"Deals",
		"resource_uri":"https://www.zohoapis.eu/crm/v7/Deals","ids":["5725767000000600001",5725767000000600002],
		"affected_fields":[{"5725767000000600001":["Stage"]}],"operation":"update",
		"channel_id":"1000000068001","token":"sb-chan-7f3a"}`
	events, err := crm.ParseWebhook(crm.Zoho, post(update))
	if err != nil {
		t.Fatal(err)
	}
	want := []crm.Event{{DealID: "5725767000000600001", Token: "sb-chan-7f3a"}, {DealID: "5725767000000600002", Token: "sb-chan-7f3a"}}
	if len(events) != len(want) || events[0] != want[0] || events[1] != want[1] {
		t.Errorf("events = %+v, want %+v", events, want)
	}
	if !crm.TokenMatches(events[0].Token, "sb-chan-7f3a") || crm.TokenMatches(events[0].Token, "other") {
		t.Error("the channel token does not compare as stored")
	}
	n, err := zoho.ParseNotification([]byte(update))
	if err != nil || n.ChannelID != "1000000068001" || n.Operation != "update" || n.Module != "Deals" {
		t.Errorf("ParseNotification = %+v, %v", n, err)
	}

	for name, body := range map[string]string{
		"contacts": `{"module":"Contacts","ids":["1"],"operation":"update","channel_id":1,"token":"t"}`,
		"deleted":  `{"module":"Deals","ids":["1"],"operation":"delete","channel_id":1,"token":"t"}`,
	} {
		events, err := crm.ParseWebhook(crm.Zoho, post(body))
		if err != nil || len(events) != 0 {
			t.Errorf("%s: %+v, %v; want no events", name, events, err)
		}
	}
	events, err = crm.ParseWebhook(crm.Zoho, post(`{"module":"Deals","ids":["9"],"operation":"insert","channel_id":1}`))
	if err != nil || len(events) != 1 || events[0].DealID != "9" || events[0].Token != "" {
		t.Errorf("insert without a token: %+v, %v", events, err)
	}
	for _, bad := range []string{"", "module=Deals", `{"ids":["1"]}`, `{"module":"Deals","ids":["../1"],"operation":"update"}`, `[1]`} {
		if _, err := crm.ParseWebhook(crm.Zoho, post(bad)); err == nil {
			t.Errorf("body %q accepted", bad)
		}
	}
}
