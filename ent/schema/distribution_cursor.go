package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// DistributionCursor is where a channel's distribution stands: who got the
// last new client and how many in a row. It is the one row locked per new
// client, so it lives apart from the channel.
type DistributionCursor struct {
	ent.Schema
}

// Fields of the DistributionCursor.
func (DistributionCursor) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id"),
		field.Int64("channel_id").Immutable(),
		field.Int64("last_employee_id").Optional().Nillable(),
		// streak counts consecutive clients given to last_employee_id.
		field.Int("streak").Default(0),
		// assigned counts every client distributed on the channel.
		field.Int64("assigned").Default(0),
		// edits counts edits of the channel's member list, each of which
		// writes it while holding the row (routing/cursor.go).
		field.Int64("edits").Default(0),
	}
}

// Indexes of the DistributionCursor.
func (DistributionCursor) Indexes() []ent.Index {
	return []ent.Index{index.Fields("channel_id").Unique()}
}

// Mixin of the DistributionCursor.
func (DistributionCursor) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}
