package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/switchboardhq/switchboard/ent/schema/types"
)

// Message is one stored chat message.
type Message struct {
	ent.Schema
}

// Fields of the Message.
func (Message) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id"),
		field.Int64("chat_id").Immutable(),
		field.Enum("direction").Values("IN", "OUT").Immutable(),
		field.Text("text").Default(""),
		field.JSON("attachments", []types.Attachment{}).Optional(),
		// employee_id is the writer of an outgoing message.
		field.Int64("employee_id").Optional().Nillable().Immutable(),
		// gateway_message_id is the idempotency key of the gateway.
		field.String("gateway_message_id").Optional().Nillable().Immutable().Validate(chars(200)).Annotations(entsql.Annotation{Size: 200}),
		// decision is the answer given for this message, returned as is to
		// a replay.
		field.Bytes("decision").Optional(),
	}
}

// Edges of the Message.
func (Message) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("chat", Chat.Type).Ref("messages").Field("chat_id").Unique().Required().Immutable(),
	}
}

// Indexes of the Message.
func (Message) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("account_id", "direction", "gateway_message_id").Unique(),
		index.Fields("chat_id", "id"),
	}
}

// Mixin of the Message.
func (Message) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{NoAccountIndex: true}, TimeMixin{}}
}
