package supervise

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/assignmentevent"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/validate"
)

const (
	defaultHistoryPage = 100
	maxHistoryPage     = 500
)

func checkHistoryRequest(m *pb.ListAssignmentHistoryRequest, v *errs.Violations) {
	ids.Check(v, "client_id", m.ClientId, false)
	ids.Check(v, "employee_id", m.EmployeeId, false)
	validate.PageSize(v, "page_size", m.PageSize, maxHistoryPage)
	if m.StartTime != nil && !m.StartTime.IsValid() {
		v.Add("start_time", "not a valid time")
	}
	if m.EndTime != nil && !m.EndTime.IsValid() {
		v.Add("end_time", "not a valid time")
	}
	if m.StartTime != nil && m.EndTime != nil && m.StartTime.IsValid() && m.EndTime.IsValid() &&
		!m.StartTime.AsTime().Before(m.EndTime.AsTime()) {
		v.Add("end_time", "must be after start_time")
	}
	if _, ok := parseToken(m.PageToken); !ok {
		v.Add("page_token", "not a page token this list gave out")
	}
}

// A page token is the last entry's id, opaque to callers.
func pageToken(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("h" + strconv.FormatInt(id, 10)))
}

func parseToken(s string) (int64, bool) {
	if s == "" {
		return 0, true
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || !strings.HasPrefix(string(b), "h") {
		return 0, false
	}
	id, err := strconv.ParseInt(string(b[1:]), 10, 64)
	return id, err == nil && id > 0
}

// ListAssignmentHistory pages through the account's history, newest first.
func (s *Service) ListAssignmentHistory(ctx context.Context, req *pb.ListAssignmentHistoryRequest) (*pb.ListAssignmentHistoryResponse, error) {
	c := s.st.Ent
	q := c.AssignmentEvent.Query()
	if req.ClientId != "" {
		cl, err := ids.Resolve(ctx, "client_id", "client", req.ClientId, c.Contact.Get)
		if err != nil {
			return nil, err
		}
		q = q.Where(assignmentevent.ContactID(cl.ID))
	}
	if req.EmployeeId != "" {
		e, err := ids.Resolve(ctx, "employee_id", "employee", req.EmployeeId, c.Employee.Get)
		if err != nil {
			return nil, err
		}
		q = q.Where(assignmentevent.Or(assignmentevent.FromEmployeeID(e.ID), assignmentevent.ToEmployeeID(e.ID)))
	}
	if req.StartTime != nil {
		q = q.Where(assignmentevent.CreatedAtGTE(req.StartTime.AsTime()))
	}
	if req.EndTime != nil {
		q = q.Where(assignmentevent.CreatedAtLT(req.EndTime.AsTime()))
	}
	if after, _ := parseToken(req.PageToken); after != 0 {
		q = q.Where(assignmentevent.IDLT(after))
	}
	size := int(req.PageSize)
	if size == 0 {
		size = defaultHistoryPage
	}
	rows, err := q.Order(ent.Desc(assignmentevent.FieldID)).Limit(size + 1).All(ctx)
	if err != nil {
		return nil, err
	}
	out := &pb.ListAssignmentHistoryResponse{}
	if len(rows) > size {
		rows = rows[:size]
		out.NextPageToken = pageToken(rows[size-1].ID)
	}
	for _, r := range rows {
		out.Events = append(out.Events, EventPB(r))
	}
	return out, nil
}

// EventPB is an entry as the API shows it.
func EventPB(r *ent.AssignmentEvent) *pb.AssignmentEvent {
	out := &pb.AssignmentEvent{Id: ids.Format(r.ID), CreateTime: timestamppb.New(r.CreatedAt),
		Cause:    pb.AssignmentCause(pb.AssignmentCause_value["ASSIGNMENT_CAUSE_"+string(r.Cause)]),
		Actor:    &pb.Actor{Kind: pb.ActorKind(pb.ActorKind_value["ACTOR_KIND_"+r.ActorKind]), Id: r.ActorID, Name: r.ActorName},
		ClientId: ids.FormatPtr(r.ContactID), ChannelId: ids.FormatPtr(r.ChannelID),
		FromEmployeeId: ids.FormatPtr(r.FromEmployeeID), ToEmployeeId: ids.FormatPtr(r.ToEmployeeID),
		DistributionMode: pb.DistributionMode(pb.DistributionMode_value["DISTRIBUTION_MODE_"+r.DistributionMode]),
		Position:         int32(r.Position), Explanation: r.Explanation}
	if r.Changes != "" {
		out.Changes = strings.Split(r.Changes, "\n")
	}
	return out
}
