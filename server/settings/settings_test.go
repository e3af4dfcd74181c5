package settings_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/client"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

func get(t *testing.T, c *client.Clients) *pb.IntegrationSettings {
	t.Helper()
	res, err := c.Integration.GetIntegrationSettings(context.Background(), &pb.GetIntegrationSettingsRequest{})
	NoErr(t, err)
	return res.Settings
}

func channelSettings(s *pb.IntegrationSettings, id string) *pb.ChannelSettings {
	for _, c := range s.Channels {
		if c.ChannelId == id {
			return c
		}
	}
	return nil
}

// withoutVolatile drops what changes on every save, to compare documents.
func withoutVolatile(s *pb.IntegrationSettings) *pb.IntegrationSettings {
	s = proto.Clone(s).(*pb.IntegrationSettings)
	s.Revision, s.UpdateTime = 0, nil
	return s
}

func TestDefaults(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		ctx := context.Background()
		admin := env.Admin()
		s := get(t, admin)
		if s.Revision <= 0 || s.CrmKind != pb.CrmKind_CRM_KIND_NATIVE || !s.Connected || s.TestMessageAvailable {
			t.Fatalf("fresh settings: %v", s)
		}
		a := s.Account
		if a.SaveMessages != pb.SaveMessagesMode_SAVE_MESSAGES_MODE_HOURLY || !a.Convert_8ToPlus7 || a.NotifyManagersAllMessages ||
			a.GlobalChatVisibility != pb.GlobalChatVisibility_GLOBAL_CHAT_VISIBILITY_OWN || len(a.ChatAdminEmployeeIds) != 0 ||
			a.HomeRegion != nil { // automatic: RU while convert_8_to_plus7 is on
			t.Fatalf("account defaults: %v", a)
		}
		ch, err := admin.Directory.CreateChannel(ctx, &pb.CreateChannelRequest{Kind: pb.ChannelKind_CHANNEL_KIND_WABA, Name: "Main"})
		NoErr(t, err)
		cs := channelSettings(get(t, admin), ch.Channel.Id)
		if cs == nil || cs.Distribution != pb.DistributionMode_DISTRIBUTION_MODE_ROUND_ROBIN ||
			cs.RepeatClientPolicy != pb.RepeatClientPolicy_REPEAT_CLIENT_POLICY_CREATE_NEW_DEAL ||
			cs.NewClientEntity != nil || len(cs.Members) != 0 || !cs.Channel.InIntegration {
			t.Fatalf("channel defaults: %v", cs)
		}

		// A document that leaves fields unset saves their defaults: after
		// a save that changed every one, a save that sets none restores them.
		emp, err := admin.Directory.CreateEmployee(ctx, &pb.CreateEmployeeRequest{Name: "Peter Parker"})
		NoErr(t, err)
		pl, err := admin.Directory.CreatePipeline(ctx, &pb.CreatePipelineRequest{Name: "Sales", StageNames: []string{"New"}})
		NoErr(t, err)
		full := get(t, admin)
		full.Account = &pb.AccountSettings{
			SaveMessages:         pb.SaveMessagesMode_SAVE_MESSAGES_MODE_DAILY,
			GlobalChatVisibility: pb.GlobalChatVisibility_GLOBAL_CHAT_VISIBILITY_ALL,
		}
		full.Channels = []*pb.ChannelSettings{{
			ChannelId:          ch.Channel.Id,
			Distribution:       pb.DistributionMode_DISTRIBUTION_MODE_WEIGHTED,
			RepeatClientPolicy: pb.RepeatClientPolicy_REPEAT_CLIENT_POLICY_APPEND_TO_LAST_CLOSED_DEAL,
			NewClientEntity:    &pb.NewClientEntity{Entity: &pb.NewClientEntity_Deal{Deal: &pb.DealTarget{PipelineId: pl.Pipeline.Id}}},
			Members: []*pb.ChannelMember{{EmployeeId: emp.Employee.Id, Role: pb.EmployeeRole_EMPLOYEE_ROLE_MANAGER,
				Access: pb.ChannelAccess_CHANNEL_ACCESS_READ_WRITE, Weight: 9}},
		}}
		_, err = admin.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: full})
		NoErr(t, err)
		bare := get(t, admin)
		bare.Account = &pb.AccountSettings{}
		bare.Channels = []*pb.ChannelSettings{{ChannelId: ch.Channel.Id, Members: []*pb.ChannelMember{{EmployeeId: emp.Employee.Id}}}}
		_, err = admin.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: bare})
		NoErr(t, err)
		s = get(t, admin)
		if a := s.Account; a.SaveMessages != pb.SaveMessagesMode_SAVE_MESSAGES_MODE_HOURLY ||
			a.GlobalChatVisibility != pb.GlobalChatVisibility_GLOBAL_CHAT_VISIBILITY_OWN {
			t.Fatalf("account saved without values: %v", a)
		}
		cs = channelSettings(s, ch.Channel.Id)
		want := &pb.ChannelMember{EmployeeId: emp.Employee.Id, Role: pb.EmployeeRole_EMPLOYEE_ROLE_SALES_REP,
			Access: pb.ChannelAccess_CHANNEL_ACCESS_READ_ONLY, Weight: 1}
		if cs.Distribution != pb.DistributionMode_DISTRIBUTION_MODE_ROUND_ROBIN ||
			cs.RepeatClientPolicy != pb.RepeatClientPolicy_REPEAT_CLIENT_POLICY_CREATE_NEW_DEAL ||
			cs.NewClientEntity != nil || len(cs.Members) != 1 || !proto.Equal(cs.Members[0], want) {
			t.Fatalf("channel saved without values: %v", cs)
		}
	})
}

