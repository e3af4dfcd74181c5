package settings

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // time zones work on machines without a zoneinfo database

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/phone"
	"github.com/switchboardhq/switchboard/server/validate"
)

// MaxWeight bounds a member's weight (SPEC §2: 1..100).
const MaxWeight = 100

// MaxCapacity bounds a member's capacity (SPEC §11).
const MaxCapacity = 10000

// Rules are the request checks of IntegrationService.
func Rules(r validate.Rules) {
	validate.Add(r, func(*pb.GetIntegrationSettingsRequest, *errs.Violations) {})
	validate.Add(r, func(m *pb.UpdateIntegrationSettingsRequest, v *errs.Violations) {
		// The rest is checked by the handler together with what only the
		// store can tell, so that every bad field is named at once.
		if m.Settings == nil {
			v.Add("settings", "is required")
		}
	})
	validate.Add(r, func(m *pb.DeleteIntegrationRequest, v *errs.Violations) {
		if m.Revision < 0 {
			v.Add("revision", "must not be negative")
		}
	})
	validate.Add(r, func(*pb.RefreshFromCrmRequest, *errs.Violations) {})
	validate.Add(r, func(m *pb.GetCrmSyncStateRequest, v *errs.Violations) {
		if m.PageSize < 0 || m.PageSize > 500 {
			v.Add("page_size", "must be 1..500 (0 means 100), got %d", m.PageSize)
		}
	})
	validate.Add(r, func(m *pb.RetryCrmSyncRequest, v *errs.Violations) { ids.Check(v, "item_id", m.ItemId, true) })
	validate.Add(r, func(m *pb.ListClientFeedRequest, v *errs.Violations) {
		ids.Check(v, "client_id", m.ClientId, true)
		if m.PageSize < 0 || m.PageSize > 200 {
			v.Add("page_size", "must be 1..200 (0 means 50), got %d", m.PageSize)
		}
		if m.Before != nil && !m.Before.IsValid() {
			v.Add("before", "is not a valid time")
		}
	})
	validate.Add(r, func(m *pb.ConnectCrmRequest, v *errs.Violations) {
		validate.Enum(v, "crm_kind", m.CrmKind, true)
		validate.Text(v, "base_url", m.BaseUrl, 1, 300)
		switch {
		case m.Token == "" || len(m.Token) > 4096:
			v.Add("token", "is required, 1..4096 characters")
		case strings.IndexFunc(m.Token, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0:
			v.Add("token", "must not contain spaces or control characters (copy the token alone)")
		}
		switch {
		case len(m.WebhookSecret) > 4096:
			v.Add("webhook_secret", "is at most 4096 characters")
		case strings.IndexFunc(m.WebhookSecret, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0:
			v.Add("webhook_secret", "must not contain spaces or control characters (copy the secret alone)")
		}
	})
	validate.Add(r, func(m *pb.SendTestMessageRequest, v *errs.Violations) { validate.Text(v, "text", m.Text, 0, 4096) })
	validate.Add(r, func(*pb.RemoveTestClientRequest, *errs.Violations) {})
}

// CheckIDList records a violation for every malformed or repeated id of a
// list named field, and for more than 1000 of them.
func CheckIDList(v *errs.Violations, field string, list []string) {
	if len(list) > 1000 {
		v.Add(field, "at most 1000 ids")
		return
	}
	seen := map[string]bool{}
	for i, id := range list {
		f := fmt.Sprintf("%s[%d]", field, i)
		ids.Check(v, f, id, true)
		if seen[id] {
			v.Add(f, "%s is listed twice", id)
		}
		seen[id] = true
	}
}

// checkShape checks everything about settings that needs no store.
// clipRegion keeps a refused region short in the message that names it.
func clipRegion(r string) string {
	if len(r) > 16 {
		return r[:16] + "…"
	}
	return r
}

func checkShape(v *errs.Violations, at string, s *pb.IntegrationSettings) {
	if s.Revision <= 0 {
		v.Add(at+".revision", "is required: send the revision the settings were read at")
	}
	validate.Enum(v, at+".crm_kind", s.CrmKind, false)
	if a := s.Account; a == nil {
		v.Add(at+".account", "is required (settings are saved as a whole)")
	} else {
		validate.Enum(v, at+".account.save_messages", a.SaveMessages, false)
		validate.Enum(v, at+".account.global_chat_visibility", a.GlobalChatVisibility, false)
		CheckIDList(v, at+".account.chat_admin_employee_ids", a.ChatAdminEmployeeIds)
		seen := map[string]bool{}
		for i, d := range a.DefaultOutgoingChannels {
			f := fmt.Sprintf("%s.account.default_outgoing_channels[%d]", at, i)
			ids.Check(v, f+".employee_id", d.EmployeeId, true)
			ids.Check(v, f+".channel_id", d.ChannelId, true)
			if seen[d.EmployeeId] {
				v.Add(f+".employee_id", "employee %s has a default outgoing channel already: at most one per employee", d.EmployeeId)
			}
			seen[d.EmployeeId] = true
		}
		if a.TimeZone != "" {
			// "Local" loads as the server's own zone, which is no IANA name
			// and differs between hosts.
			if _, err := time.LoadLocation(a.TimeZone); err != nil || len(a.TimeZone) > 64 || a.TimeZone == "Local" {
				v.Add(at+".account.time_zone", "%q is not an IANA time zone name", a.TimeZone)
			}
		}
		checkHours(v, at+".account.working_hours", a.WorkingHours)
		if r := a.HomeRegion; r != nil && *r != "" && !phone.IsRegion(*r) {
			v.Add(at+".account.home_region", "%q is not a region code of the numbering plans: an upper-case ISO 3166 code such as \"RU\", or empty for none", clipRegion(*r))
		}
	}
	if len(s.Channels) > 1000 {
		v.Add(at+".channels", "at most 1000 channels")
		return
	}
	seenCh := map[string]bool{}
	for i, c := range s.Channels {
		f := fmt.Sprintf("%s.channels[%d]", at, i)
		ids.Check(v, f+".channel_id", c.ChannelId, true)
		if c.ChannelId != "" && seenCh[c.ChannelId] {
			v.Add(f+".channel_id", "channel %s is listed twice", c.ChannelId)
		}
		seenCh[c.ChannelId] = true
		validate.Enum(v, f+".distribution", c.Distribution, false)
		validate.Enum(v, f+".repeat_client_policy", c.RepeatClientPolicy, false)
		if av := c.Availability; av != nil {
			between(v, f+".availability.reply_deadline_minutes", av.ReplyDeadlineMinutes, 0, 10080, "0 means off")
			between(v, f+".availability.max_passes", av.MaxPasses, 0, 20, "")
			between(v, f+".availability.stream_grace_minutes", av.StreamGraceMinutes, 0, 1440, "0 means off")
		}
		switch e := c.GetNewClientEntity().GetEntity().(type) {
		case *pb.NewClientEntity_Deal:
			ids.Check(v, f+".new_client_entity.deal.pipeline_id", e.Deal.GetPipelineId(), true)
			ids.Check(v, f+".new_client_entity.deal.stage_id", e.Deal.GetStageId(), false)
		case *pb.NewClientEntity_Lead:
			ids.Check(v, f+".new_client_entity.lead.lead_status_id", e.Lead.GetLeadStatusId(), true)
		}
		if len(c.Members) > 1000 {
			v.Add(f+".members", "at most 1000 members")
			continue
		}
		seenEmp := map[string]bool{}
		for j, m := range c.Members {
			mf := fmt.Sprintf("%s.members[%d]", f, j)
			ids.Check(v, mf+".employee_id", m.EmployeeId, true)
			if m.EmployeeId != "" && seenEmp[m.EmployeeId] {
				v.Add(mf+".employee_id", "employee %s is a member of this channel twice", m.EmployeeId)
			}
			seenEmp[m.EmployeeId] = true
			validate.Enum(v, mf+".role", m.Role, false)
			validate.Enum(v, mf+".access", m.Access, false)
			if m.Role == pb.EmployeeRole_EMPLOYEE_ROLE_QUALITY_CONTROL && m.Access == pb.ChannelAccess_CHANNEL_ACCESS_READ_WRITE {
				v.Add(mf+".access", "QUALITY_CONTROL is always READ_ONLY")
			}
			if m.Weight < 0 || m.Weight > MaxWeight {
				v.Add(mf+".weight", "must be between 1 and %d (0 means 1), got %d", MaxWeight, m.Weight)
			}
			between(v, mf+".capacity", m.Capacity, 0, MaxCapacity, "0 means no limit")
		}
	}
}
