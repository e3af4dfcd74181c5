package directory

import (
	"context"

	"github.com/switchboardhq/switchboard/ent/channel"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/auth"
	"github.com/switchboardhq/switchboard/server/convert"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/store"
)

// Service implements DirectoryService.
type Service struct {
	st   *store.Store
	auth *auth.Authenticator
	// online runs after an employee's presence became ONLINE (nil:
	// nothing): it may take waiting clients (SPEC §11).
	online func(context.Context)
}

// OnOnline makes the service call f after a presence is set to ONLINE.
// Call it before serving.
func (s *Service) OnOnline(f func(context.Context)) { s.online = f }

// NewService returns the DirectoryService handler. Deactivating an employee
// makes auth forget remembered credentials, so its tokens stop at once.
func NewService(st *store.Store, a *auth.Authenticator) *Service {
	return &Service{st: st, auth: a}
}

// ListChannels lists channels.
func (s *Service) ListChannels(ctx context.Context, _ *pb.ListChannelsRequest) (*pb.ListChannelsResponse, error) {
	chs, err := Channels(ctx, s.st)
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
	ch, err := CreateChannel(ctx, s.st, NewChannel{
		Kind:         convert.EnumFromPB(req.Kind, "CHANNEL_KIND_", channel.Kind("")),
		Name:         req.Name,
		ExternalID:   req.ExternalId,
		OpenChannels: req.OpenChannels,
	})
	if err != nil {
		return nil, err
	}
	return &pb.CreateChannelResponse{Channel: convert.Channel(ch)}, nil
}

// UpdateChannel renames a channel or changes its flags.
func (s *Service) UpdateChannel(ctx context.Context, req *pb.UpdateChannelRequest) (*pb.UpdateChannelResponse, error) {
	ch, err := UpdateChannel(ctx, s.st, ChannelChange{ID: req.ChannelId, Name: req.Name, InIntegration: req.InIntegration, OpenChannels: req.OpenChannels})
	if err != nil {
		return nil, err
	}
	return &pb.UpdateChannelResponse{Channel: convert.Channel(ch)}, nil
}

// ListEmployees lists employees.
func (s *Service) ListEmployees(ctx context.Context, req *pb.ListEmployeesRequest) (*pb.ListEmployeesResponse, error) {
	es, err := Employees(ctx, s.st, req.IncludeDeactivated)
	if err != nil {
		return nil, err
	}
	out := &pb.ListEmployeesResponse{}
	for _, e := range es {
		out.Employees = append(out.Employees, convert.Employee(e))
	}
	return out, nil
}

// CreateEmployee adds an employee.
func (s *Service) CreateEmployee(ctx context.Context, req *pb.CreateEmployeeRequest) (*pb.CreateEmployeeResponse, error) {
	e, err := CreateEmployee(ctx, s.st, NewEmployee{Name: req.Name, Email: req.Email, CrmUserID: req.CrmUserId})
	if err != nil {
		return nil, err
	}
	return &pb.CreateEmployeeResponse{Employee: convert.Employee(e)}, nil
}

// UpdateEmployee edits an employee.
func (s *Service) UpdateEmployee(ctx context.Context, req *pb.UpdateEmployeeRequest) (*pb.UpdateEmployeeResponse, error) {
	e, err := UpdateEmployee(ctx, s.st, EmployeeChange{ID: req.EmployeeId, Name: req.Name, CrmUserID: req.CrmUserId, Email: req.Email})
	if err != nil {
		return nil, err
	}
	return &pb.UpdateEmployeeResponse{Employee: convert.Employee(e)}, nil
}

// DeactivateEmployee deactivates an employee.
func (s *Service) DeactivateEmployee(ctx context.Context, req *pb.DeactivateEmployeeRequest) (*pb.DeactivateEmployeeResponse, error) {
	e, err := SetActive(ctx, s.st, s.auth, req.EmployeeId, false)
	if err != nil {
		return nil, err
	}
	return &pb.DeactivateEmployeeResponse{Employee: convert.Employee(e)}, nil
}

// ReactivateEmployee reactivates an employee.
func (s *Service) ReactivateEmployee(ctx context.Context, req *pb.ReactivateEmployeeRequest) (*pb.ReactivateEmployeeResponse, error) {
	e, err := SetActive(ctx, s.st, s.auth, req.EmployeeId, true)
	if err != nil {
		return nil, err
	}
	return &pb.ReactivateEmployeeResponse{Employee: convert.Employee(e)}, nil
}