// everything returns settings that change every field from the demo's.
func everything(s *pb.IntegrationSettings, co *Company, pipelines *pb.ListPipelinesResponse) *pb.IntegrationSettings {
	s = proto.Clone(s).(*pb.IntegrationSettings)
	s.Account = &pb.AccountSettings{
		SaveMessages:              pb.SaveMessagesMode_SAVE_MESSAGES_MODE_DAILY,
		Convert_8ToPlus7:          false,
		NotifyManagersAllMessages: true,
		GlobalChatVisibility:      pb.GlobalChatVisibility_GLOBAL_CHAT_VISIBILITY_OWN_AND_UNASSIGNED,
		ChatAdminEmployeeIds:      []string{co.Employees["Scrooge McDuck"]},
		DefaultOutgoingChannels: []*pb.DefaultOutgoingChannel{
			{EmployeeId: co.Employees["Tony Stark"], ChannelId: co.Channels["Telegram Support"]},
		},
		TimeZone:   "Europe/Moscow",
		HomeRegion: proto.String("KZ"),
	}
	p := pipelines.Pipelines[0]
	for _, cs := range s.Channels {
		cs.Channel = nil
		switch cs.ChannelId {
		case co.Channels["WhatsApp Sales"]:
			cs.Distribution = pb.DistributionMode_DISTRIBUTION_MODE_ROUND_ROBIN
			cs.RepeatClientPolicy = pb.RepeatClientPolicy_REPEAT_CLIENT_POLICY_APPEND_TO_LAST_CLOSED_DEAL
			cs.NewClientEntity = &pb.NewClientEntity{Entity: &pb.NewClientEntity_Deal{Deal: &pb.DealTarget{PipelineId: p.Id, StageId: p.Stages[1].Id}}}
			// Reorder, drop Constantine, change roles and weights.
			cs.Members = []*pb.ChannelMember{
				{EmployeeId: co.Employees["Tony Stark"], Role: pb.EmployeeRole_EMPLOYEE_ROLE_MANAGER, Access: pb.ChannelAccess_CHANNEL_ACCESS_READ_WRITE, ReceivesNewClients: true, Weight: 7},
				{EmployeeId: co.Employees["Bruce Wayne"], Role: pb.EmployeeRole_EMPLOYEE_ROLE_SALES_REP, Access: pb.ChannelAccess_CHANNEL_ACCESS_READ_ONLY, Weight: 100},
				{EmployeeId: co.Employees["Diana Prince"], Role: pb.EmployeeRole_EMPLOYEE_ROLE_QUALITY_CONTROL, Access: pb.ChannelAccess_CHANNEL_ACCESS_READ_ONLY, Weight: 1},
			}
		case co.Channels["Telegram Support"]:
			cs.Distribution = pb.DistributionMode_DISTRIBUTION_MODE_WEIGHTED
			cs.NewClientEntity = &pb.NewClientEntity{Entity: &pb.NewClientEntity_Lead{Lead: &pb.LeadTarget{LeadStatusId: pipelines.LeadStatuses[2].Id}}}
			cs.Members = []*pb.ChannelMember{
				{EmployeeId: co.Employees["Bruce Wayne"], Role: pb.EmployeeRole_EMPLOYEE_ROLE_SALES_REP, Access: pb.ChannelAccess_CHANNEL_ACCESS_READ_WRITE, ReceivesNewClients: true, Weight: 1},
				{EmployeeId: co.Employees["Tony Stark"], Role: pb.EmployeeRole_EMPLOYEE_ROLE_SALES_REP, Access: pb.ChannelAccess_CHANNEL_ACCESS_READ_WRITE, ReceivesNewClients: true, Weight: 1},
				{EmployeeId: co.Employees["Scrooge McDuck"], Role: pb.EmployeeRole_EMPLOYEE_ROLE_SALES_REP, Access: pb.ChannelAccess_CHANNEL_ACCESS_READ_WRITE, ReceivesNewClients: true, Weight: 3},
			}
		}
	}
	return s
}

