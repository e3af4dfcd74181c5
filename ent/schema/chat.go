package schema

import (
	"github.com/switchboardhq/switchboard/ent/schema/types"

	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Chat is the conversation of one contact on one channel.
type Chat struct {
	ent.Schema
}

// Fields of the Chat.
func (Chat) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id"),
		field.Int64("channel_id").Immutable(),
		field.Int64("contact_id").Immutable(),
		field.Int64("deal_id").Optional().Nillable(),
		field.Time("last_message_at").Default(types.Now),
		// The chat's messages up to crm_logged_message_id are in the CRM's
		// feed (SAVE_MESSAGES EACH_MESSAGE); crm_flush_until is the lease
		// of the one outbox job writing the next ones, in order.
		field.Int64("crm_logged_message_id").Default(0),
		field.Time("crm_flush_until").Optional().Nillable(),
		// unanswered_since is when the client's oldest message not yet
		// answered was stored: set by an incoming message when the chat had
		// none waiting, cleared by an outgoing one, in the message's own
		// transaction. Nil: the chat's last message is an employee's (or it
		// has none).
		field.Time("unanswered_since").Optional().Nillable(),
		// waiting_since: the client wrote when nobody on the channel could
		// take it (SPEC §11) and waits for someone to become available;
		// NULL otherwise. Only meaningful while the client has no
		// responsible.
		field.Time("waiting_since").Optional().Nillable(),
	}
}

// Edges of the Chat.
func (Chat) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("contact", Contact.Type).Ref("chats").Field("contact_id").Unique().Required().Immutable(),
		edge.To("messages", Message.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// Indexes of the Chat.
func (Chat) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("channel_id", "contact_id").Unique(),
		index.Fields("account_id", "last_message_at", "id"),
		index.Fields("channel_id", "last_message_at", "id"),
		// Counting the unanswered chats reads only those.
		index.Fields("account_id", "unanswered_since").Annotations(entsql.IndexWhere("unanswered_since IS NOT NULL")),
		index.Fields("channel_id", "waiting_since", "id"),
	}
}

// Mixin of the Chat.
func (Chat) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{NoAccountIndex: true}, TimeMixin{}}
}
