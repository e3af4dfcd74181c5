package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Contact is a CRM contact (the API calls it a client), known by normalized phone or messenger handle.
type Contact struct {
	ent.Schema
}

// Fields of the Contact.
func (Contact) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id"),
		// identity is how incoming messages find the contact: "+79161234567"
		// for a phone, "telegram:@name" for a handle.
		field.String("identity").NotEmpty().Immutable().Validate(chars(220)).Annotations(entsql.Annotation{Size: 220}),
		field.String("phone").Default(""),
		field.String("handle").Default(""),
		field.String("name").Default("").Validate(chars(200)).Annotations(entsql.Annotation{Size: 200}),
		// One responsible per contact, shared by all channels, as in the CRM.
		field.Int64("responsible_id").Optional().Nillable(),
		// claimed_at is set while the responsible is the first responder who
		// claimed the client, so later candidates learn they lost a claim.
		field.Time("claimed_at").Optional().Nillable(),
		field.Bool("is_test").Default(false),
		// crm_id is the contact's id in an external CRM, once known.
		field.String("crm_id").Optional().Nillable().Validate(chars(64)).Annotations(entsql.Annotation{Size: 64}),
	}
}

// Edges of the Contact.
func (Contact) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("responsible", Employee.Type).Field("responsible_id").Unique(),
		edge.To("deals", Deal.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("chats", Chat.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// Indexes of the Contact.
func (Contact) Indexes() []ent.Index {
	return []ent.Index{index.Fields("account_id", "identity").Unique()}
}

// Mixin of the Contact.
func (Contact) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{NoAccountIndex: true}, TimeMixin{}}
}
