package bitrix24_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/bitrix24"
	"github.com/switchboardhq/switchboard/server/crm/bitrix24/bxfake"
)

// The portal shows an incoming webhook as one URL; its base goes to
// crm.Config.BaseURL and its "{user}/{secret}" to crm.Config.Token, the
// sealed credential.
func ExampleSplitWebhookURL() {
	base, cred, err := bitrix24.SplitWebhookURL("https://example.bitrix24.ru/rest/1/abcdef0123456789/")
	fmt.Println(base, strings.Count(cred, "/"), err)
	// Output: https://example.bitrix24.ru 1 <nil>
}

// An outgoing event carries only the deal's id and the application token:
// the receiver compares the token with the stored one, then reads the
// deal.
func Example_outgoingEvent() {
	f := bxfake.Start(bxfake.WithApplicationToken("stored-token"))
	defer f.Close()
	conn, _ := crm.Open(crm.Config{Kind: crm.Bitrix24, BaseURL: f.URL, Token: f.Credential(), AllowAnyHost: true})
	ctx := context.Background()

	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		events, err := crm.ParseWebhook(crm.Bitrix24, r)
		if err != nil {
			http.Error(w, "malformed", http.StatusBadRequest)
			return
		}
		for _, e := range events {
			if !crm.TokenMatches(e.Token, "stored-token") {
				http.Error(w, "wrong token", http.StatusForbidden)
				return
			}
			st, _ := conn.Deal(ctx, e.DealID)
			fmt.Println("deal", e.DealID, "won:", st.Won)
		}
	}))
	defer recv.Close()

	f.BindEvent(bxfake.EventDealUpdate, recv.URL)
	_ = f.CloseDeal(ctx, 1, true)
	// Output: deal 1 won: true
}
