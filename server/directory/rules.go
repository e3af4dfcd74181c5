package directory

import (
	"fmt"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/settings"
	"github.com/switchboardhq/switchboard/server/validate"
)

// Rules are the request checks of DirectoryService.
func Rules(r validate.Rules) {
	validate.Add(r, func(*pb.ListChannelsRequest, *errs.Violations) {})
	validate.Add(r, func(m *pb.CreateChannelRequest, v *errs.Violations) {
		validate.Enum(v, "kind", m.Kind, true)
		validate.Text(v, "name", m.Name, 1, 200)
		validate.Text(v, "external_id", m.ExternalId, 0, 200)
	})
	validate.Add(r, func(m *pb.UpdateChannelRequest, v *errs.Violations) {
		ids.Check(v, "channel_id", m.ChannelId, true)
		if m.Name != nil {
			validate.Text(v, "name", *m.Name, 1, 200)
		}
		if m.Name == nil && m.InIntegration == nil && m.OpenChannels == nil {
			v.Add("channel_id", "nothing to update: set name, in_integration or open_channels")
		}
	})
	validate.Add(r, func(*pb.ListEmployeesRequest, *errs.Violations) {})
	validate.Add(r, func(m *pb.CreateEmployeeRequest, v *errs.Violations) {
		validate.Text(v, "name", m.Name, 1, 200)
		validate.Text(v, "crm_user_id", m.CrmUserId, 0, 200)
		checkEmail(v, "email", m.Email)
	})
	validate.Add(r, func(m *pb.UpdateEmployeeRequest, v *errs.Violations) {
		ids.Check(v, "employee_id", m.EmployeeId, true)
		if m.Name != nil {
			validate.Text(v, "name", *m.Name, 1, 200)
		}
		if m.CrmUserId != nil {
			validate.Text(v, "crm_user_id", *m.CrmUserId, 0, 200)
		}
		if m.Email != nil {
			checkEmail(v, "email", *m.Email)
		}
		if m.Name == nil && m.CrmUserId == nil && m.Email == nil {
			v.Add("employee_id", "nothing to update: set name, crm_user_id or email")
		}
	})
	validate.Add(r, func(m *pb.DeactivateEmployeeRequest, v *errs.Violations) {
		ids.Check(v, "employee_id", m.EmployeeId, true)
	})
	validate.Add(r, func(m *pb.ReactivateEmployeeRequest, v *errs.Violations) {
		ids.Check(v, "employee_id", m.EmployeeId, true)
	})
	validate.Add(r, func(*pb.ListPipelinesRequest, *errs.Violations) {})
	validate.Add(r, func(m *pb.CreatePipelineRequest, v *errs.Violations) {
		validate.Text(v, "name", m.Name, 1, 200)
		if len(m.StageNames) == 0 || len(m.StageNames) > 50 {
			v.Add("stage_names", "a pipeline has 1 to 50 stages")
		}
		for i, s := range m.StageNames {
			validate.Text(v, fmt.Sprintf("stage_names[%d]", i), s, 1, 200)
		}
	})
	validate.Add(r, func(m *pb.CreateLeadStatusRequest, v *errs.Violations) { validate.Text(v, "name", m.Name, 1, 200) })
	validate.Add(r, func(m *pb.SetChannelAccessRequest, v *errs.Violations) {
		settings.CheckIDList(v, "employee_ids", m.EmployeeIds)
		settings.CheckIDList(v, "channel_ids", m.ChannelIds)
		switch {
		case m.AllEmployees && len(m.EmployeeIds) > 0:
			v.Add("employee_ids", "must be empty when all_employees is set")
		case !m.AllEmployees && len(m.EmployeeIds) == 0:
			v.Add("employee_ids", "name at least one employee, or set all_employees")
		}
		switch {
		case m.AllChannels && len(m.ChannelIds) > 0:
			v.Add("channel_ids", "must be empty when all_channels is set")
		case !m.AllChannels && len(m.ChannelIds) == 0:
			v.Add("channel_ids", "name at least one channel, or set all_channels")
		}
		validate.Enum(v, "level", m.Level, true)
		if m.Revision < 0 {
			v.Add("revision", "must not be negative")
		}
	})
	validate.Add(r, func(m *pb.SetPresenceRequest, v *errs.Violations) {
		ids.Check(v, "employee_id", m.EmployeeId, false)
		validate.Enum(v, "presence", m.Presence, true)
	})
	validate.Add(r, func(m *pb.SetDefaultOutgoingChannelRequest, v *errs.Violations) {
		ids.Check(v, "employee_id", m.EmployeeId, true)
		ids.Check(v, "channel_id", m.ChannelId, false)
		if m.Revision < 0 {
			v.Add("revision", "must not be negative")
		}
	})
}

func checkEmail(v *errs.Violations, field, s string) {
	validate.Text(v, field, s, 0, 320)
	if s == "" {
		return
	}
	at := -1
	for i, c := range s {
		if c == '@' {
			at = i
		}
		if c <= ' ' {
			v.Add(field, "%q is not an e-mail address", s)
			return
		}
	}
	if at <= 0 || at == len(s)-1 {
		v.Add(field, "%q is not an e-mail address", s)
	}
}