func TestUpdateRoundTrip(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		ctx := context.Background()
		for _, p := range Protocols {
			t.Run(p.String(), func(t *testing.T) {
				c := env.Clients(env.AdminKey, p)
				before := get(t, c)
				pl, err := c.Directory.ListPipelines(ctx, &pb.ListPipelinesRequest{})
				NoErr(t, err)
				want := everything(before, co, pl)
				res, err := c.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: want})
				NoErr(t, err)
				if res.Settings.Revision != before.Revision+1 {
					t.Fatalf("revision %d after %d", res.Settings.Revision, before.Revision)
				}
				after := get(t, c)
				if !proto.Equal(withoutVolatile(after), withoutVolatile(res.Settings)) {
					t.Fatalf("saved and reread differ:\n%v\n%v", res.Settings, after)
				}
				// What was sent is what is kept (weights of 0 come back as 1).
				for _, cs := range want.Channels {
					got := channelSettings(after, cs.ChannelId)
					got.Channel = nil
					if !proto.Equal(got, cs) {
						t.Fatalf("channel %s:\n got %v\nwant %v", cs.ChannelId, got, cs)
					}
				}
				if !proto.Equal(after.Account, want.Account) || !after.TestMessageAvailable {
					t.Fatalf("account:\n got %v\nwant %v", after.Account, want.Account)
				}
				// Saving the same document again is fine and moves the revision.
				res, err = c.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: after})
				NoErr(t, err)
				if res.Settings.Revision != after.Revision+1 {
					t.Fatal("revision did not move")
				}
			})
		}
	})
}

// TestHomeRegionSetting: unset is automatic and stays unset; the empty
// string (none: read as international) and a region are kept as sent.
func TestHomeRegionSetting(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		admin := env.Admin()
		for _, home := range []*string{proto.String(""), proto.String("BR"), nil, proto.String("RU")} {
			saved := UpdateSettings(t, admin, func(s *pb.IntegrationSettings) { s.Account.HomeRegion = home })
			for _, a := range []*pb.AccountSettings{saved.Account, get(t, admin).Account} {
				if (a.HomeRegion == nil) != (home == nil) || (home != nil && *a.HomeRegion != *home) {
					t.Fatalf("home region %v came back as %v", home, a.HomeRegion)
				}
			}
		}
	})
}

func TestStaleRevision(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		ctx := context.Background()
		admin := env.Admin()
		s := get(t, admin)
		pl, _ := admin.Directory.ListPipelines(ctx, &pb.ListPipelinesRequest{})
		first := everything(s, co, pl)
		_, err := admin.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: first})
		NoErr(t, err)
		saved := get(t, admin)

		// A second editor still holds the old revision.
		stale := proto.Clone(s).(*pb.IntegrationSettings)
		stale.Account.NotifyManagersAllMessages = false
		stale.Channels[0].Members = nil
		_, err = admin.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: stale})
		WantCode(t, err, connect.CodeAborted)
		if now := get(t, admin); !proto.Equal(now, saved) {
			t.Fatalf("a stale update changed the settings:\n%v\n%v", now, saved)
		}
		// validate_only says so too, and a stale revision is reported
		// before any bad field: the editor must reload either way.
		_, err = admin.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: stale, ValidateOnly: true})
		WantCode(t, err, connect.CodeAborted)
		stale.Account.ChatAdminEmployeeIds = []string{"999999"}
		for _, validateOnly := range []bool{false, true} {
			_, err = admin.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: stale, ValidateOnly: validateOnly})
			WantCode(t, err, connect.CodeAborted)
		}
		// A document malformed in itself is named as such first, every bad
		// field at once.
		stale.Channels[0].Members = []*pb.ChannelMember{{EmployeeId: "x"}}
		for _, validateOnly := range []bool{false, true} {
			_, err = admin.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: stale, ValidateOnly: validateOnly})
			WantViolations(t, err, "settings.channels[0].members[0].employee_id", "settings.account.chat_admin_employee_ids[0]")
		}
		// The bulk RPCs check a revision when given one.
		_, err = admin.Directory.SetChannelAccess(ctx, &pb.SetChannelAccessRequest{AllEmployees: true, AllChannels: true,
			Level: pb.ChannelAccessLevel_CHANNEL_ACCESS_LEVEL_NO_ACCESS, Revision: s.Revision})
		WantCode(t, err, connect.CodeAborted)
		_, err = admin.Directory.SetDefaultOutgoingChannel(ctx, &pb.SetDefaultOutgoingChannelRequest{EmployeeId: co.Employees["Tony Stark"], Revision: s.Revision})
		WantCode(t, err, connect.CodeAborted)
		_, err = admin.Integration.DeleteIntegration(ctx, &pb.DeleteIntegrationRequest{Revision: s.Revision})
		WantCode(t, err, connect.CodeAborted)
		if now := get(t, admin); !proto.Equal(now, saved) {
			t.Fatal("a stale bulk change changed the settings")
		}
	})
}

