package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/switchboardhq/switchboard/server/crm/amocrm/amofake"
	"github.com/switchboardhq/switchboard/server/crm/bitrix24/bxfake"
	"github.com/switchboardhq/switchboard/server/crm/zoho/zohofake"
)

// fakeCRM runs "switchboard fake-crm amocrm|bitrix24|zoho": an in-memory
// CRM account on this machine (users, pipelines, a contact with a deal), to
// try the whole CRM loop without a real CRM.
func fakeCRM(ctx context.Context, args []string) error {
	const usage = "usage: switchboard fake-crm amocrm|bitrix24|zoho [--addr 127.0.0.1:8091] [--token TOKEN]"
	if len(args) < 1 {
		return fmt.Errorf("%s", usage)
	}
	kind := args[0]
	fs := flag.NewFlagSet("fake-crm "+kind, flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8091", "listen address")
	token := fs.String("token", "fake-amocrm-token", "amocrm: the long-lived token the fake accepts")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	base := "http://" + *addr
	switch kind {
	case "amocrm":
		fmt.Fprintf(os.Stderr, "fake amoCRM at %s (token %q); connect it with --crm-allow-any-host\n", base, *token)
		return amofake.Serve(ctx, *addr, *token)
	case "bitrix24":
		fmt.Fprintf(os.Stderr, "fake Bitrix24 portal at %s; connect it with --crm-allow-any-host, address %s, token %s/rest/%d/%s/\n",
			base, base, base, bxfake.DefaultUserID, bxfake.DefaultSecret)
		return bxfake.Serve(ctx, *addr)
	case "zoho":
		f := zohofake.New()
		fmt.Fprintf(os.Stderr, "fake Zoho CRM at %s; connect it with --crm-allow-any-host, address %s, token %s\n", base, base, f.Credential())
		return zohofake.Serve(ctx, *addr)
	}
	return fmt.Errorf("%s", usage)
}
