package zoho_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/zoho"
	"github.com/switchboardhq/switchboard/server/crm/zoho/zohofake"
)

// An org's connection stores its data centre as the base URL and the
// self client's id, secret and refresh token as the credential; the
// connector reports the org's API credits through crm.Budgeted.
func Example_budget() {
	f := zohofake.Start()
	defer f.Close()
	cred := zoho.Credential(zohofake.DefaultClientID, zohofake.DefaultClientSecret, zohofake.DefaultRefreshToken, 20)
	conn, err := crm.Open(crm.Config{Kind: crm.Zoho, BaseURL: f.URL, Token: cred, AllowAnyHost: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	if _, err := conn.Directory(ctx); err != nil {
		fmt.Println(err)
		return
	}
	b := conn.(crm.Budgeted)
	got, _ := b.Budget(ctx)
	fmt.Printf("credits: %d of %d\n", got.Used, got.Limit)

	// At 90 % the connector stops by itself until credits come back.
	for err == nil {
		_, err = conn.Deal(ctx, zohofake.SeedDeal)
	}
	got, _ = b.Budget(ctx)
	fmt.Println("stopped at:", got.Used, "retryable:", !crm.Permanent(err) && !errors.Is(err, crm.ErrUnauthorized),
		"waits about a day:", crm.RetryAfter(err) > 23*time.Hour)
	// Output:
	// credits: 3 of 20
	// stopped at: 18 retryable: true waits about a day: true
}
