package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// Pipeline is a CRM sales pipeline.
type Pipeline struct {
	ent.Schema
}

// Fields of the Pipeline.
func (Pipeline) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id"),
		field.String("name").NotEmpty().Validate(chars(200)).Annotations(entsql.Annotation{Size: 200}),
		field.Int("position").Default(0),
		// crm_id is the pipeline's id in an external CRM (empty: made here).
		field.String("crm_id").Optional().Nillable().Validate(chars(64)).Annotations(entsql.Annotation{Size: 64}),
	}
}

// Edges of the Pipeline.
func (Pipeline) Edges() []ent.Edge {
	return []ent.Edge{edge.To("stages", Stage.Type)}
}

// Mixin of the Pipeline.
func (Pipeline) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}

// Stage is one step of a pipeline.
type Stage struct {
	ent.Schema
}

// Fields of the Stage.
func (Stage) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id"),
		field.Int64("pipeline_id"),
		field.String("name").NotEmpty().Validate(chars(200)).Annotations(entsql.Annotation{Size: 200}),
		field.Int("position").Default(0),
		// crm_id is the stage's (status's) id in an external CRM.
		field.String("crm_id").Optional().Nillable().Validate(chars(64)).Annotations(entsql.Annotation{Size: 64}),
		// kind: OPEN stages hold open deals; a deal moved to WON or LOST in
		// the CRM is closed here; INCOMING (the CRM's inbox of unsorted
		// leads) is never where a new client's deal starts.
		field.Enum("kind").Values("OPEN", "INCOMING", "WON", "LOST").Default("OPEN"),
	}
}

// Edges of the Stage.
func (Stage) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("pipeline", Pipeline.Type).Ref("stages").Field("pipeline_id").Unique().Required(),
	}
}

// Mixin of the Stage.
func (Stage) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

// LeadStatus is a status a CRM lead can have.
type LeadStatus struct {
	ent.Schema
}

// Fields of the LeadStatus.
func (LeadStatus) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id"),
		field.String("name").NotEmpty().Validate(chars(200)).Annotations(entsql.Annotation{Size: 200}),
		field.Int("position").Default(0),
		// crm_id is the status's id in an external CRM.
		field.String("crm_id").Optional().Nillable().Validate(chars(64)).Annotations(entsql.Annotation{Size: 64}),
	}
}

// Mixin of the LeadStatus.
func (LeadStatus) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}