// Many editors save the same revision at once: exactly one wins.
func TestConcurrentUpdates(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		env.Demo()
		ctx := context.Background()
		admin := env.Admin()
		s := get(t, admin)
		var ok, aborted atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				mine := proto.Clone(s).(*pb.IntegrationSettings)
				mine.Account.TimeZone = []string{"UTC", "Europe/Moscow", "Asia/Tokyo", "America/New_York"}[i%4]
				_, err := admin.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: mine})
				switch connect.CodeOf(err) {
				case connect.CodeAborted:
					aborted.Add(1)
				default:
					if err == nil {
						ok.Add(1)
					} else {
						t.Errorf("update: %v", err)
					}
				}
			}(i)
		}
		wg.Wait()
		if ok.Load() != 1 || aborted.Load() != 15 {
			t.Fatalf("%d saved, %d aborted; want 1 and 15", ok.Load(), aborted.Load())
		}
		if got := get(t, admin).Revision; got != s.Revision+1 {
			t.Fatalf("revision %d, want %d", got, s.Revision+1)
		}
	})
}

// TestValidation checks every validation rule: INVALID_ARGUMENT naming the
// field, and nothing changed.
func TestValidation(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		other := env.DemoIn(must(env.NewAccount("Other")))
		ctx := context.Background()
		admin := env.Admin()
		second, err := admin.Directory.CreatePipeline(ctx, &pb.CreatePipelineRequest{Name: "Wholesale", StageNames: []string{"Inquiry"}})
		NoErr(t, err)
		base := get(t, admin)
		pl, err := admin.Directory.ListPipelines(ctx, &pb.ListPipelinesRequest{})
		NoErr(t, err)
		wa := co.Channels["WhatsApp Sales"]
		waIdx, tgIdx := 0, 1
		if base.Channels[0].ChannelId != wa {
			waIdx, tgIdx = 1, 0
		}
		ch := fmt.Sprintf("settings.channels[%d]", waIdx)
		tests := []struct {
			name   string
			change func(s *pb.IntegrationSettings)
			field  string
		}{
			{"revision missing", func(s *pb.IntegrationSettings) { s.Revision = 0 }, "settings.revision"},
			{"crm kind unknown", func(s *pb.IntegrationSettings) { s.CrmKind = 99 }, "settings.crm_kind"},
			{"account missing", func(s *pb.IntegrationSettings) { s.Account = nil }, "settings.account"},
			{"save messages unknown", func(s *pb.IntegrationSettings) { s.Account.SaveMessages = 42 }, "settings.account.save_messages"},
			{"visibility unknown", func(s *pb.IntegrationSettings) { s.Account.GlobalChatVisibility = 9 }, "settings.account.global_chat_visibility"},
			{"time zone unknown", func(s *pb.IntegrationSettings) { s.Account.TimeZone = "Mars/Olympus" }, "settings.account.time_zone"},
			{"home region unknown", func(s *pb.IntegrationSettings) { s.Account.HomeRegion = proto.String("XX") }, "settings.account.home_region"},
			{"home region not a code", func(s *pb.IntegrationSettings) { s.Account.HomeRegion = proto.String("Russia") }, "settings.account.home_region"},
			{"home region lower case", func(s *pb.IntegrationSettings) { s.Account.HomeRegion = proto.String("ru") }, "settings.account.home_region"},
			{"chat admin bad id", func(s *pb.IntegrationSettings) { s.Account.ChatAdminEmployeeIds = []string{"x"} }, "settings.account.chat_admin_employee_ids[0]"},
			{"chat admin twice", func(s *pb.IntegrationSettings) {
				s.Account.ChatAdminEmployeeIds = []string{co.Employees["Tony Stark"], co.Employees["Tony Stark"]}
			}, "settings.account.chat_admin_employee_ids[1]"},
			{"chat admin unknown", func(s *pb.IntegrationSettings) { s.Account.ChatAdminEmployeeIds = []string{"999999"} }, "settings.account.chat_admin_employee_ids[0]"},
			{"chat admin of another account", func(s *pb.IntegrationSettings) {
				s.Account.ChatAdminEmployeeIds = []string{other.Employees["Bruce Wayne"]}
			}, "settings.account.chat_admin_employee_ids[0]"},
			{"default channel twice for one employee", func(s *pb.IntegrationSettings) {
				e := co.Employees["Bruce Wayne"]
				s.Account.DefaultOutgoingChannels = []*pb.DefaultOutgoingChannel{{EmployeeId: e, ChannelId: wa}, {EmployeeId: e, ChannelId: co.Channels["Telegram Support"]}}
			}, "settings.account.default_outgoing_channels[1].employee_id"},
			{"default channel not writable", func(s *pb.IntegrationSettings) {
				s.Account.DefaultOutgoingChannels = []*pb.DefaultOutgoingChannel{{EmployeeId: co.Employees["Diana Prince"], ChannelId: wa}}
			}, "settings.account.default_outgoing_channels[0].channel_id"},
			{"default channel not a member", func(s *pb.IntegrationSettings) {
				s.Account.DefaultOutgoingChannels = []*pb.DefaultOutgoingChannel{{EmployeeId: co.Employees["Scrooge McDuck"], ChannelId: co.Channels["Telegram Support"]}}
			}, "settings.account.default_outgoing_channels[0].channel_id"},
			{"default channel of another account", func(s *pb.IntegrationSettings) {
				s.Account.DefaultOutgoingChannels = []*pb.DefaultOutgoingChannel{{EmployeeId: co.Employees["Bruce Wayne"], ChannelId: other.Channels["WhatsApp Sales"]}}
			}, "settings.account.default_outgoing_channels[0].channel_id"},
			{"default channel loses write in the same save", func(s *pb.IntegrationSettings) {
				s.Channels[waIdx].Members[0].Access = pb.ChannelAccess_CHANNEL_ACCESS_READ_ONLY // Bruce, whose default it is
			}, "settings.account.default_outgoing_channels[0].channel_id"},
			{"channel missing id", func(s *pb.IntegrationSettings) { s.Channels[waIdx].ChannelId = "" }, ch + ".channel_id"},
			{"channel twice", func(s *pb.IntegrationSettings) { s.Channels[tgIdx].ChannelId = wa }, fmt.Sprintf("settings.channels[%d].channel_id", max(waIdx, tgIdx))},
			{"channel unknown", func(s *pb.IntegrationSettings) { s.Channels[waIdx].ChannelId = "999999" }, ch + ".channel_id"},
			{"channel of another account", func(s *pb.IntegrationSettings) { s.Channels[waIdx].ChannelId = other.Channels["WhatsApp Sales"] }, ch + ".channel_id"},
			{"distribution unknown", func(s *pb.IntegrationSettings) { s.Channels[waIdx].Distribution = 17 }, ch + ".distribution"},
			{"repeat policy unknown", func(s *pb.IntegrationSettings) { s.Channels[waIdx].RepeatClientPolicy = -1 }, ch + ".repeat_client_policy"},
			{"member unknown employee", func(s *pb.IntegrationSettings) { s.Channels[waIdx].Members[1].EmployeeId = "999999" }, ch + ".members[1].employee_id"},
			{"member of another account", func(s *pb.IntegrationSettings) {
				s.Channels[waIdx].Members[1].EmployeeId = other.Employees["Scrooge McDuck"]
			}, ch + ".members[1].employee_id"},
			{"member bad id", func(s *pb.IntegrationSettings) { s.Channels[waIdx].Members[1].EmployeeId = "1e3" }, ch + ".members[1].employee_id"},
			{"member twice", func(s *pb.IntegrationSettings) {
				s.Channels[waIdx].Members[2].EmployeeId = s.Channels[waIdx].Members[0].EmployeeId
			}, ch + ".members[2].employee_id"},
			{"weight above 100", func(s *pb.IntegrationSettings) { s.Channels[waIdx].Members[2].Weight = 101 }, ch + ".members[2].weight"},
			{"weight negative", func(s *pb.IntegrationSettings) { s.Channels[waIdx].Members[2].Weight = -1 }, ch + ".members[2].weight"},
			{"quality control with read-write", func(s *pb.IntegrationSettings) {
				s.Channels[waIdx].Members[5].Access = pb.ChannelAccess_CHANNEL_ACCESS_READ_WRITE
			}, ch + ".members[5].access"},
			{"role unknown", func(s *pb.IntegrationSettings) { s.Channels[waIdx].Members[0].Role = 8 }, ch + ".members[0].role"},
			{"access unknown", func(s *pb.IntegrationSettings) { s.Channels[waIdx].Members[0].Access = 8 }, ch + ".members[0].access"},
			{"pipeline unknown", func(s *pb.IntegrationSettings) {
				s.Channels[waIdx].NewClientEntity = &pb.NewClientEntity{Entity: &pb.NewClientEntity_Deal{Deal: &pb.DealTarget{PipelineId: "999999"}}}
			}, ch + ".new_client_entity.deal.pipeline_id"},
			{"pipeline missing", func(s *pb.IntegrationSettings) {
				s.Channels[waIdx].NewClientEntity = &pb.NewClientEntity{Entity: &pb.NewClientEntity_Deal{Deal: &pb.DealTarget{}}}
			}, ch + ".new_client_entity.deal.pipeline_id"},
			{"stage unknown", func(s *pb.IntegrationSettings) {
				s.Channels[waIdx].NewClientEntity = &pb.NewClientEntity{Entity: &pb.NewClientEntity_Deal{Deal: &pb.DealTarget{PipelineId: pl.Pipelines[0].Id, StageId: "999999"}}}
			}, ch + ".new_client_entity.deal.stage_id"},
			{"stage of another pipeline", func(s *pb.IntegrationSettings) {
				s.Channels[waIdx].NewClientEntity = &pb.NewClientEntity{Entity: &pb.NewClientEntity_Deal{Deal: &pb.DealTarget{PipelineId: pl.Pipelines[0].Id, StageId: second.Pipeline.Stages[0].Id}}}
			}, ch + ".new_client_entity.deal.stage_id"},
			{"lead status unknown", func(s *pb.IntegrationSettings) {
				s.Channels[waIdx].NewClientEntity = &pb.NewClientEntity{Entity: &pb.NewClientEntity_Lead{Lead: &pb.LeadTarget{LeadStatusId: "999999"}}}
			}, ch + ".new_client_entity.lead.lead_status_id"},
			{"lead status missing", func(s *pb.IntegrationSettings) {
				s.Channels[waIdx].NewClientEntity = &pb.NewClientEntity{Entity: &pb.NewClientEntity_Lead{Lead: &pb.LeadTarget{}}}
			}, ch + ".new_client_entity.lead.lead_status_id"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := proto.Clone(base).(*pb.IntegrationSettings)
				tt.change(s)
				_, err := admin.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: s})
				WantViolations(t, err, tt.field)
				_, err = admin.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: s, ValidateOnly: true})
				WantViolations(t, err, tt.field)
				if now := get(t, admin); !proto.Equal(now, base) {
					t.Fatal("a rejected update changed the settings")
				}
			})
		}

		// Every bad field is named at once: those the request shows and
		// those only the store can tell, each once.
		s := proto.Clone(base).(*pb.IntegrationSettings)
		s.Channels[waIdx].Members[2].Weight = 500
		s.Channels[waIdx].Members[5].Access = pb.ChannelAccess_CHANNEL_ACCESS_READ_WRITE
		s.Channels[waIdx].Members[3].EmployeeId = "x"
		s.Account.ChatAdminEmployeeIds = []string{"999999"}
		for _, validateOnly := range []bool{false, true} {
			_, err = admin.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: s, ValidateOnly: validateOnly})
			WantViolations(t, err, ch+".members[2].weight", ch+".members[5].access", ch+".members[3].employee_id",
				"settings.account.chat_admin_employee_ids[0]")
			if got := FieldViolations(err); len(got) != 4 {
				t.Fatalf("violations %v, want each of the 4 bad fields once", got)
			}
		}
		s.Channels[waIdx].Members[3].EmployeeId = base.Channels[waIdx].Members[3].EmployeeId
		s.Channels[waIdx].Members[2].Weight = 5
		s.Channels[waIdx].Members[5].Access = pb.ChannelAccess_CHANNEL_ACCESS_READ_ONLY
		s.Channels[waIdx].Members[1].EmployeeId = "999998"
		_, err = admin.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: s})
		WantViolations(t, err, ch+".members[1].employee_id", "settings.account.chat_admin_employee_ids[0]")

		// validate_only saves nothing even when valid.
		s = proto.Clone(base).(*pb.IntegrationSettings)
		s.Account.NotifyManagersAllMessages = true
		_, err = admin.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: s, ValidateOnly: true})
		NoErr(t, err)
		if now := get(t, admin); !proto.Equal(now, base) {
			t.Fatal("validate_only saved")
		}
	})
}

