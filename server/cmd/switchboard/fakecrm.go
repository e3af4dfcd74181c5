package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/switchboardhq/switchboard/server/crm/amocrm/amofake"
)

// fakeCRM runs "switchboard fake-crm amocrm": an in-memory amoCRM account
// on this machine (users, pipelines, a contact with a lead), to try the
// whole CRM loop without a real CRM.
func fakeCRM(ctx context.Context, args []string) error {
	if len(args) < 1 || args[0] != "amocrm" {
		return fmt.Errorf("usage: switchboard fake-crm amocrm [--addr 127.0.0.1:8091] [--token TOKEN]")
	}
	fs := flag.NewFlagSet("fake-crm amocrm", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8091", "listen address")
	token := fs.String("token", "fake-amocrm-token", "the long-lived token the fake accepts")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "fake amoCRM at http://%s (token %q); connect it with --crm-allow-any-host\n", *addr, *token)
	return amofake.Serve(ctx, *addr, *token)
}
