package tenant

import (
	"context"
	"errors"
)

// ErrMissing is returned by the store for a query or mutation of tenant data
// made with neither an account nor system scope in its context: scoping fails
// closed.
var ErrMissing = errors.New("tenant: no account in context")

type accountKey struct{}

type systemKey struct{}

// NewContext returns a context scoped to one account.
func NewContext(ctx context.Context, accountID int64) context.Context {
	return context.WithValue(ctx, accountKey{}, accountID)
}

// FromContext returns the account the context is scoped to.
func FromContext(ctx context.Context) (int64, bool) {
	id, ok := ctx.Value(accountKey{}).(int64)
	return id, ok && id > 0
}

// System returns a context that may read and write every account's data. Only
// start-up, the credential check and background work that spans accounts use
// it; requests never do.
func System(ctx context.Context) context.Context {
	return context.WithValue(ctx, systemKey{}, true)
}

// IsSystem reports whether the context has system scope.
func IsSystem(ctx context.Context) bool {
	v, _ := ctx.Value(systemKey{}).(bool)
	return v
}
