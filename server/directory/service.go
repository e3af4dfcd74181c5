package directory

import (
	"context"
	"fmt"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/accountsettings"
	"github.com/switchboardhq/switchboard/ent/channel"
	"github.com/switchboardhq/switchboard/ent/employee"
	"github.com/switchboardhq/switchboard/ent/leadstatus"
	"github.com/switchboardhq/switchboard/ent/pipeline"
	"github.com/switchboardhq/switchboard/ent/stage"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/auth"
	"github.com/switchboardhq/switchboard/server/convert"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/settings"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/validate"
)

// Service implements DirectoryService.
type Service struct {
	st   *store.Store
	auth *auth.Authenticator
}

// NewService returns the DirectoryService handler. Deactivating an employee
// makes auth forget remembered credentials, so its tokens stop at once.
func NewService(st *store.Store, a *auth.Authenticator) *Service {
	return &Service{st: st, auth: a}
}

// Rules are the request checks of DirectoryService (the settings RPCs'
// checks are in package settings).
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

// ListChannels lists channels.
func (s *Service) ListChannels(ctx context.Context, _ *pb.ListChannelsRequest) (*pb.ListChannelsResponse, error) {
	chs, err := s.st.Ent.Channel.Query().Order(ent.Asc(channel.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := &pb.ListChannelsResponse{}
	for _, c := range chs {
		out.Channels = append(out.Channels, convert.Channel(c))
	}
	return out, nil
}

// CreateChannel adds a channel, in the integration, with default settings.
func (s *Service) CreateChannel(ctx context.Context, req *pb.CreateChannelRequest) (*pb.CreateChannelResponse, error) {
	var out *ent.Channel
	err := s.st.Tx(ctx, func(tx *ent.Tx) error {
		var err error
		out, err = tx.Channel.Create().
			SetKind(convert.EnumFromPB(req.Kind, "CHANNEL_KIND_", channel.Kind(""))).
			SetName(req.Name).
			SetExternalID(req.ExternalId).
			SetOpenChannels(req.OpenChannels).
			Save(ctx)
		if err != nil {
			return err
		}
		return tx.DistributionCursor.Create().SetChannelID(out.ID).Exec(ctx)
	})
	if err != nil {
		return nil, err
	}
	return &pb.CreateChannelResponse{Channel: convert.Channel(out)}, nil
}

// UpdateChannel renames a channel or changes its flags.
func (s *Service) UpdateChannel(ctx context.Context, req *pb.UpdateChannelRequest) (*pb.UpdateChannelResponse, error) {
	var ch *ent.Channel
	err := s.st.Tx(ctx, func(tx *ent.Tx) error {
		upd := tx.Channel.UpdateOneID(ids.Value(req.ChannelId))
		if req.Name != nil {
			upd = upd.SetName(*req.Name)
		}
		if req.InIntegration != nil {
			upd = upd.SetInIntegration(*req.InIntegration)
		}
		if req.OpenChannels != nil {
			upd = upd.SetOpenChannels(*req.OpenChannels)
		}
		var err error
		ch, err = upd.Save(ctx)
		return store.NotFound(err, "channel", req.ChannelId)
	})
	if err != nil {
		return nil, err
	}
	return &pb.UpdateChannelResponse{Channel: convert.Channel(ch)}, nil
}

// ListEmployees lists employees.
func (s *Service) ListEmployees(ctx context.Context, req *pb.ListEmployeesRequest) (*pb.ListEmployeesResponse, error) {
	q := s.st.Ent.Employee.Query()
	if !req.IncludeDeactivated {
		q = q.Where(employee.Active(true))
	}
	es, err := q.Order(ent.Asc(employee.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := &pb.ListEmployeesResponse{}
	for _, e := range es {
		out.Employees = append(out.Employees, convert.Employee(e))
	}
	return out, nil
}

// requireNative refuses directory edits that belong to an external CRM.
func (s *Service) requireNative(ctx context.Context, what string) error {
	as, err := s.st.Ent.AccountSettings.Query().Only(ctx)
	if err != nil {
		return err
	}
	if as.CrmKind != accountsettings.CrmKindNATIVE && as.CrmKind != accountsettings.CrmKindNONE {
		return errs.Precondition("%s come from %s: change them there and refresh", what, as.CrmKind)
	}
	return nil
}

func conflictOnCrmID(err error, crmUserID string) error {
	if store.IsUniqueViolation(err) {
		return errs.New(errs.ErrConflict, "an employee with crm_user_id %q already exists", crmUserID)
	}
	return err
}

// CreateEmployee adds an employee.
func (s *Service) CreateEmployee(ctx context.Context, req *pb.CreateEmployeeRequest) (*pb.CreateEmployeeResponse, error) {
	if err := s.requireNative(ctx, "employees"); err != nil {
		return nil, err
	}
	var e *ent.Employee
	err := s.st.Tx(ctx, func(tx *ent.Tx) error {
		c := tx.Employee.Create().SetName(req.Name).SetEmail(req.Email)
		if req.CrmUserId != "" {
			c = c.SetCrmUserID(req.CrmUserId)
		}
		var err error
		e, err = c.Save(ctx)
		return err
	})
	if err != nil {
		return nil, conflictOnCrmID(err, req.CrmUserId)
	}
	return &pb.CreateEmployeeResponse{Employee: convert.Employee(e)}, nil
}

// UpdateEmployee edits an employee.
func (s *Service) UpdateEmployee(ctx context.Context, req *pb.UpdateEmployeeRequest) (*pb.UpdateEmployeeResponse, error) {
	if err := s.requireNative(ctx, "employees"); err != nil {
		return nil, err
	}
	var e *ent.Employee
	err := s.st.Tx(ctx, func(tx *ent.Tx) error {
		upd := tx.Employee.UpdateOneID(ids.Value(req.EmployeeId))
		if req.Name != nil {
			upd = upd.SetName(*req.Name)
		}
		if req.CrmUserId != nil {
			if *req.CrmUserId == "" {
				upd = upd.ClearCrmUserID()
			} else {
				upd = upd.SetCrmUserID(*req.CrmUserId)
			}
		}
		if req.Email != nil {
			upd = upd.SetEmail(*req.Email)
		}
		var err error
		e, err = upd.Save(ctx)
		return err
	})
	if err != nil {
		return nil, conflictOnCrmID(store.NotFound(err, "employee", req.EmployeeId), req.GetCrmUserId())
	}
	return &pb.UpdateEmployeeResponse{Employee: convert.Employee(e)}, nil
}

func (s *Service) setActive(ctx context.Context, id string, active bool) (*ent.Employee, error) {
	if err := s.requireNative(ctx, "employees"); err != nil {
		return nil, err
	}
	var e *ent.Employee
	err := s.st.Tx(ctx, func(tx *ent.Tx) error {
		var err error
		e, err = tx.Employee.UpdateOneID(ids.Value(id)).SetActive(active).Save(ctx)
		return store.NotFound(err, "employee", id)
	})
	if err != nil {
		return nil, err
	}
	if !active {
		// Remembered tokens of the employee stop working, and its open
		// streams end; a failed check is never remembered, so reactivating
		// needs nothing.
		s.auth.Forget()
	}
	return e, nil
}

// DeactivateEmployee deactivates an employee.
func (s *Service) DeactivateEmployee(ctx context.Context, req *pb.DeactivateEmployeeRequest) (*pb.DeactivateEmployeeResponse, error) {
	e, err := s.setActive(ctx, req.EmployeeId, false)
	if err != nil {
		return nil, err
	}
	return &pb.DeactivateEmployeeResponse{Employee: convert.Employee(e)}, nil
}

// ReactivateEmployee reactivates an employee.
func (s *Service) ReactivateEmployee(ctx context.Context, req *pb.ReactivateEmployeeRequest) (*pb.ReactivateEmployeeResponse, error) {
	e, err := s.setActive(ctx, req.EmployeeId, true)
	if err != nil {
		return nil, err
	}
	return &pb.ReactivateEmployeeResponse{Employee: convert.Employee(e)}, nil
}

// ListPipelines lists pipelines with stages, and lead statuses.
func (s *Service) ListPipelines(ctx context.Context, _ *pb.ListPipelinesRequest) (*pb.ListPipelinesResponse, error) {
	ps, err := s.st.Ent.Pipeline.Query().
		Order(ent.Asc(pipeline.FieldPosition), ent.Asc(pipeline.FieldID)).
		WithStages(func(q *ent.StageQuery) { q.Order(ent.Asc(stage.FieldPosition), ent.Asc(stage.FieldID)) }).
		All(ctx)
	if err != nil {
		return nil, err
	}
	ls, err := s.st.Ent.LeadStatus.Query().Order(ent.Asc(leadstatus.FieldPosition), ent.Asc(leadstatus.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := &pb.ListPipelinesResponse{}
	for _, p := range ps {
		out.Pipelines = append(out.Pipelines, convert.Pipeline(p, p.Edges.Stages))
	}
	for _, l := range ls {
		out.LeadStatuses = append(out.LeadStatuses, convert.LeadStatus(l))
	}
	return out, nil
}

// CreatePipeline adds a pipeline with its stages, after the existing ones.
func (s *Service) CreatePipeline(ctx context.Context, req *pb.CreatePipelineRequest) (*pb.CreatePipelineResponse, error) {
	if err := s.requireNative(ctx, "pipelines"); err != nil {
		return nil, err
	}
	var out *pb.Pipeline
	err := s.st.Tx(ctx, func(tx *ent.Tx) error {
		n, err := tx.Pipeline.Query().Count(ctx)
		if err != nil {
			return err
		}
		p, err := tx.Pipeline.Create().SetName(req.Name).SetPosition(n).Save(ctx)
		if err != nil {
			return err
		}
		builders := make([]*ent.StageCreate, len(req.StageNames))
		for i, name := range req.StageNames {
			builders[i] = tx.Stage.Create().SetPipelineID(p.ID).SetName(name).SetPosition(i)
		}
		stages, err := tx.Stage.CreateBulk(builders...).Save(ctx)
		if err != nil {
			return err
		}
		out = convert.Pipeline(p, stages)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &pb.CreatePipelineResponse{Pipeline: out}, nil
}

// CreateLeadStatus adds a lead status after the existing ones.
func (s *Service) CreateLeadStatus(ctx context.Context, req *pb.CreateLeadStatusRequest) (*pb.CreateLeadStatusResponse, error) {
	if err := s.requireNative(ctx, "lead statuses"); err != nil {
		return nil, err
	}
	var l *ent.LeadStatus
	err := s.st.Tx(ctx, func(tx *ent.Tx) error {
		n, err := tx.LeadStatus.Query().Count(ctx)
		if err != nil {
			return err
		}
		l, err = tx.LeadStatus.Create().SetName(req.Name).SetPosition(n).Save(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &pb.CreateLeadStatusResponse{LeadStatus: convert.LeadStatus(l)}, nil
}

// SetChannelAccess sets access on a block of the access grid.
func (s *Service) SetChannelAccess(ctx context.Context, req *pb.SetChannelAccessRequest) (*pb.SetChannelAccessResponse, error) {
	return settings.SetChannelAccess(ctx, s.st, req)
}

// SetDefaultOutgoingChannel sets or clears an employee's default outgoing
// channel.
func (s *Service) SetDefaultOutgoingChannel(ctx context.Context, req *pb.SetDefaultOutgoingChannelRequest) (*pb.SetDefaultOutgoingChannelResponse, error) {
	return settings.SetDefaultOutgoingChannel(ctx, s.st, req)
}
