package notify

import (
	"context"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchboardhq/switchboard/ent"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/auth"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/validate"
)

// Service implements NotificationService.
type Service struct {
	st       *store.Store
	hub      *Hub
	creds    *auth.Authenticator
	counters CounterFeed
	clock    func() time.Time
	back     func(context.Context)
}

// CounterFeed streams an employee's unanswered counters: the current ones
// first, then each change; stop ends the watch.
type CounterFeed interface {
	Watch(account, employee int64) (feed <-chan *pb.UnansweredCounters, stop func())
}

// WithCounters lets streams carry unanswered counters from f.
func (s *Service) WithCounters(f CounterFeed) *Service {
	s.counters = f
	return s
}

// NewService returns the NotificationService handler. A stream ends with
// Unauthenticated once creds finds its credential revoked or its employee
// deactivated.
func NewService(st *store.Store, hub *Hub, creds *auth.Authenticator) *Service {
	return &Service{st: st, hub: hub, creds: creds}
}

const (
	replayBatch     = 500
	defaultListPage = 100
	maxListPage     = 500
)

// Rules are the request checks of NotificationService.
func Rules(r validate.Rules) {
	validate.Add(r, func(m *pb.SubscribeRequest, v *errs.Violations) {
		checkAudience(v, m.EmployeeId, m.GeneralChat)
		checkCursor(v, "cursor", m.Cursor)
		if m.UnansweredCounters && m.GeneralChat {
			v.Add("unanswered_counters", "the general chat has no counters: subscribe as an employee")
		}
	})
	validate.Add(r, func(m *pb.ListNotificationsRequest, v *errs.Violations) {
		checkAudience(v, m.EmployeeId, m.GeneralChat)
		checkCursor(v, "after_cursor", m.AfterCursor)
		validate.PageSize(v, "page_size", m.PageSize, maxListPage)
	})
}

func checkAudience(v *errs.Violations, employee string, general bool) {
	ids.Check(v, "employee_id", employee, false)
	if general && employee != "" {
		v.Add("general_chat", "choose employee_id or general_chat, not both")
	}
}

func checkCursor(v *errs.Violations, field, c string) {
	if _, ok := ParseCursor(c); c != "" && !ok {
		v.Add(field, "%q is not a cursor this log gave out", c)
	}
}

// audience resolves whose decisions a request reads: an employee token reads
// its own; an account API key names an employee or the general chat.
func (s *Service) audience(ctx context.Context, employee string, general bool) (Audience, error) {
	p := auth.Caller(ctx)
	if p.IsEmployee() && general {
		return Audience{}, errs.Forbidden("an employee token reads only its own decisions, not the general chat")
	}
	id, err := auth.ActingEmployee(ctx, ids.Value(employee))
	if err != nil {
		return Audience{}, err
	}
	a := Audience{Account: p.AccountID, Employee: id}
	if id == 0 {
		if !general {
			return Audience{}, errs.Invalid("employee_id", "name an employee, or set general_chat")
		}
		return a, nil
	}
	if _, err := s.st.Ent.Employee.Get(ctx, id); err != nil {
		return Audience{}, store.NotFound(err, "employee", employee)
	}
	return a, nil
}

// start resolves where a stream or page begins: "" is the audience's newest
// decision (only new ones follow), "0" the start of the log.
func (s *Service) start(ctx context.Context, a Audience, raw string) (Cursor, bool, error) {
	if raw == "" {
		c, err := Head(ctx, s.st, a)
		return c, false, err
	}
	c, _ := ParseCursor(raw)
	as, err := s.st.Ent.AccountSettings.Query().Only(ctx)
	if err != nil {
		return Cursor{}, false, err
	}
	truncated := c.Less(Cursor{Pos: as.PrunedTxid, ID: as.PrunedID})
	return c, truncated, nil
}

