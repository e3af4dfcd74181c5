package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Deal is a CRM deal (in a pipeline stage) or lead (with a status) created for
// a contact.
type Deal struct {
	ent.Schema
}

// Fields of the Deal.
func (Deal) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id"),
		field.Int64("contact_id").Immutable(),
		field.Int64("channel_id").Immutable(),
		field.Enum("kind").Values("DEAL", "LEAD").Immutable(),
		field.Int64("pipeline_id").Optional().Nillable(),
		field.Int64("stage_id").Optional().Nillable(),
		field.Int64("lead_status_id").Optional().Nillable(),
		field.Enum("state").Values("OPEN", "WON", "LOST").Default("OPEN"),
		field.Time("closed_at").Optional().Nillable(),
		// crm_id is the deal's (lead's) id in an external CRM, once known.
		field.String("crm_id").Optional().Nillable().Validate(chars(64)).Annotations(entsql.Annotation{Size: 64}),
		// crm_sync_until leases the deal to the one run writing it: the
		// outbox job creating it in the CRM (two runs never both create
		// it), then the webhook applying the CRM's state to it.
		field.Time("crm_sync_until").Optional().Nillable(),
	}
}

// Edges of the Deal.
func (Deal) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("contact", Contact.Type).Ref("deals").Field("contact_id").Unique().Required().Immutable(),
	}
}

// Indexes of the Deal.
func (Deal) Indexes() []ent.Index {
	// channel_id, state: a channel's open clients, counted for capacities (SPEC §11).
	return []ent.Index{index.Fields("contact_id", "state"), index.Fields("account_id", "crm_id"), index.Fields("channel_id", "state")}
}

// Mixin of the Deal.
func (Deal) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{NoAccountIndex: true}, TimeMixin{}}
}