// ListPipelines lists pipelines with stages, and lead statuses.
func (s *Service) ListPipelines(ctx context.Context, _ *pb.ListPipelinesRequest) (*pb.ListPipelinesResponse, error) {
	c, err := Pipelines(ctx, s.st)
	if err != nil {
		return nil, err
	}
	out := &pb.ListPipelinesResponse{}
	for _, p := range c.Pipelines {
		out.Pipelines = append(out.Pipelines, convert.Pipeline(p, p.Edges.Stages))
	}
	for _, l := range c.LeadStatuses {
		out.LeadStatuses = append(out.LeadStatuses, convert.LeadStatus(l))
	}
	return out, nil
}

// CreatePipeline adds a pipeline with its stages, after the existing ones.
func (s *Service) CreatePipeline(ctx context.Context, req *pb.CreatePipelineRequest) (*pb.CreatePipelineResponse, error) {
	p, stages, err := CreatePipeline(ctx, s.st, req.Name, req.StageNames)
	if err != nil {
		return nil, err
	}
	return &pb.CreatePipelineResponse{Pipeline: convert.Pipeline(p, stages)}, nil
}

// CreateLeadStatus adds a lead status after the existing ones.
func (s *Service) CreateLeadStatus(ctx context.Context, req *pb.CreateLeadStatusRequest) (*pb.CreateLeadStatusResponse, error) {
	l, err := CreateLeadStatus(ctx, s.st, req.Name)
	if err != nil {
		return nil, err
	}
	return &pb.CreateLeadStatusResponse{LeadStatus: convert.LeadStatus(l)}, nil
}

// levels maps the API's access levels to the grid's.
var levels = map[pb.ChannelAccessLevel]Level{
	pb.ChannelAccessLevel_CHANNEL_ACCESS_LEVEL_NO_ACCESS:  NoAccess,
	pb.ChannelAccessLevel_CHANNEL_ACCESS_LEVEL_READ:       Read,
	pb.ChannelAccessLevel_CHANNEL_ACCESS_LEVEL_READ_WRITE: ReadWrite,
}

// SetChannelAccess sets access on a block of the access grid.
func (s *Service) SetChannelAccess(ctx context.Context, req *pb.SetChannelAccessRequest) (*pb.SetChannelAccessResponse, error) {
	res, err := SetChannelAccess(ctx, s.st, AccessBlock{
		Revision:     req.Revision,
		AllEmployees: req.AllEmployees, EmployeeIDs: req.EmployeeIds,
		AllChannels: req.AllChannels, ChannelIDs: req.ChannelIds,
		Level: levels[req.Level],
	})
	if err != nil {
		return nil, err
	}
	out := &pb.SetChannelAccessResponse{Revision: res.Revision, Changed: res.Changed}
	for _, sk := range res.Skipped {
		out.Skipped = append(out.Skipped, &pb.SkippedAccess{EmployeeId: ids.Format(sk.EmployeeID), ChannelId: ids.Format(sk.ChannelID), Reason: sk.Reason})
	}
	return out, nil
}

// SetDefaultOutgoingChannel sets or clears an employee's default outgoing
// channel.
func (s *Service) SetDefaultOutgoingChannel(ctx context.Context, req *pb.SetDefaultOutgoingChannelRequest) (*pb.SetDefaultOutgoingChannelResponse, error) {
	res, err := SetDefaultOutgoingChannel(ctx, s.st, DefaultChannel{Revision: req.Revision, EmployeeID: req.EmployeeId, ChannelID: req.ChannelId})
	if err != nil {
		return nil, err
	}
	return &pb.SetDefaultOutgoingChannelResponse{
		Employee:          convert.Employee(res.Employee),
		PreviousChannelId: ids.FormatPtr(res.Previous),
		Revision:          res.Revision,
	}, nil
}

// SetPresence sets an employee's presence: an employee token its own, an
// account API key anyone's.
func (s *Service) SetPresence(ctx context.Context, req *pb.SetPresenceRequest) (*pb.SetPresenceResponse, error) {
	e, err := SetPresence(ctx, s.st, req.EmployeeId, req.Presence)
	if err != nil {
		return nil, err
	}
	if s.online != nil && req.Presence == pb.Presence_PRESENCE_ONLINE {
		s.online(ctx)
	}
	return &pb.SetPresenceResponse{Employee: convert.Employee(e)}, nil
}
