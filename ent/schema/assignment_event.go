package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// AssignmentEvent is one entry of the assignment history (SPEC §12): a
// client's responsible changed, or a settings edit changed who may see or
// write chats. It is written in the transaction that made the change.
type AssignmentEvent struct {
	ent.Schema
}

// Fields of the AssignmentEvent.
func (AssignmentEvent) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id"),
		field.Enum("cause").Values(
			"DISTRIBUTION",   // a new (or returning) client distributed by the channel's mode
			"CLAIM",          // a first-responder candidate's reply claimed the client
			"TRANSFER",       // AssignResponsible, by an API key or an employee
			"CRM_WEBHOOK",    // the CRM changed the responsible
			"CRM_CONTACT",    // an existing CRM contact's responsible was adopted
			"REPLY_DEADLINE", // the responsible did not answer in time
			"SETTINGS_EDIT",  // an access-relevant settings change
		).Immutable(),
		field.Int64("contact_id").Optional().Nillable().Immutable(),
		field.Int64("channel_id").Optional().Nillable().Immutable(),
		field.Int64("from_employee_id").Optional().Nillable().Immutable(),
		field.Int64("to_employee_id").Optional().Nillable().Immutable(),
		// distribution_mode and position: the mode that picked to and the
		// assignee's place in the channel's eligible members (1-based).
		field.String("distribution_mode").Default("").Immutable(),
		field.Int("position").Default(0).Immutable(),
		// actor: who made the change: API_KEY, EMPLOYEE, CRM or SYSTEM, with
		// the credential's or employee's id and name (never a secret).
		field.String("actor_kind").Default("SYSTEM").Immutable(),
		field.String("actor_id").Default("").Immutable(),
		field.String("actor_name").Default("").Immutable(),
		// explanation says why, in words; changes lists a settings edit's
		// access-relevant changes, one per line.
		field.Text("explanation").Default("").Immutable(),
		field.Text("changes").Default("").Immutable(),
	}
}

// Indexes of the AssignmentEvent.
func (AssignmentEvent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("account_id", "id"),
		index.Fields("account_id", "contact_id", "id"),
		index.Fields("account_id", "from_employee_id", "id").Annotations(entsql.IndexWhere("from_employee_id IS NOT NULL")),
		index.Fields("account_id", "to_employee_id", "id").Annotations(entsql.IndexWhere("to_employee_id IS NOT NULL")),
		index.Fields("created_at"),
	}
}

// Mixin of the AssignmentEvent.
func (AssignmentEvent) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{NoAccountIndex: true}, TimeMixin{}}
}