func must(id int64, _ string) int64 { return id }

func TestDeleteAndRefresh(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		ctx := context.Background()
		admin := env.Admin()

		rep, err := admin.Integration.RefreshFromCrm(ctx, &pb.RefreshFromCrmRequest{})
		NoErr(t, err)
		if rep.ActiveEmployees != 6 || rep.DeactivatedEmployees != 0 || rep.Pipelines != 1 || rep.Stages != 4 ||
			rep.LeadStatuses != 3 || rep.Channels != 2 || rep.ChannelsInIntegration != 2 || len(rep.Findings) != 0 {
			t.Fatalf("refresh: %v", rep)
		}
		_, err = admin.Directory.DeactivateEmployee(ctx, &pb.DeactivateEmployeeRequest{EmployeeId: co.Employees["Tony Stark"]})
		NoErr(t, err)
		rep, err = admin.Integration.RefreshFromCrm(ctx, &pb.RefreshFromCrmRequest{})
		NoErr(t, err)
		if rep.DeactivatedEmployees != 1 || len(rep.Findings) != 2 { // Tony is on both channels
			t.Fatalf("refresh after deactivation: %v", rep)
		}

		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) { s.Account.HomeRegion = proto.String("CN") })
		before := get(t, admin)
		res, err := admin.Integration.DeleteIntegration(ctx, &pb.DeleteIntegrationRequest{Revision: before.Revision})
		NoErr(t, err)
		s := res.Settings
		if s.Connected || s.CrmKind != pb.CrmKind_CRM_KIND_UNSPECIFIED || s.Revision != before.Revision+1 || s.TestMessageAvailable ||
			len(s.Account.DefaultOutgoingChannels) != 0 || s.Account.HomeRegion != nil {
			t.Fatalf("after delete: %v", s)
		}
		for _, cs := range s.Channels {
			if len(cs.Members) != 0 || cs.Channel.InIntegration || cs.Distribution != pb.DistributionMode_DISTRIBUTION_MODE_ROUND_ROBIN {
				t.Fatalf("channel after delete: %v", cs)
			}
		}
		emps, err := admin.Directory.ListEmployees(ctx, &pb.ListEmployeesRequest{IncludeDeactivated: true})
		NoErr(t, err)
		if len(emps.Employees) != 6 {
			t.Fatal("delete removed employees")
		}
		_, err = admin.Integration.RefreshFromCrm(ctx, &pb.RefreshFromCrmRequest{})
		WantCode(t, err, connect.CodeFailedPrecondition)

		// Saving again reconnects; an external CRM cannot be refreshed yet.
		s.CrmKind = pb.CrmKind_CRM_KIND_AMOCRM
		saved, err := admin.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: s})
		NoErr(t, err)
		if !saved.Settings.Connected || saved.Settings.CrmKind != pb.CrmKind_CRM_KIND_AMOCRM {
			t.Fatalf("reconnect: %v", saved.Settings)
		}
		_, err = admin.Integration.RefreshFromCrm(ctx, &pb.RefreshFromCrmRequest{})
		WantCode(t, err, connect.CodeFailedPrecondition)
		// With an external CRM, employees come from it.
		_, err = admin.Directory.CreateEmployee(ctx, &pb.CreateEmployeeRequest{Name: "Peter Parker"})
		WantCode(t, err, connect.CodeFailedPrecondition)
	})
}

