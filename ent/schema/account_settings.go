package schema

import (
	"entgo.io/ent/dialect/entsql"
	"github.com/switchboardhq/switchboard/ent/schema/types"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// AccountSettings holds the settings that apply to all of an account's
// channels, and the revision every settings change moves forward.
type AccountSettings struct {
	ent.Schema
}

// Fields of the AccountSettings.
func (AccountSettings) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id"),
		// revision is the optimistic-concurrency token of the whole settings.
		field.Int64("revision").Default(1),
		// directory_version moves forward with every change to what routing
		// reads of the account (settings, channels, members, employees,
		// pipelines), in the same transaction: replicas cache that data and
		// check it against this one number.
		field.Int64("directory_version").Default(1),
		field.Enum("crm_kind").Values("NONE", "NATIVE", "AMOCRM", "KOMMO", "BITRIX24", "ZOHO", "HUBSPOT", "PIPEDRIVE").Default("NATIVE"),
		field.Bool("saved_once").Default(false),
		field.Enum("save_messages").Values("EACH_MESSAGE", "HOURLY", "DAILY", "NONE").Default("HOURLY"),
		field.Bool("convert_8_to_plus7").Default(true),
		field.Bool("notify_managers_all_messages").Default(false),
		field.Enum("global_chat_visibility").Values("OWN", "OWN_AND_UNASSIGNED", "ALL").Default("OWN"),
		field.String("time_zone").Default("").Validate(chars(64)).Annotations(entsql.Annotation{Size: 64}),
		// home_region reads numbers written without a country code (an ISO
		// 3166 region, "" for none). NULL: automatic, RU while
		// convert_8_to_plus7 is on, none while it is off; accounts made
		// before the setting existed keep reading numbers as they did.
		field.String("home_region").Optional().Nillable().Validate(chars(8)).Annotations(entsql.Annotation{Size: 8}),
		field.Time("updated_at").Default(types.Now),
		// The newest pruned push decision: a subscriber resuming from before
		// it learns that history was truncated.
		field.Int64("pruned_txid").Default(0),
		field.Int64("pruned_id").Default(0),
	}
}

// Mixin of the AccountSettings. The unique index below begins with
// account_id, so a second index on account_id alone would only cost writes.
func (AccountSettings) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{NoAccountIndex: true}}
}

// Indexes of the AccountSettings.
func (AccountSettings) Indexes() []ent.Index {
	return []ent.Index{index.Fields("account_id").Unique().StorageKey("account_settings_one_per_account")}
}
