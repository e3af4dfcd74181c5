package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/field"
)

// Credential is an account API key or an employee token. Only a SHA-256 of
// the secret is stored; the secret is shown once, when created.
type Credential struct {
	ent.Schema
}

// Fields of the Credential.
func (Credential) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id"),
		field.Enum("kind").Values("API_KEY", "EMPLOYEE_TOKEN"),
		field.Int64("employee_id").Optional().Nillable().Immutable(),
		field.String("name").Validate(chars(100)).Annotations(entsql.Annotation{Size: 100}),
		field.String("prefix").Immutable(),
		field.Bytes("secret_hash").Immutable().Unique().Sensitive(),
		field.Time("revoked_at").Optional().Nillable(),
		// rate_limit is the requests an API key may make per 5 s; 0: the
		// server's default.
		field.Int32("rate_limit").Default(0).NonNegative(),
	}
}

// Mixin of the Credential.
func (Credential) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}
