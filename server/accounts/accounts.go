// Package accounts creates accounts and serves AccountService: the account's
// API keys and employee tokens.
package accounts

import (
	"time"

	"context"
	"fmt"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/credential"
	"github.com/switchboardhq/switchboard/ent/schema/types"
	"github.com/switchboardhq/switchboard/server/auth"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// Create makes an account with default settings and one admin API key,
// named "admin". The key's secret is secret when given (an operator's
// bootstrap key), else random; it is returned once and stored hashed.
func Create(ctx context.Context, st *store.Store, name, secret string) (*ent.Account, string, error) {
	var acct *ent.Account
	if secret != "" {
		if problem := auth.CheckBootstrapSecret(secret); problem != "" {
			return nil, "", fmt.Errorf("bootstrap API key %s", problem)
		}
	}
	err := st.Tx(tenant.System(ctx), func(tx *ent.Tx) error {
		var err error
		acct, err = tx.Account.Create().SetName(name).Save(tenant.System(ctx))
		if err != nil {
			return err
		}
		actx := tenant.NewContext(ctx, acct.ID)
		if err := tx.AccountSettings.Create().Exec(actx); err != nil {
			return err
		}
		var prefix string
		var hash []byte
		if secret == "" {
			secret, prefix, hash = auth.NewSecret(auth.APIKey)
		} else {
			prefix, hash = auth.Prefix(secret), auth.Hash(secret)
		}
		return tx.Credential.Create().
			SetKind(credential.KindAPI_KEY).
			SetName("admin").
			SetPrefix(prefix).
			SetSecretHash(hash).
			Exec(actx)
	})
	if err != nil {
		return nil, "", fmt.Errorf("create account: %w", err)
	}
	return acct, secret, nil
}

// EnsureFirst creates the first account on an empty database and returns
// its admin key; on a database that has accounts it returns created=false.
func EnsureFirst(ctx context.Context, st *store.Store, name, secret string) (acct *ent.Account, key string, created bool, err error) {
	n, err := st.Ent.Account.Query().Count(tenant.System(ctx))
	if err != nil {
		return nil, "", false, err
	}
	if n > 0 {
		acct, err = st.Ent.Account.Query().Order(ent.Asc("id")).First(tenant.System(ctx))
		return acct, "", false, err
	}
	acct, key, err = Create(ctx, st, name, secret)
	return acct, key, err == nil, err
}

func now() time.Time { return types.Now() }
