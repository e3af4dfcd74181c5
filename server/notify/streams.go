package notify

import (
	"context"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/employee"
	"github.com/switchboardhq/switchboard/ent/notificationstream"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// Presence from streams (SPEC §11). Every employee stream holds a lease, a
// notification_streams row: inserted when the stream opens, renewed every
// 30 s while it stays open, ended (expires_at set to the moment) when it
// closes. A replica that dies leaves leases that expire 90 s after their
// last renewal. SweepStreams, run every minute by the waiting line's
// job, removes ended and expired leases and, when an employee has none left,
// records on the employee when its last stream went (streams_closed_at, its
// last renewal). The first stream to open clears it again.
//
// Both changes of streams_closed_at are made under the employee's row lock
// with the leases counted after it, so two streams opening and closing at
// once on two replicas leave the right answer. They are the only
// directory changes here: a stream closing and its client reconnecting
// within the minute (a deploy, a network change) change nothing that
// routing reads, and routing reads the closing time from the directory
// snapshot it has anyway.

// Lease timing by default (Options.StreamLease, StreamRenew).
const (
	// LeaseRenew is how often an open stream renews its lease.
	LeaseRenew = 30 * time.Second
	// LeaseTTL is how long a lease lasts without a renewal: three
	// renewals may be missed before a stream counts as gone.
	LeaseTTL = 90 * time.Second
)

// WithClock makes leases record the times clock gives (the router's, so
// tests move both); the default is the wall clock.
func (s *Service) WithClock(clock func() time.Time) *Service {
	if clock != nil {
		s.clock = clock
	}
	return s
}

// OnBack makes the service call f after an employee whose streams had all
// closed opens one again: it may count as available again.
func (s *Service) OnBack(f func(context.Context)) *Service {
	s.back = f
	return s
}

func (s *Service) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}

// lease is one open stream's lease.
type lease struct {
	s        *Service
	ctx      context.Context // the account's scope, not the stream's
	employee int64
	id       int64
	stop     chan struct{}
	done     chan struct{}
}

// openLease records an employee stream as open and keeps it renewed until
// close. The general chat's streams hold none.
func (s *Service) openLease(ctx context.Context, a Audience) (*lease, error) {
	if a.Employee == 0 {
		return nil, nil
	}
	l := &lease{s: s, ctx: tenant.NewContext(context.WithoutCancel(ctx), a.Account), employee: a.Employee,
		stop: make(chan struct{}), done: make(chan struct{})}
	back, err := l.insert(ctx)
	if err != nil {
		return nil, err
	}
	if back && s.back != nil {
		s.back(ctx)
	}
	go l.renew()
	return l, nil
}

// insert adds a lease row; back reports that the employee had no stream
// before (its closing time was cleared).
func (l *lease) insert(ctx context.Context) (back bool, err error) {
	now := l.s.now()
	err = l.s.st.Tx(ctx, func(tx *ent.Tx) error {
		e, err := store.ForUpdate(tx.Employee.Query().Where(employee.ID(l.employee))).Only(ctx)
		if err != nil {
			return err
		}
		back = e.StreamsClosedAt != nil
		if back {
			if err := tx.Employee.UpdateOneID(e.ID).ClearStreamsClosedAt().Exec(ctx); err != nil {
				return err
			}
		}
		row, err := tx.NotificationStream.Create().SetEmployeeID(l.employee).SetRenewedAt(now).
			SetExpiresAt(now.Add(l.s.hub.opts.StreamLease)).Save(ctx)
		if err != nil {
			return err
		}
		l.id = row.ID
		return nil
	})
	return back, err
}

// renew extends the lease every LeaseRenew until close. A lease swept
// meanwhile (this replica stalled past its expiry) is opened again.
func (l *lease) renew() {
	defer close(l.done)
	t := time.NewTicker(l.s.hub.opts.StreamRenew)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		now := l.s.now()
		n, err := l.s.st.Ent.NotificationStream.Update().Where(notificationstream.ID(l.id)).
			SetRenewedAt(now).SetExpiresAt(now.Add(l.s.hub.opts.StreamLease)).Save(l.ctx)
		if err == nil && n == 0 {
			var back bool
			if back, err = l.insert(l.ctx); err == nil && back && l.s.back != nil {
				l.s.back(l.ctx)
			}
		}
		if err != nil {
			l.s.hub.log.Warn("renewing a notification stream's lease", "employee", l.employee, "err", err)
		}
	}
}

// close ends the lease at the moment; the sweep does the rest.
func (l *lease) close() {
	if l == nil {
		return
	}
	close(l.stop)
	<-l.done
	ctx, cancel := context.WithTimeout(l.ctx, 5*time.Second)
	defer cancel()
	now := l.s.now()
	if err := l.s.st.Ent.NotificationStream.Update().Where(notificationstream.ID(l.id)).
		SetRenewedAt(now).SetExpiresAt(now).Exec(ctx); err != nil {
		// The lease expires by itself.
		l.s.hub.log.Warn("ending a notification stream's lease", "employee", l.employee, "err", err)
	}
}

// SweepStreams removes the leases ended or expired at now, of every
// account, and records when the last stream of each employee left with none
// went. It returns how many employees were recorded so.
func SweepStreams(ctx context.Context, st *store.Store, now time.Time) (int, error) {
	var due []struct {
		AccountID  int64 `json:"account_id"`
		EmployeeID int64 `json:"employee_id"`
	}
	err := st.Ent.NotificationStream.Query().Where(notificationstream.ExpiresAtLTE(now)).Unique(true).
		Select(notificationstream.FieldAccountID, notificationstream.FieldEmployeeID).Scan(tenant.System(ctx), &due)
	if err != nil {
		return 0, err
	}
	gone := 0
	var first error
	for _, d := range due {
		actx := tenant.NewContext(ctx, d.AccountID)
		err := st.Tx(actx, func(tx *ent.Tx) error {
			closed, err := sweepEmployee(actx, tx, d.EmployeeID, now)
			if closed {
				gone++
			}
			return err
		})
		if err != nil && first == nil {
			first = err
		}
	}
	return gone, first
}

// sweepEmployee removes an employee's leases over at now, under its row
// lock; closed reports that its last one went.
func sweepEmployee(ctx context.Context, tx *ent.Tx, employeeID int64, now time.Time) (closed bool, err error) {
	e, err := store.ForUpdate(tx.Employee.Query().Where(employee.ID(employeeID))).Only(ctx)
	if ent.IsNotFound(err) {
		_, err = tx.NotificationStream.Delete().Where(notificationstream.EmployeeID(employeeID)).Exec(ctx)
		return false, err
	}
	if err != nil {
		return false, err
	}
	over, err := tx.NotificationStream.Query().Where(notificationstream.EmployeeID(employeeID),
		notificationstream.ExpiresAtLTE(now)).All(ctx)
	if err != nil || len(over) == 0 {
		return false, err
	}
	if _, err := tx.NotificationStream.Delete().Where(notificationstream.EmployeeID(employeeID),
		notificationstream.ExpiresAtLTE(now)).Exec(ctx); err != nil {
		return false, err
	}
	open, err := tx.NotificationStream.Query().Where(notificationstream.EmployeeID(employeeID)).Exist(ctx)
	if err != nil || open || e.StreamsClosedAt != nil {
		return false, err
	}
	last := over[0].RenewedAt
	for _, l := range over[1:] {
		if l.RenewedAt.After(last) {
			last = l.RenewedAt
		}
	}
	return true, tx.Employee.UpdateOneID(employeeID).SetStreamsClosedAt(last).Exec(ctx)
}
