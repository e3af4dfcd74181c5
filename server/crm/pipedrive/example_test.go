package pipedrive_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/pipedrive/pdfake"
)

// A webhook carries the deal's id and the Basic credentials chosen when it
// was created: the receiver compares the password with the stored one,
// then reads the deal's status.
func Example_webhook() {
	f := pdfake.Start()
	defer f.Close()
	conn, _ := crm.Open(crm.Config{Kind: crm.Pipedrive, BaseURL: f.URL, Token: f.Token(), AllowAnyHost: true})
	ctx := context.Background()

	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		events, err := crm.ParseWebhook(crm.Pipedrive, r)
		if err != nil {
			http.Error(w, "malformed", http.StatusBadRequest)
			return
		}
		for _, e := range events {
			if !crm.TokenMatches(e.Token, "stored-password") {
				http.Error(w, "wrong credentials", http.StatusUnauthorized)
				return
			}
			st, _ := conn.Deal(ctx, e.DealID)
			fmt.Println("deal", e.DealID, "won:", st.Won)
		}
	}))
	defer recv.Close()

	f.Subscribe(pdfake.Subscription{URL: recv.URL, Action: "change", Entity: "deal", User: "switchboard", Password: "stored-password"})
	_ = f.CloseDeal(ctx, 1, true)
	// Output: deal 1 won: true
}
