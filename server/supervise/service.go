package supervise

import (
	"context"
	"time"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/auth"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/validate"
)

// Service implements SupervisionService.
type Service struct {
	st *store.Store
}

// NewService returns the SupervisionService handler.
func NewService(st *store.Store) *Service { return &Service{st: st} }

// Rules are the request checks of SupervisionService.
func Rules(r validate.Rules) {
	validate.Add(r, func(m *pb.GetUnansweredCountersRequest, v *errs.Violations) {
		ids.Check(v, "employee_id", m.EmployeeId, false)
	})
	validate.Add(r, func(m *pb.ListAssignmentHistoryRequest, v *errs.Violations) {
		checkHistoryRequest(m, v)
	})
}

// GetUnansweredCounters answers the counters of the account or of one
// employee.
func (s *Service) GetUnansweredCounters(ctx context.Context, req *pb.GetUnansweredCountersRequest) (*pb.GetUnansweredCountersResponse, error) {
	c, err := Unanswered(ctx, s.st, req.EmployeeId)
	if err != nil {
		return nil, err
	}
	return &pb.GetUnansweredCountersResponse{Counters: c.PB(time.Now())}, nil
}

// Unanswered reads the counters a caller may see: an employee token its
// own; an account API key everyone's, or the named employee's.
func Unanswered(ctx context.Context, st *store.Store, employee string) (*Counters, error) {
	id, err := auth.ActingEmployee(ctx, ids.Value(employee))
	if err != nil {
		return nil, err
	}
	if id != 0 && !auth.Caller(ctx).IsEmployee() {
		if _, err := ids.Resolve(ctx, "employee_id", "employee", employee, st.Ent.Employee.Get); err != nil {
			return nil, err
		}
	}
	return Read(ctx, st.Ent, id)
}
