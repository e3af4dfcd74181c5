package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Notification is one push decision. Rows are ordered by (txid, id): on
// PostgreSQL txid is the inserting transaction's id, so a reader that only
// reads rows of transactions older than every running one never sees a row
// appear behind its cursor; on SQLite writers are serialized and txid is 0.
type Notification struct {
	ent.Schema
}

// Fields of the Notification.
func (Notification) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id"),
		field.Int64("txid").Optional().Immutable().
			Annotations(entsql.DefaultExprs(map[string]string{
				dialect.Postgres: "(pg_current_xact_id()::text)::bigint",
				dialect.SQLite:   "0",
			})),
		// employee_id is empty for a post to the general chat.
		field.Int64("employee_id").Optional().Nillable().Immutable(),
		field.Enum("reason").Values("RESPONSIBLE", "NEW_CLIENT_ASSIGNED", "NEW_CLIENT_CANDIDATE", "MANAGER_ALL_MESSAGES", "GENERAL_CHAT", "CHAT_REVOKED", "MANAGER_ESCALATION").Immutable(),
		field.Int64("chat_id").Immutable(),
		field.Int64("contact_id").Immutable(),
		field.String("contact_name").Default("").Immutable(),
		field.Int64("channel_id").Immutable(),
		field.String("channel_name").Default("").Immutable(),
		field.String("channel_kind").Default("").Immutable(),
		field.Int64("message_id").Optional().Nillable().Immutable(),
		field.String("preview").Default("").Immutable(),
		field.String("explanation").Default("").Immutable(),
	}
}

// Indexes of the Notification.
func (Notification) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("txid", "id"),
		index.Fields("account_id", "employee_id", "txid", "id"),
		index.Fields("created_at"),
	}
}

// Mixin of the Notification.
func (Notification) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{NoAccountIndex: true}, TimeMixin{}}
}
