package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// OpenClientCount is how many open clients an employee has on a channel
// (SPEC §11, capacity): clients it is responsible for with an OPEN deal or
// lead on the channel, each counted once. Routing reads it to skip members
// at capacity; nothing in Go writes it. Database triggers on deals (insert,
// state change, delete) and contacts (responsible change, delete) keep it
// in the writing transaction, whatever path wrote — routing, a transfer, a
// CRM webhook, a deleted employee — so reading it costs one indexed row per
// member however many clients are open (server/store/migrations, the
// open_client_counts migration).
type OpenClientCount struct {
	ent.Schema
}

// Fields of the OpenClientCount.
func (OpenClientCount) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id"),
		field.Int64("channel_id").Immutable(),
		field.Int64("employee_id").Immutable(),
		field.Int64("clients").Default(0),
	}
}

// Indexes of the OpenClientCount.
func (OpenClientCount) Indexes() []ent.Index {
	return []ent.Index{index.Fields("channel_id", "employee_id").Unique()}
}

// Mixin of the OpenClientCount.
func (OpenClientCount) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{NoAccountIndex: true}}
}
