package accounts

import (
	"context"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/credential"
	"github.com/switchboardhq/switchboard/ent/employee"
	"github.com/switchboardhq/switchboard/server/auth"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/store"
)

// Remembered is what remembers checked credentials (the authenticator):
// a revocation makes it forget them, so the revoked one stops at once.
type Remembered interface{ Forget() }

// Identity is who a request's credential is.
type Identity struct {
	Account *ent.Account
	Caller  auth.Principal
	// Employee is the employee an employee token acts as; nil for an API key.
	Employee *ent.Employee
}

// Whoami tells who the context's caller is.
func Whoami(ctx context.Context, st *store.Store) (Identity, error) {
	p := auth.Caller(ctx)
	acct, err := st.Ent.Account.Get(ctx, p.AccountID)
	if err != nil {
		return Identity{}, err
	}
	out := Identity{Account: acct, Caller: p}
	if p.IsEmployee() {
		out.Employee, err = st.Ent.Employee.Get(ctx, p.EmployeeID)
		if err != nil {
			return Identity{}, store.NotFound(err, "employee", p.EmployeeID)
		}
	}
	return out, nil
}

// CreateAPIKey adds an API key to the context's account and returns it with
// its secret, shown this once. rateLimit is its requests per 5 s (0: the
// server's default).
func CreateAPIKey(ctx context.Context, st *store.Store, name string, rateLimit int32) (*ent.Credential, string, error) {
	secret, prefix, hash := auth.NewSecret(auth.APIKey)
	c, err := st.Ent.Credential.Create().
		SetKind(credential.KindAPI_KEY).SetName(name).SetPrefix(prefix).SetSecretHash(hash).SetRateLimit(rateLimit).
		Save(ctx)
	if err != nil {
		return nil, "", err
	}
	return c, secret, nil
}

// APIKeys lists the account's API keys.
func APIKeys(ctx context.Context, st *store.Store) ([]*ent.Credential, error) {
	return st.Ent.Credential.Query().Where(credential.KindEQ(credential.KindAPI_KEY)).Order(ent.Asc(credential.FieldID)).All(ctx)
}

// RevokeAPIKey revokes the API key id names, unless it is the account's
// last active one.
func RevokeAPIKey(ctx context.Context, st *store.Store, cache Remembered, id string) (*ent.Credential, error) {
	var out *ent.Credential
	err := st.Tx(ctx, func(tx *ent.Tx) error {
		c, err := ids.Resolve(ctx, "api_key_id", "API key", id, func(ctx context.Context, id int64) (*ent.Credential, error) {
			return store.ForUpdate(tx.Credential.Query().Where(credential.ID(id), credential.KindEQ(credential.KindAPI_KEY))).Only(ctx)
		})
		if err != nil {
			return err
		}
		if c.RevokedAt != nil {
			out = c
			return nil
		}
		// Lock the account's active keys so two revocations cannot each
		// leave the other as "the last one".
		active, err := store.ForUpdate(tx.Credential.Query().
			Where(credential.KindEQ(credential.KindAPI_KEY), credential.RevokedAtIsNil())).IDs(ctx)
		if err != nil {
			return err
		}
		if len(active) <= 1 {
			return errs.Precondition("API key %s is the account's last active key; create another before revoking it", id)
		}
		out, err = c.Update().SetRevokedAt(now()).Save(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	cache.Forget()
	return out, nil
}

// UpdateAPIKey sets the name and the rate limit (requests per 5 s) of the
// API key id names, those given; remembered credentials are forgotten so
// the new limit applies at once here and within the cache's lifetime on
// other replicas.
func UpdateAPIKey(ctx context.Context, st *store.Store, cache Remembered, id string, name *string, rateLimit *int32) (*ent.Credential, error) {
	var out *ent.Credential
	err := st.Tx(ctx, func(tx *ent.Tx) error {
		c, err := ids.Resolve(ctx, "api_key_id", "API key", id, func(ctx context.Context, id int64) (*ent.Credential, error) {
			return tx.Credential.Query().Where(credential.ID(id), credential.KindEQ(credential.KindAPI_KEY)).Only(ctx)
		})
		if err != nil {
			return err
		}
		u := c.Update()
		if name != nil {
			u.SetName(*name)
		}
		if rateLimit != nil {
			u.SetRateLimit(*rateLimit)
		}
		out, err = u.Save(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	if rateLimit != nil {
		cache.Forget()
	}
	return out, nil
}

// CreateEmployeeToken creates a token acting as the active employee
// employeeID names, and returns it with its secret, shown this once.
func CreateEmployeeToken(ctx context.Context, st *store.Store, employeeID, name string) (*ent.Credential, string, error) {
	e, err := ids.Resolve(ctx, "employee_id", "employee", employeeID, st.Ent.Employee.Get)
	if err != nil {
		return nil, "", err
	}
	if !e.Active {
		return nil, "", errs.Precondition("employee %s is deactivated", employeeID)
	}
	secret, prefix, hash := auth.NewSecret(auth.EmployeeToken)
	c, err := st.Ent.Credential.Create().
		SetKind(credential.KindEMPLOYEE_TOKEN).SetEmployeeID(e.ID).SetName(name).SetPrefix(prefix).SetSecretHash(hash).
		Save(ctx)
	if err != nil {
		return nil, "", err
	}
	return c, secret, nil
}

// EmployeeTokens lists the account's employee tokens: all of them, or
// those of the employee employeeID names.
func EmployeeTokens(ctx context.Context, st *store.Store, employeeID string) ([]*ent.Credential, error) {
	q := st.Ent.Credential.Query().Where(credential.KindEQ(credential.KindEMPLOYEE_TOKEN))
	if employeeID != "" {
		eid, err := ids.Resolve(ctx, "employee_id", "employee", employeeID, func(ctx context.Context, id int64) (int64, error) {
			return st.Ent.Employee.Query().Where(employee.ID(id)).OnlyID(ctx)
		})
		if err != nil {
			return nil, err
		}
		q = q.Where(credential.EmployeeID(eid))
	}
	return q.Order(ent.Asc(credential.FieldID)).All(ctx)
}

// RevokeEmployeeToken revokes the employee token id names.
func RevokeEmployeeToken(ctx context.Context, st *store.Store, cache Remembered, id string) (*ent.Credential, error) {
	c, err := ids.Resolve(ctx, "employee_token_id", "employee token", id, func(ctx context.Context, id int64) (*ent.Credential, error) {
		return st.Ent.Credential.Query().Where(credential.ID(id), credential.KindEQ(credential.KindEMPLOYEE_TOKEN)).Only(ctx)
	})
	if err != nil {
		return nil, err
	}
	if c.RevokedAt == nil {
		if c, err = c.Update().SetRevokedAt(now()).Save(ctx); err != nil {
			return nil, err
		}
	}
	cache.Forget()
	return c, nil
}
