package convert_test

import (
	"slices"
	"strings"
	"testing"

	"entgo.io/ent/dialect/sql/schema"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/switchboardhq/switchboard/ent/migrate"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
)

// TestEnumsAgree walks every proto enum that is stored and its column's
// values: each proto value but UNSPECIFIED is a stored value and each
// stored value a proto one, so no value is ever mapped to UNSPECIFIED (or
// refused by the store) for want of a counterpart.
func TestEnumsAgree(t *testing.T) {
	for _, c := range []struct {
		table  *schema.Table
		column string
		enum   protoreflect.EnumDescriptor
		prefix string
		// internal are stored values the API shows as UNSPECIFIED on purpose.
		internal []string
		// renamed are stored values the API names otherwise.
		renamed map[string]string
	}{
		{migrate.AccountSettingsTable, "crm_kind", pb.CrmKind(0).Descriptor(), "CRM_KIND_", []string{"NONE"}, nil},
		{migrate.AccountSettingsTable, "save_messages", pb.SaveMessagesMode(0).Descriptor(), "SAVE_MESSAGES_MODE_", nil, nil},
		{migrate.AccountSettingsTable, "global_chat_visibility", pb.GlobalChatVisibility(0).Descriptor(), "GLOBAL_CHAT_VISIBILITY_", nil, nil},
		{migrate.ChannelsTable, "kind", pb.ChannelKind(0).Descriptor(), "CHANNEL_KIND_", nil, nil},
		{migrate.ChannelsTable, "distribution", pb.DistributionMode(0).Descriptor(), "DISTRIBUTION_MODE_", nil, nil},
		{migrate.ChannelsTable, "repeat_client_policy", pb.RepeatClientPolicy(0).Descriptor(), "REPEAT_CLIENT_POLICY_", nil, nil},
		{migrate.ChannelMembersTable, "role", pb.EmployeeRole(0).Descriptor(), "EMPLOYEE_ROLE_", nil, nil},
		{migrate.ChannelMembersTable, "access", pb.ChannelAccess(0).Descriptor(), "CHANNEL_ACCESS_", nil, nil},
		{migrate.CredentialsTable, "kind", pb.CredentialKind(0).Descriptor(), "CREDENTIAL_KIND_", nil, nil},
		{migrate.DealsTable, "kind", pb.DealKind(0).Descriptor(), "DEAL_KIND_", nil, nil},
		{migrate.DealsTable, "state", pb.DealState(0).Descriptor(), "DEAL_STATE_", nil, nil},
		{migrate.MessagesTable, "direction", pb.MessageDirection(0).Descriptor(), "MESSAGE_DIRECTION_", nil,
			map[string]string{"IN": "INCOMING", "OUT": "OUTGOING"}},
		{migrate.NotificationsTable, "reason", pb.NotificationReason(0).Descriptor(), "NOTIFICATION_REASON_", nil, nil},
	} {
		var stored []string
		for _, col := range c.table.Columns {
			if col.Name == c.column {
				for _, v := range col.Enums {
					if r, ok := c.renamed[v]; ok {
						v = r
					}
					stored = append(stored, v)
				}
			}
		}
		if stored == nil {
			t.Fatalf("%s.%s: no such enum column", c.table.Name, c.column)
		}
		values := c.enum.Values()
		var api []string
		for i := 0; i < values.Len(); i++ {
			name := string(values.Get(i).Name())
			if strings.HasSuffix(name, "_UNSPECIFIED") {
				continue
			}
			if !strings.HasPrefix(name, c.prefix) {
				t.Errorf("%s: value %s lacks the prefix %s", c.enum.Name(), name, c.prefix)
				continue
			}
			api = append(api, strings.TrimPrefix(name, c.prefix))
		}
		for _, v := range api {
			if !slices.Contains(stored, v) {
				t.Errorf("%s %s has no stored value in %s.%s %v", c.enum.Name(), v, c.table.Name, c.column, stored)
			}
		}
		for _, v := range stored {
			if !slices.Contains(api, v) && !slices.Contains(c.internal, v) {
				t.Errorf("%s.%s %s has no value in %s", c.table.Name, c.column, v, c.enum.Name())
			}
		}
	}
}
