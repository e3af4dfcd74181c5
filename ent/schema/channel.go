package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// Channel is one messenger number or account, with its routing settings.
type Channel struct {
	ent.Schema
}

// Fields of the Channel.
func (Channel) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id"),
		field.Enum("kind").Values("WHATSAPP", "WABA", "TELEGRAM", "INSTAGRAM", "VIBER", "VK", "AVITO"),
		field.String("name").NotEmpty().Validate(chars(200)).Annotations(entsql.Annotation{Size: 200}),
		field.String("external_id").Default("").Validate(chars(200)).Annotations(entsql.Annotation{Size: 200}),
		field.Bool("in_integration").Default(true),
		field.Bool("open_channels").Default(false),
		field.Enum("distribution").Values("FIRST_RESPONDER", "ROUND_ROBIN", "WEIGHTED").Default("ROUND_ROBIN"),
		field.Enum("repeat_client_policy").Values("APPEND_TO_LAST_CLOSED_DEAL", "CREATE_NEW_DEAL").Default("CREATE_NEW_DEAL"),
		// entity_kind DEFAULT means the first stage of the first pipeline.
		field.Enum("entity_kind").Values("DEFAULT", "DEAL", "LEAD").Default("DEFAULT"),
		field.Int64("pipeline_id").Optional().Nillable(),
		field.Int64("stage_id").Optional().Nillable(),
		field.Int64("lead_status_id").Optional().Nillable(),
		// Availability (SPEC §11); all off by default.
		// absent_keep_turn: an absent member keeps its turn (else passes it).
		field.Bool("absent_keep_turn").Default(false),
		// reply_deadline_minutes: 0 is off.
		field.Int("reply_deadline_minutes").Default(0).Range(0, 10080),
		// max_passes: missed deadlines before the managers are told.
		field.Int("max_passes").Default(0).Range(0, 20),
		// stream_grace_minutes: 0 is off.
		field.Int("stream_grace_minutes").Default(0).Range(0, 1440),
	}
}

// Edges of the Channel.
func (Channel) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("members", ChannelMember.Type),
		edge.To("pipeline", Pipeline.Type).Field("pipeline_id").Unique(),
		edge.To("stage", Stage.Type).Field("stage_id").Unique(),
		edge.To("lead_status", LeadStatus.Type).Field("lead_status_id").Unique(),
	}
}

// Mixin of the Channel.
func (Channel) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}
