package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/switchboardhq/switchboard/ent/schema/types"
)

// Employee is a CRM user.
type Employee struct {
	ent.Schema
}

// Fields of the Employee.
func (Employee) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id"),
		field.String("name").NotEmpty().Validate(chars(200)).Annotations(entsql.Annotation{Size: 200}),
		field.String("crm_user_id").Optional().Nillable().Validate(chars(200)).Annotations(entsql.Annotation{Size: 200}),
		field.String("email").Default("").Validate(chars(320)).Annotations(entsql.Annotation{Size: 320}),
		field.Bool("active").Default(true),
		// chat_admin: sees every chat of every channel it is a member of.
		field.Bool("chat_admin").Default(false),
		// At most one default outgoing channel per employee, by construction.
		field.Int64("default_outgoing_channel_id").Optional().Nillable(),
		// presence (SPEC §11): ONLINE unless the employee or an admin says
		// otherwise, so an account that never sets it distributes as before.
		field.Enum("presence").Values("ONLINE", "AWAY", "OFFLINE").Default("ONLINE"),
		// working_hours (SPEC §11), in the account's time zone; NULL: works
		// at any time.
		field.JSON("working_hours", &types.WorkingHours{}).Optional(),
		// streams_closed_at (SPEC §11, presence from streams): when the
		// employee's last open notification stream closed; NULL while one
		// is open, and for an employee who never opened one. It changes
		// only when the first stream opens or the last one goes, so it can
		// live in the directory routing reads.
		field.Time("streams_closed_at").Optional().Nillable(),
	}
}

// Edges of the Employee.
func (Employee) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("default_outgoing_channel", Channel.Type).Field("default_outgoing_channel_id").Unique(),
		edge.To("memberships", ChannelMember.Type),
	}
}

// Indexes of the Employee.
func (Employee) Indexes() []ent.Index {
	return []ent.Index{index.Fields("account_id", "crm_user_id").Unique()}
}

// Mixin of the Employee.
func (Employee) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}