func TestChannelAccessGrid(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		ctx := context.Background()
		admin := env.Admin()
		before := get(t, admin)

		// "Add all" read + send: every active employee on every channel;
		// the quality controller stays read-only.
		res, err := admin.Directory.SetChannelAccess(ctx, &pb.SetChannelAccessRequest{AllEmployees: true, AllChannels: true,
			Level: pb.ChannelAccessLevel_CHANNEL_ACCESS_LEVEL_READ_WRITE})
		NoErr(t, err)
		if res.Revision != before.Revision+1 || len(res.Skipped) != 1 || res.Skipped[0].EmployeeId != co.Employees["Diana Prince"] {
			t.Fatalf("add all: %v", res)
		}
		s := get(t, admin)
		tg := channelSettings(s, co.Channels["Telegram Support"])
		if len(tg.Members) != 6 {
			t.Fatalf("telegram members after add all: %v", tg.Members)
		}
		// Existing members keep their place and role; new ones come last.
		if tg.Members[0].EmployeeId != co.Employees["Bruce Wayne"] || tg.Members[2].Role != pb.EmployeeRole_EMPLOYEE_ROLE_MANAGER {
			t.Fatalf("order or roles changed: %v", tg.Members)
		}
		for _, m := range tg.Members {
			want := pb.ChannelAccess_CHANNEL_ACCESS_READ_WRITE
			if m.Role == pb.EmployeeRole_EMPLOYEE_ROLE_QUALITY_CONTROL {
				want = pb.ChannelAccess_CHANNEL_ACCESS_READ_ONLY
			}
			if m.Access != want {
				t.Fatalf("member %v", m)
			}
		}

		// Read-only for Bruce on WhatsApp clears his default outgoing channel.
		_, err = admin.Directory.SetChannelAccess(ctx, &pb.SetChannelAccessRequest{EmployeeIds: []string{co.Employees["Bruce Wayne"]},
			ChannelIds: []string{co.Channels["WhatsApp Sales"]}, Level: pb.ChannelAccessLevel_CHANNEL_ACCESS_LEVEL_READ})
		NoErr(t, err)
		if d := get(t, admin).Account.DefaultOutgoingChannels; len(d) != 0 {
			t.Fatalf("default kept on a read-only channel: %v", d)
		}

		// "Remove all" on one channel.
		_, err = admin.Directory.SetChannelAccess(ctx, &pb.SetChannelAccessRequest{AllEmployees: true,
			ChannelIds: []string{co.Channels["Telegram Support"]}, Level: pb.ChannelAccessLevel_CHANNEL_ACCESS_LEVEL_NO_ACCESS})
		NoErr(t, err)
		s = get(t, admin)
		if len(channelSettings(s, co.Channels["Telegram Support"]).Members) != 0 || len(channelSettings(s, co.Channels["WhatsApp Sales"]).Members) != 6 {
			t.Fatalf("remove all on one channel: %v", s.Channels)
		}

		// Unknown and foreign ids are NOT_FOUND and change nothing.
		otherCo := env.DemoIn(must(env.NewAccount("Other")))
		for _, req := range []*pb.SetChannelAccessRequest{
			{EmployeeIds: []string{"999999"}, AllChannels: true, Level: pb.ChannelAccessLevel_CHANNEL_ACCESS_LEVEL_READ},
			{EmployeeIds: []string{otherCo.Employees["Bruce Wayne"]}, AllChannels: true, Level: pb.ChannelAccessLevel_CHANNEL_ACCESS_LEVEL_READ},
			{AllEmployees: true, ChannelIds: []string{otherCo.Channels["WhatsApp Sales"]}, Level: pb.ChannelAccessLevel_CHANNEL_ACCESS_LEVEL_NO_ACCESS},
		} {
			_, err = admin.Directory.SetChannelAccess(ctx, req)
			WantCode(t, err, connect.CodeNotFound)
		}
		if now := get(t, admin); !proto.Equal(now, s) {
			t.Fatal("a refused grid change changed the settings")
		}

		// Bad requests.
		for name, tt := range map[string]struct {
			req   *pb.SetChannelAccessRequest
			field string
		}{
			"no level":              {&pb.SetChannelAccessRequest{AllEmployees: true, AllChannels: true}, "level"},
			"no employees":          {&pb.SetChannelAccessRequest{AllChannels: true, Level: 1}, "employee_ids"},
			"employees and all":     {&pb.SetChannelAccessRequest{EmployeeIds: []string{"1"}, AllEmployees: true, AllChannels: true, Level: 1}, "employee_ids"},
			"no channels":           {&pb.SetChannelAccessRequest{AllEmployees: true, Level: 1}, "channel_ids"},
			"channels and all":      {&pb.SetChannelAccessRequest{AllEmployees: true, ChannelIds: []string{"1"}, AllChannels: true, Level: 1}, "channel_ids"},
			"bad channel id":        {&pb.SetChannelAccessRequest{AllEmployees: true, ChannelIds: []string{"one"}, Level: 1}, "channel_ids[0]"},
			"employee listed twice": {&pb.SetChannelAccessRequest{EmployeeIds: []string{"1", "1"}, AllChannels: true, Level: 1}, "employee_ids[1]"},
			"level unknown":         {&pb.SetChannelAccessRequest{AllEmployees: true, AllChannels: true, Level: 9}, "level"},
			"negative revision":     {&pb.SetChannelAccessRequest{AllEmployees: true, AllChannels: true, Level: 1, Revision: -2}, "revision"},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := admin.Directory.SetChannelAccess(ctx, tt.req)
				WantViolations(t, err, tt.field)
			})
		}
	})
}

