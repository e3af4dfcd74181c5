package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// CrmConnection is how an account reaches its external CRM: the CRM's base
// URL and its access token, sealed with the server's secret key (never
// stored or returned in clear), and the webhook key the CRM calls back
// with, stored as a SHA-256 hash. At most one per account.
type CrmConnection struct {
	ent.Schema
}

// Fields of the CrmConnection.
func (CrmConnection) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id"),
		field.Enum("kind").Values("AMOCRM", "KOMMO", "BITRIX24", "ZOHO", "HUBSPOT", "PIPEDRIVE"),
		field.String("base_url").Validate(chars(300)).Annotations(entsql.Annotation{Size: 300}),
		// token_sealed is the token encrypted with AES-256-GCM under the
		// server's secret key, bound to the account.
		field.Bytes("token_sealed").Sensitive(),
		field.Bytes("webhook_key_hash").Unique().Sensitive(),
		// webhook_token_hash is the SHA-256 of the token the CRM signs its
		// webhooks with (Bitrix24's application_token), learned from the
		// first webhook that carries one; later webhooks must carry the same.
		field.Bytes("webhook_token_hash").Optional().Sensitive(),
		// webhook_secret_sealed is the key the CRM signs its webhooks with
		// (HubSpot's client secret), sealed like the token; empty: none given.
		field.Bytes("webhook_secret_sealed").Optional().Sensitive(),
		// webhook_key_sealed is the webhook URL's key sealed, so that the
		// URL can be given to the CRM again (renewing a subscription).
		field.Bytes("webhook_key_sealed").Optional().Sensitive(),
		// subscribed_until is when the CRM's subscription to this server's
		// webhook URL lapses unless renewed (Zoho's notification channel);
		// nil for a CRM whose webhooks are set up on its side.
		field.Time("subscribed_until").Optional().Nillable(),
		field.Time("refreshed_at").Optional().Nillable(),
		// crm_account is the CRM account's own id where the address does
		// not name it (HubSpot's portal id, Zoho's org id), read when
		// connecting; empty when the address names it, or it could not
		// be read. Reconnecting keeps the contacts' and deals' CRM ids
		// only for the same kind, address and account.
		field.String("crm_account").Optional().Validate(chars(100)).Annotations(entsql.Annotation{Size: 100}),
	}
}

// Mixin of the CrmConnection.
func (CrmConnection) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{NoAccountIndex: true}, TimeMixin{}}
}

// Indexes of the CrmConnection.
func (CrmConnection) Indexes() []ent.Index {
	return []ent.Index{index.Fields("account_id").Unique().StorageKey("crm_connections_one_per_account")}
}
