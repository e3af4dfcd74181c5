package hubspot_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/hubspot"
	"github.com/switchboardhq/switchboard/server/crm/hubspot/hubfake"
)

// A HubSpot webhook carries no token to compare: the receiver checks the
// request's v3 signature with the app's client secret and the URL HubSpot
// called, then parses the events and reads each deal.
func Example_webhook() {
	f := hubfake.Start(hubfake.WithClientSecret("client-secret"))
	defer f.Close()
	conn, _ := crm.Open(crm.Config{Kind: crm.HubSpot, BaseURL: f.URL, Token: f.Token(), AllowAnyHost: true})

	var public string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := hubspot.VerifyWebhook(r, public, "client-secret", time.Now()); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		events, err := crm.ParseWebhook(crm.HubSpot, r)
		if err != nil {
			http.Error(w, "malformed", http.StatusBadRequest)
			return
		}
		for _, e := range events {
			st, _ := conn.Deal(r.Context(), e.DealID)
			fmt.Println("deal", e.DealID, "won:", st.Won)
		}
	}))
	defer recv.Close()
	public = recv.URL + "/webhooks/crm/key1"

	f.Subscribe(public)
	_ = f.CloseDeal(context.Background(), "1201", true)
	// Output: deal 1201 won: true
}