func TestDefaultOutgoingChannel(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		ctx := context.Background()
		admin := env.Admin()
		bruce, tony := co.Employees["Bruce Wayne"], co.Employees["Tony Stark"]
		wa, tg := co.Channels["WhatsApp Sales"], co.Channels["Telegram Support"]

		res, err := admin.Directory.SetDefaultOutgoingChannel(ctx, &pb.SetDefaultOutgoingChannelRequest{EmployeeId: bruce, ChannelId: tg})
		NoErr(t, err)
		if res.PreviousChannelId != wa || res.Employee.DefaultOutgoingChannelId != tg {
			t.Fatalf("set: %v", res)
		}
		_, err = admin.Directory.SetDefaultOutgoingChannel(ctx, &pb.SetDefaultOutgoingChannelRequest{EmployeeId: tony, ChannelId: wa})
		NoErr(t, err)
		// One per employee: Bruce's moved, it was not added.
		d := get(t, admin).Account.DefaultOutgoingChannels
		if len(d) != 2 {
			t.Fatalf("defaults: %v", d)
		}
		for _, x := range d {
			if (x.EmployeeId == bruce && x.ChannelId != tg) || (x.EmployeeId == tony && x.ChannelId != wa) {
				t.Fatalf("defaults: %v", d)
			}
		}
		// Only a channel the employee can write on.
		_, err = admin.Directory.SetDefaultOutgoingChannel(ctx, &pb.SetDefaultOutgoingChannelRequest{EmployeeId: co.Employees["Diana Prince"], ChannelId: wa})
		WantViolations(t, err, "channel_id")
		_, err = admin.Directory.SetDefaultOutgoingChannel(ctx, &pb.SetDefaultOutgoingChannelRequest{EmployeeId: co.Employees["Scrooge McDuck"], ChannelId: tg})
		WantViolations(t, err, "channel_id")
		_, err = admin.Directory.SetDefaultOutgoingChannel(ctx, &pb.SetDefaultOutgoingChannelRequest{EmployeeId: "999999", ChannelId: tg})
		WantCode(t, err, connect.CodeNotFound)
		_, err = admin.Directory.SetDefaultOutgoingChannel(ctx, &pb.SetDefaultOutgoingChannelRequest{EmployeeId: bruce, ChannelId: "999999"})
		WantCode(t, err, connect.CodeNotFound)
		_, err = admin.Directory.SetDefaultOutgoingChannel(ctx, &pb.SetDefaultOutgoingChannelRequest{EmployeeId: "b"})
		WantViolations(t, err, "employee_id")
		// Clearing.
		res, err = admin.Directory.SetDefaultOutgoingChannel(ctx, &pb.SetDefaultOutgoingChannelRequest{EmployeeId: bruce})
		NoErr(t, err)
		if res.PreviousChannelId != tg || res.Employee.DefaultOutgoingChannelId != "" {
			t.Fatalf("clear: %v", res)
		}
	})
}
