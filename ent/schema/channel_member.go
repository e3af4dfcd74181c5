package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// ChannelMember is an employee's settings on one channel. No record, no
// access.
type ChannelMember struct {
	ent.Schema
}

// Fields of the ChannelMember.
func (ChannelMember) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id"),
		field.Int64("channel_id"),
		field.Int64("employee_id"),
		field.Enum("role").Values("SALES_REP", "MANAGER", "QUALITY_CONTROL").Default("SALES_REP"),
		field.Enum("access").Values("READ_ONLY", "READ_WRITE").Default("READ_ONLY"),
		field.Bool("receives_new_clients").Default(false),
		field.Int("weight").Default(1).Range(1, 100),
		// position orders the member list: the distribution order.
		field.Int("position").Default(0),
		// capacity: the most open clients the member takes on the channel
		// (SPEC §11); 0: no limit.
		field.Int("capacity").Default(0).Range(0, 10000),
	}
}

// Edges of the ChannelMember.
func (ChannelMember) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("channel", Channel.Type).Ref("members").Field("channel_id").Unique().Required(),
		edge.From("employee", Employee.Type).Ref("memberships").Field("employee_id").Unique().Required(),
	}
}

// Indexes of the ChannelMember.
func (ChannelMember) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("channel_id", "employee_id").Unique(),
		index.Fields("employee_id"),
	}
}

// Mixin of the ChannelMember.
func (ChannelMember) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}
