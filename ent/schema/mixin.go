package schema

import (
	"context"
	"fmt"
	"github.com/switchboardhq/switchboard/ent/schema/types"
	"unicode/utf8"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"entgo.io/ent/schema/mixin"

	"github.com/switchboardhq/switchboard/ent/intercept"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// TenantMixin gives an entity an account_id and scopes every query and
// mutation of it to the account in the context (see package tenant). This is
// the one place tenant isolation is enforced: handlers cannot forget it.
type TenantMixin struct {
	mixin.Schema
	// NoAccountIndex leaves out the index on account_id alone, which serves
	// listing an account's rows. The tables every routed message writes to
	// set it: another index of theirs begins with account_id, or nothing
	// lists them by account alone, and each index costs every insert.
	NoAccountIndex bool
}

// Fields of the TenantMixin.
func (TenantMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("account_id").Immutable().Positive(),
	}
}

// Indexes of the TenantMixin.
func (m TenantMixin) Indexes() []ent.Index {
	if m.NoAccountIndex {
		return nil
	}
	return []ent.Index{index.Fields("account_id")}
}

// wherer is implemented by every generated mutation.
type wherer interface {
	WhereP(...func(*sql.Selector))
}

// fielder is implemented by every generated mutation.
type fielder interface {
	Field(string) (ent.Value, bool)
	SetField(string, ent.Value) error
}

func scope(ctx context.Context) (id int64, all bool, err error) {
	if id, ok := tenant.FromContext(ctx); ok {
		return id, false, nil
	}
	if tenant.IsSystem(ctx) {
		return 0, true, nil
	}
	return 0, false, tenant.ErrMissing
}

// Interceptors of the TenantMixin: every read is filtered by account.
func (TenantMixin) Interceptors() []ent.Interceptor {
	return []ent.Interceptor{
		ent.TraverseFunc(func(ctx context.Context, q ent.Query) error {
			id, all, err := scope(ctx)
			if err != nil || all {
				return err
			}
			tq, err := intercept.NewQuery(q)
			if err != nil {
				return fmt.Errorf("tenant: %w", err)
			}
			tq.WhereP(sql.FieldEQ("account_id", id))
			return nil
		}),
	}
}

// Hooks of the TenantMixin: creates get the context's account, updates and
// deletes only reach its rows.
func (TenantMixin) Hooks() []ent.Hook {
	return []ent.Hook{
		func(next ent.Mutator) ent.Mutator {
			return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
				id, all, err := scope(ctx)
				if err != nil {
					return nil, err
				}
				if m.Op().Is(ent.OpCreate) {
					f, ok := m.(fielder)
					if !ok {
						return nil, fmt.Errorf("tenant: mutation %T cannot be scoped", m)
					}
					if all {
						if _, set := f.Field("account_id"); !set {
							return nil, tenant.ErrMissing
						}
						return next.Mutate(ctx, m)
					}
					if v, set := f.Field("account_id"); set && v.(int64) != id {
						return nil, fmt.Errorf("tenant: create for account %v in account %d", v, id)
					}
					if err := f.SetField("account_id", id); err != nil {
						return nil, err
					}
					return next.Mutate(ctx, m)
				}
				if !all {
					w, ok := m.(wherer)
					if !ok {
						return nil, fmt.Errorf("tenant: mutation %T cannot be scoped", m)
					}
					w.WhereP(sql.FieldEQ("account_id", id))
				}
				return next.Mutate(ctx, m)
			})
		},
	}
}

// TimeMixin records when a row was created.
type TimeMixin struct {
	mixin.Schema
}

// Fields of the TimeMixin.
func (TimeMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").Immutable().Default(types.Now),
	}
}

// chars limits a string to n characters (runes), the unit the API and
// PostgreSQL's varchar(n) count in; a byte limit would refuse, as an
// internal error, names the API accepted (a Cyrillic letter is two bytes).
func chars(n int) func(string) error {
	return func(s string) error {
		if utf8.RuneCountInString(s) > n {
			return fmt.Errorf("longer than %d characters", n)
		}
		return nil
	}
}
