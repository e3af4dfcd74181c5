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
	if err := checkSecret(secret); err != nil {
		return nil, "", err
	}
	var acct *ent.Account
	var key string
	err := st.Tx(tenant.System(ctx), func(tx *ent.Tx) error {
		var err error
		acct, key, err = create(ctx, tx, name, secret)
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("create account: %w", err)
	}
	return acct, key, nil
}

// firstLockKey serializes EnsureFirst among replicas starting at once.
const firstLockKey = 0x5357_4246 // "SWBF"

// EnsureFirst gives a server its account on first start. On an empty
// database it creates one and returns its admin key (secret when given,
// else random: shown once). On a database that has accounts it returns the
// oldest with created=false, and a given secret becomes one of its API keys
// unless a key with that secret exists (even revoked), so scripts keep
// working across restarts. Replicas starting together on an empty
// PostgreSQL create one account: the check and the creation hold a lock.
func EnsureFirst(ctx context.Context, st *store.Store, name, secret string) (acct *ent.Account, key string, created bool, err error) {
	if err := checkSecret(secret); err != nil {
		return nil, "", false, err
	}
	sys := tenant.System(ctx)
	err = st.Tx(sys, func(tx *ent.Tx) error {
		if err := st.LockTx(sys, tx, firstLockKey); err != nil {
			return err
		}
		acct, err = tx.Account.Query().Order(ent.Asc("id")).First(sys)
		if ent.IsNotFound(err) {
			created = true
			acct, key, err = create(ctx, tx, name, secret)
			return err
		}
		if err != nil || secret == "" {
			return err
		}
		exists, err := tx.Credential.Query().Where(credential.SecretHash(auth.Hash(secret))).Exist(sys)
		if err != nil || exists {
			return err
		}
		_, err = addAPIKey(tenant.NewContext(ctx, acct.ID), tx.Client(), "bootstrap", secret)
		return err
	})
	if err != nil {
		return nil, "", false, fmt.Errorf("first account: %w", err)
	}
	return acct, key, created, nil
}

func checkSecret(secret string) error {
	if secret == "" {
		return nil
	}
	if problem := auth.CheckBootstrapSecret(secret); problem != "" {
		return fmt.Errorf("bootstrap API key %s", problem)
	}
	return nil
}

// create makes the account, its settings and its admin key in tx.
func create(ctx context.Context, tx *ent.Tx, name, secret string) (*ent.Account, string, error) {
	acct, err := tx.Account.Create().SetName(name).Save(tenant.System(ctx))
	if err != nil {
		return nil, "", err
	}
	actx := tenant.NewContext(ctx, acct.ID)
	if err := tx.AccountSettings.Create().Exec(actx); err != nil {
		return nil, "", err
	}
	key, err := addAPIKey(actx, tx.Client(), "admin", secret)
	return acct, key, err
}

// addAPIKey adds an API key to the context's account and returns its
// secret: the one given, else a new random one.
func addAPIKey(ctx context.Context, c *ent.Client, name, secret string) (string, error) {
	var prefix string
	var hash []byte
	if secret == "" {
		secret, prefix, hash = auth.NewSecret(auth.APIKey)
	} else {
		prefix, hash = auth.Prefix(secret), auth.Hash(secret)
	}
	err := c.Credential.Create().SetKind(credential.KindAPI_KEY).SetName(name).
		SetPrefix(prefix).SetSecretHash(hash).Exec(ctx)
	return secret, err
}

func now() time.Time { return types.Now() }