// Subscribe streams decisions: the replay after the cursor, CaughtUp, then
// live ones with heartbeats, until the client leaves or the server stops.
func (s *Service) Subscribe(ctx context.Context, req *pb.SubscribeRequest, stream *connect.ServerStream[pb.SubscribeResponse]) error {
	a, err := s.audience(ctx, req.EmployeeId, req.GeneralChat)
	if err != nil {
		return err
	}
	cur, truncated, err := s.start(ctx, a, req.Cursor)
	if err != nil {
		return err
	}
	// The stream counts for its employee's presence while open (streams.go).
	l, err := s.openLease(ctx, a)
	if err != nil {
		return err
	}
	defer l.close()
	var counters <-chan *pb.UnansweredCounters
	if req.UnansweredCounters && s.counters != nil {
		feed, stop := s.counters.Watch(a.Account, a.Employee)
		defer stop()
		counters = feed
	}
	heartbeat := time.NewTimer(s.hub.jitter())
	defer heartbeat.Stop()
	send := func(r *pb.SubscribeResponse) error {
		heartbeat.Reset(s.hub.jitter())
		return stream.Send(r)
	}
	caughtUp := false
	forgot := auth.Forgotten(ctx)
	for {
		// Join the live feed before reading the store: a decision committed
		// in between is then in one or the other (or both: the cursor drops
		// the second copy), never in neither.
		sub, err := s.hub.subscribe(ctx, a)
		if err != nil {
			return err
		}
		err = s.follow(ctx, sub, &cur, send, func() error {
			if caughtUp {
				return nil
			}
			caughtUp = true
			return send(&pb.SubscribeResponse{Event: &pb.SubscribeResponse_CaughtUp{CaughtUp: &pb.CaughtUp{
				Cursor: cur.String(), HistoryTruncated: truncated}}})
		}, heartbeat, &forgot, counters)
		s.hub.unsubscribe(sub)
		if err != errLagged {
			return err
		}
	}
}

// errLagged: the subscriber fell off the live feed and replays from the
// store.
var errLagged = errs.New(errs.ErrAborted, "lagged")

func (s *Service) follow(ctx context.Context, sub *subscriber, cur *Cursor, send func(*pb.SubscribeResponse) error,
	replayed func() error, heartbeat *time.Timer, forgot *<-chan struct{}, counters <-chan *pb.UnansweredCounters) error {
	emit := func(n *ent.Notification) error {
		c := Cursor{Pos: n.Txid, ID: n.ID}
		if !cur.Less(c) {
			return nil // already sent
		}
		if err := send(&pb.SubscribeResponse{Event: &pb.SubscribeResponse_Decision{Decision: ToPB(n)}}); err != nil {
			return err
		}
		*cur = c
		return nil
	}
	for {
		rows, err := Read(ctx, s.st, sub.aud, *cur, replayBatch)
		if err != nil {
			return err
		}
		for _, n := range rows {
			if err := emit(n); err != nil {
				return err
			}
		}
		if len(rows) < replayBatch {
			break
		}
	}
	if err := replayed(); err != nil {
		return err
	}
	for {
		select {
		case <-*forgot:
			// Some credential was revoked or employee deactivated: this
			// stream's, perhaps.
			*forgot = s.creds.Forgot()
			if err := s.creds.Recheck(ctx, auth.Caller(ctx)); err != nil {
				return err
			}
		case n := <-sub.feed:
			if err := emit(n); err != nil {
				return err
			}
		case <-sub.cut:
			return errLagged
		case c := <-counters:
			if err := send(&pb.SubscribeResponse{Event: &pb.SubscribeResponse_Unanswered{Unanswered: c}}); err != nil {
				return err
			}
		case <-heartbeat.C:
			if err := send(&pb.SubscribeResponse{Event: &pb.SubscribeResponse_Heartbeat{Heartbeat: &pb.Heartbeat{
				Cursor: cur.String(), Time: timestamppb.Now()}}}); err != nil {
				return err
			}
		case <-s.hub.Closed():
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// ListNotifications pages through the audience's decisions after a cursor.
func (s *Service) ListNotifications(ctx context.Context, req *pb.ListNotificationsRequest) (*pb.ListNotificationsResponse, error) {
	a, err := s.audience(ctx, req.EmployeeId, req.GeneralChat)
	if err != nil {
		return nil, err
	}
	from, _ := ParseCursor(req.AfterCursor) // "" and "0": from the start
	size := int(req.PageSize)
	if size == 0 {
		size = defaultListPage
	}
	rows, err := Read(ctx, s.st, a, from, size)
	if err != nil {
		return nil, err
	}
	out := &pb.ListNotificationsResponse{NextCursor: from.String()}
	for _, n := range rows {
		out.Decisions = append(out.Decisions, ToPB(n))
		out.NextCursor = Cursor{Pos: n.Txid, ID: n.ID}.String()
	}
	return out, nil
}
