package routing

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/switchboardhq/switchboard/ent/chat"
	"github.com/switchboardhq/switchboard/server/notify"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// The waiting line's timer (SPEC §11). Shifts start and days off end
// without anybody calling the API, so every minute the outbox's River
// leader inserts one WaitingArgs job (a periodic job: one per minute across
// all replicas, and it survives restarts because the schedule is the
// leader's, not a process's memory). Whichever replica works it hands out
// every account's waiting clients that someone can take by then. A stale
// or repeated run does nothing: each client is taken under its channel's
// cursor lock and only while it still has no responsible. The same job
// sweeps the leases of notification streams (presence from streams).

// WaitingInterval is how often waiting clients are looked at without a
// change that calls for it: a shift's start reaches its first waiting
// client within this time.
const WaitingInterval = time.Minute

// WaitingArgs is the periodic job that hands out waiting clients.
type WaitingArgs struct{}

// Kind implements river.JobArgs.
func (WaitingArgs) Kind() string { return "availability_waiting" }

// WaitingWorker works WaitingArgs with the router set once it exists.
type WaitingWorker struct {
	river.WorkerDefaults[WaitingArgs]
	Router *Router
}

// Work implements river.Worker.
func (w *WaitingWorker) Work(ctx context.Context, _ *river.Job[WaitingArgs]) error {
	_, sweepErr := w.Router.SweepStreams(ctx)
	_, err := w.Router.AssignWaitingEverywhere(ctx)
	if err == nil {
		err = sweepErr
	}
	return err
}

// SweepStreams records, by the router's clock, the employees whose
// notification streams have all gone (notify.SweepStreams): leases ended
// or expired are removed. Run with the waiting line every minute, so a
// closed stream counts within a minute, a dead replica's within its lease
// and a minute more.
func (r *Router) SweepStreams(ctx context.Context) (int, error) {
	return notify.SweepStreams(ctx, r.st, r.clock())
}

// WaitingPeriodic is the periodic job of the waiting line.
func WaitingPeriodic() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(WaitingInterval),
		func() (river.JobArgs, *river.InsertOpts) { return WaitingArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}

// AssignWaitingEverywhere hands out the waiting clients of every account
// that has some (AssignWaitingAll per account). The first error is
// returned after every account was tried.
func (r *Router) AssignWaitingEverywhere(ctx context.Context) (int, error) {
	accounts, err := r.st.Ent.Chat.Query().Where(chat.WaitingSinceNotNil()).Unique(true).
		Select(chat.FieldAccountID).Ints(tenant.System(ctx))
	if err != nil {
		return 0, err
	}
	total := 0
	var first error
	for _, a := range accounts {
		n, err := r.AssignWaitingAll(tenant.NewContext(ctx, int64(a)))
		total += n
		if err != nil && first == nil {
			first = fmt.Errorf("account %d: %w", a, err)
		}
	}
	return total, first
}
