package ids

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/server/errs"
)

// Resolve turns the id a request names in field into the thing it names:
// it parses raw and hands the number to load, a query the store scopes to
// the context's account. A thing the account does not have — missing,
// deleted or another account's — is NOT_FOUND naming what and field, so
// the answer never tells a foreign id from a missing one (SPEC §9). Any
// other error is load's.
//
// The capabilities behind the handlers resolve the ids their requests name
// here, or with ResolveAll, so none can answer a foreign id differently.
func Resolve[T any](ctx context.Context, field, what, raw string, load func(context.Context, int64) (T, error)) (T, error) {
	var zero T
	id := Value(raw)
	if id == 0 {
		return zero, NotFound(field, what, raw)
	}
	v, err := load(ctx, id)
	if err != nil {
		if ent.IsNotFound(err) || errors.Is(err, errs.ErrNotFound) {
			return zero, NotFound(field, what, raw)
		}
		return zero, err
	}
	return v, nil
}

// ResolveAll resolves a list of ids named in field: found reads which of
// the numbers the account has. It returns the numbers in the request's
// order, or NOT_FOUND naming the first the account lacks (field[i]).
func ResolveAll(ctx context.Context, field, what string, raw []string, found func(context.Context, []int64) ([]int64, error)) ([]int64, error) {
	want := make([]int64, len(raw))
	for i, r := range raw {
		want[i] = Value(r)
	}
	have, err := found(ctx, want)
	if err != nil {
		return nil, err
	}
	held := make(map[int64]bool, len(have))
	for _, id := range have {
		held[id] = true
	}
	for i, id := range want {
		if !held[id] {
			return nil, NotFound(fmt.Sprintf("%s[%d]", field, i), what, raw[i])
		}
	}
	return want, nil
}

// NotFound is the answer for an id the account does not have: the message
// names the thing, a google.rpc.ResourceInfo detail the request field.
func NotFound(field, what, raw string) *errs.Error {
	return errs.NotFound(what, raw).With(&errdetails.ResourceInfo{
		ResourceType: what,
		ResourceName: raw,
		Description:  field + ": no such " + what + " in this account",
	})
}
