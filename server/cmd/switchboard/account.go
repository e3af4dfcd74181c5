package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/switchboardhq/switchboard/server/accounts"
	"github.com/switchboardhq/switchboard/server/store"
)

// account runs "switchboard account create": operators add tenants here;
// the API has no cross-account scope.
func account(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: switchboard account create --name NAME [--database-url URL]")
	}
	fs := flag.NewFlagSet("account create", flag.ContinueOnError)
	name := fs.String("name", "", "account name (required)")
	dbURL := fs.String("database-url", env("DATABASE_URL", ""), "database (as for serve)")
	dataDir := fs.String("data-dir", env("SWITCHBOARD_DATA_DIR", "data"), "directory of the default SQLite database")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *name == "" {
		return fmt.Errorf("--name is required")
	}
	st, err := store.Open(ctx, store.Config{URL: *dbURL, DataDir: *dataDir})
	if err != nil {
		return err
	}
	defer st.Close()
	acct, key, err := accounts.Create(ctx, st, *name, "")
	if err != nil {
		return err
	}
	fmt.Printf("account %d %q created\nadmin API key (shown once): %s\n", acct.ID, acct.Name, key)
	return nil
}
