package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// NotificationStream is the lease of one open NotificationService.Subscribe
// stream of an employee (SPEC §11, presence from streams). The replica
// serving the stream inserts it when the stream opens, renews it while the
// stream stays open and ends it (expires_at set to the moment) when the
// stream closes; a replica that dies leaves leases that simply expire. The
// waiting line's periodic job sweeps ended and expired leases and records
// on the employee when its last stream went (employees.streams_closed_at).
type NotificationStream struct {
	ent.Schema
}

// Fields of the NotificationStream.
func (NotificationStream) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id"),
		field.Int64("employee_id").Immutable(),
		// renewed_at: the last moment the stream was known open (its open,
		// a renewal, or its close).
		field.Time("renewed_at"),
		// expires_at: past it the lease counts as closed.
		field.Time("expires_at"),
	}
}

// Indexes of the NotificationStream.
func (NotificationStream) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("account_id", "employee_id"),
		index.Fields("expires_at"),
	}
}

// Mixin of the NotificationStream.
func (NotificationStream) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{NoAccountIndex: true}}
}
