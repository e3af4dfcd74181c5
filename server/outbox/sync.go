package outbox

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// Item is one job as the sync state shows it.
type Item struct {
	ID      int64
	Kind    string
	Queue   string
	Attempt int
	// Error is the last attempt's error: for a failed item, the CRM's
	// message.
	Error string
	// At is when a pending item is due (or started running), or when a
	// failed one was parked.
	At time.Time
}

// SyncState is an account's writes to its CRM.
type SyncState struct {
	Pending []Item // not yet written: waiting, running or between retries
	Failed  []Item // parked: refused by the CRM, or out of attempts
	// LastSuccess is when the last write went through (zero if none is
	// remembered: completed jobs are kept for a week).
	LastSuccess time.Time
}

var (
	pendingStates = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStateScheduled,
		rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStatePending}
	failedStates = []rivertype.JobState{rivertype.JobStateCancelled, rivertype.JobStateDiscarded}
)

// accountWhere selects the jobs of one account (both stores read
// metadata ->> 'account' as text).
func accountWhere(p *river.JobListParams, account int64) *river.JobListParams {
	return p.Where("metadata ->> 'account' = @account", river.NamedArgs{"account": strconv.FormatInt(account, 10)})
}

// Sync returns the sync state of the context's account: up to limit
// pending and limit failed items (oldest first), and the last success.
func (o *Outbox) Sync(ctx context.Context, limit int) (SyncState, error) {
	account, ok := tenant.FromContext(ctx)
	if !ok {
		return SyncState{}, tenant.ErrMissing
	}
	if limit <= 0 {
		limit = 100
	}
	var s SyncState
	var err error
	if s.Pending, err = o.list(ctx, account, pendingStates, limit); err != nil {
		return SyncState{}, err
	}
	if s.Failed, err = o.list(ctx, account, failedStates, limit); err != nil {
		return SyncState{}, err
	}
	res, err := o.river.JobList(ctx, accountWhere(river.NewJobListParams(), account).
		States(rivertype.JobStateCompleted).OrderBy(river.JobListOrderByFinalizedAt, river.SortOrderDesc).First(1))
	if err != nil {
		return SyncState{}, err
	}
	if len(res.Jobs) > 0 && res.Jobs[0].FinalizedAt != nil {
		s.LastSuccess = *res.Jobs[0].FinalizedAt
	}
	return s, nil
}

func (o *Outbox) list(ctx context.Context, account int64, states []rivertype.JobState, limit int) ([]Item, error) {
	res, err := o.river.JobList(ctx, accountWhere(river.NewJobListParams(), account).States(states...).
		OrderBy(river.JobListOrderByID, river.SortOrderAsc).First(limit))
	if err != nil {
		return nil, err
	}
	items := make([]Item, 0, len(res.Jobs))
	for _, j := range res.Jobs {
		it := Item{ID: j.ID, Kind: j.Kind, Queue: j.Queue, Attempt: j.Attempt, At: j.ScheduledAt}
		if len(j.Errors) > 0 {
			// River names how a parked job was parked; the API shows the
			// CRM's message alone.
			it.Error = strings.TrimPrefix(j.Errors[len(j.Errors)-1].Error, "JobCancelError: ")
		}
		if j.State == rivertype.JobStateRunning && j.AttemptedAt != nil {
			it.At = *j.AttemptedAt
		}
		if j.FinalizedAt != nil {
			it.At = *j.FinalizedAt
		}
		items = append(items, it)
	}
	return items, nil
}

// Retry makes a failed job of the context's account pending again, to be
// worked at once with its attempts so far. Another account's job, or none,
// is NotFound; a job that has not failed is a failed precondition.
func (o *Outbox) Retry(ctx context.Context, jobID int64) error {
	account, ok := tenant.FromContext(ctx)
	if !ok {
		return tenant.ErrMissing
	}
	job, err := o.river.JobGet(ctx, jobID)
	if errors.Is(err, river.ErrNotFound) || (err == nil && AccountOf(job) != account) {
		return errs.NotFound("outbox job", jobID)
	}
	if err != nil {
		return err
	}
	if job.State != rivertype.JobStateCancelled && job.State != rivertype.JobStateDiscarded {
		return errs.Precondition("outbox job %d has not failed", jobID)
	}
	_, err = o.river.JobRetry(ctx, jobID)
	return err
}
