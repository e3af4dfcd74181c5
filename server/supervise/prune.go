package supervise

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/assignmentevent"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// DefaultHistoryRetention is how long the assignment history is kept
// unless configured otherwise.
const DefaultHistoryRetention = 365 * 24 * time.Hour

// PruneHistoryArgs is the job that deletes history entries older than the
// retention (every account), run every hour by the outbox's leader.
type PruneHistoryArgs struct{}

// Kind implements river.JobArgs.
func (PruneHistoryArgs) Kind() string { return "assignment_history_prune" }

type pruneWorker struct {
	river.WorkerDefaults[PruneHistoryArgs]
	c         *ent.Client
	retention time.Duration
}

func (w *pruneWorker) Work(ctx context.Context, _ *river.Job[PruneHistoryArgs]) error {
	_, err := PruneHistory(tenant.System(ctx), w.c, time.Now().Add(-w.retention))
	return err
}

// PruneHistory deletes the entries of every account written before
// cutoff; ctx must have system scope.
func PruneHistory(ctx context.Context, c *ent.Client, cutoff time.Time) (int, error) {
	return c.AssignmentEvent.Delete().Where(assignmentevent.CreatedAtLT(cutoff)).Exec(ctx)
}

// Register adds the history's pruning worker (retention 0: the default;
// negative: history is kept forever and nothing is registered).
func Register(ws *river.Workers, c *ent.Client, retention time.Duration) {
	if retention == 0 {
		retention = DefaultHistoryRetention
	}
	if retention > 0 {
		river.AddWorker(ws, &pruneWorker{c: c, retention: retention})
	}
}

// Periodic is the history's pruning, hourly, exactly once across
// replicas (River's leader inserts it).
func Periodic(retention time.Duration) []*river.PeriodicJob {
	if retention < 0 {
		return nil
	}
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return PruneHistoryArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})}
}
