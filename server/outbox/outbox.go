package outbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// QueueDefault is the queue of jobs that call no CRM.
const QueueDefault = river.QueueDefault

// QueueFor is the queue of the jobs that call a CRM of kind: one per CRM
// with a connector, so a CRM that is down or slow does not hold back
// writes to another.
func QueueFor(kind crm.Kind) string {
	if !crm.Supported(kind) {
		return QueueDefault
	}
	return strings.ToLower(string(kind))
}

// Queues lists every CRM's queue and the default queue.
func Queues() []string {
	out := []string{QueueDefault}
	for _, k := range crm.Kinds() {
		out = append(out, QueueFor(k))
	}
	return out
}

// Config tunes the workers.
type Config struct {
	// Workers is how many jobs of each queue a replica works at once
	// (default 4).
	Workers int
	// Periodic are jobs inserted on a schedule, by one replica at a time
	// (their workers must be registered).
	Periodic []*river.PeriodicJob
	// Queues are the queues this replica works (default: every CRM's and
	// the default queue).
	Queues []string
	// Register adds the job workers (river.AddWorker). Without any, the
	// outbox only enqueues.
	Register func(*river.Workers)
	// PollInterval is how often a replica looks for jobs that became
	// available without it hearing of them: inserted elsewhere, or due for
	// a retry (default 1 s).
	PollInterval time.Duration
	// JobTimeout bounds one attempt; a timed-out attempt is retried
	// (default 1 min).
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before it is taken as
	// lost with its replica and run again (default 10 min; more than
	// JobTimeout).
	RescueAfter time.Duration
	// Retry is the backoff between failed attempts.
	Retry Backoff
	// MaxAttempts before a failing job is parked as failed (default 100:
	// about four days of retries with the default backoff).
	MaxAttempts int
	// Logger; default slog.Default().
	Logger *slog.Logger
}

// Outbox enqueues jobs and, once started, works them.
type Outbox struct {
	st      *store.Store
	river   *river.Client[*sql.Tx]
	pacer   *Pacer
	working bool
	log     *slog.Logger
}

// New prepares the outbox of st; Start starts its workers.
func New(st *store.Store, cfg Config) (*Outbox, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if len(cfg.Queues) == 0 {
		cfg.Queues = Queues()
	}
	if cfg.JobTimeout <= 0 {
		cfg.JobTimeout = time.Minute
	}
	if cfg.RescueAfter <= cfg.JobTimeout {
		cfg.RescueAfter = max(10*time.Minute, 2*cfg.JobTimeout)
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 100
	}
	rc := &river.Config{
		Logger:                      cfg.Logger.With("component", "outbox"),
		JobTimeout:                  cfg.JobTimeout,
		RescueStuckJobsAfter:        cfg.RescueAfter,
		MaxAttempts:                 cfg.MaxAttempts,
		RetryPolicy:                 cfg.Retry.withDefaults(),
		FetchPollInterval:           cfg.PollInterval,
		FetchCooldown:               min(100*time.Millisecond, cfg.PollInterval),
		WorkerMiddleware:            []rivertype.WorkerMiddleware{&outcomes{log: cfg.Logger.With("component", "outbox")}},
		CancelledJobRetentionPeriod: -1, // a parked write stays until retried
		DiscardedJobRetentionPeriod: -1,
		CompletedJobRetentionPeriod: 7 * 24 * time.Hour,
		// Every replica polls; none listens. PostgreSQL's LISTEN needs a
		// pgx pool of its own, and SQLite's listener polls a table every
		// 50 ms on the single connection.
		PollOnly: true,
	}
	o := &Outbox{st: st, log: cfg.Logger}
	rc.PeriodicJobs = cfg.Periodic
	if cfg.Register != nil {
		workers := river.NewWorkers()
		cfg.Register(workers)
		rc.Workers = workers
		rc.Queues = map[string]river.QueueConfig{}
		for _, q := range cfg.Queues {
			rc.Queues[q] = river.QueueConfig{MaxWorkers: cfg.Workers}
		}
		o.working = true
	}
	c, err := river.NewClient(st.River(), rc)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	o.river = c
	o.pacer = newPacer(st)
	return o, nil
}

// Start starts working jobs (nothing when no worker is registered).
func (o *Outbox) Start(ctx context.Context) error {
	if !o.working {
		return nil
	}
	return o.river.Start(context.WithoutCancel(ctx))
}

// Stop stops fetching jobs and waits for the running ones to finish, or
// until ctx ends; then it cancels them (their attempts fail and are
// retried by another replica or the next start).
func (o *Outbox) Stop(ctx context.Context) error {
	if !o.working {
		return nil
	}
	err := o.river.Stop(ctx)
	if ctx.Err() != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return o.river.StopAndCancel(sctx)
	}
	return err
}

// Kill cancels the running jobs at once and stops, as a replica going
// down mid-work would.
func (o *Outbox) Kill(ctx context.Context) error {
	if !o.working {
		return nil
	}
	return o.river.StopAndCancel(ctx)
}

// Events streams what becomes of the attempts this replica works (done,
// failed and to be retried or parked, cancelled, put off), for metrics;
// stop ends the stream. A replica that works no jobs has none (nil).
// Events a slow reader misses are dropped.
func (o *Outbox) Events() (events <-chan *river.Event, stop func()) {
	if !o.working {
		return nil, func() {}
	}
	return o.river.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed,
		river.EventKindJobCancelled, river.EventKindJobSnoozed)
}

// Pacer paces requests to the CRMs (see Pacer).
func (o *Outbox) Pacer() *Pacer { return o.pacer }

// Args are an outbox job's arguments: River job arguments that name the
// account the job writes for. Embed Account to get the method.
type Args interface {
	river.JobArgs
	OutboxAccount() int64
}

// Account is embedded in job arguments to carry the account.
type Account struct {
	AccountID int64 `json:"account_id"`
}

// OutboxAccount implements Args.
func (a Account) OutboxAccount() int64 { return a.AccountID }

// metaAccount is the job metadata key holding the account (as a string, so
// that one SQL expression reads it on both stores: metadata ->> 'account').
const metaAccount = "account"

// ErrNoTx means Enqueue was given a transaction that store.Tx did not
// begin.
var ErrNoTx = errors.New("outbox: enqueue needs a transaction of store.Tx")

// Enqueue inserts a job in tx, a transaction of store.Tx: the job exists
// if and only if tx commits, and is worked after it has. opts may be nil.
// It returns the job's id, which is also its idempotency key (Key).
func (o *Outbox) Enqueue(ctx context.Context, tx *ent.Tx, args Args, opts *river.InsertOpts) (int64, error) {
	raw, ok := o.st.SQLTx(tx)
	if !ok {
		return 0, ErrNoTx
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	account := args.OutboxAccount()
	if account <= 0 {
		return 0, errors.New("outbox: a job needs its account")
	}
	// River merges opts with the arguments' own options field by field;
	// the metadata, which Enqueue sets, starts from whichever has some.
	var o2 river.InsertOpts
	if opts != nil {
		o2 = *opts
	}
	if wo, ok := args.(river.JobArgsWithInsertOpts); ok && len(o2.Metadata) == 0 {
		o2.Metadata = wo.InsertOpts().Metadata
	}
	meta := map[string]any{}
	if len(o2.Metadata) > 0 {
		if err := json.Unmarshal(o2.Metadata, &meta); err != nil {
			return 0, fmt.Errorf("outbox: metadata: %w", err)
		}
	}
	meta[metaAccount] = strconv.FormatInt(account, 10)
	b, err := json.Marshal(meta)
	if err != nil {
		return 0, err
	}
	o2.Metadata = b
	// Not cancelled midway: on SQLite the transaction is shared by a
	// commit group, and an interrupted write would roll back all of it.
	res, err := o.river.InsertTx(context.WithoutCancel(ctx), raw, args, &o2)
	if err != nil {
		return 0, fmt.Errorf("outbox: enqueue %s: %w", args.Kind(), err)
	}
	return res.Job.ID, nil
}

// Key is a job's idempotency key for the CRM (amoCRM's request_id, a
// marker in a Bitrix24 comment): the same on every attempt of the job, and
// never another job's (an id alone is not: SQLite may give a rolled-back
// or deleted job's id again, so the key adds the creation time).
func Key(job *rivertype.JobRow) string {
	return "sbo-" + strconv.FormatInt(job.ID, 10) + "-" + strconv.FormatInt(job.CreatedAt.UnixMilli(), 36)
}

// AccountOf returns the account a job writes for (0 when it has none).
func AccountOf(job *rivertype.JobRow) int64 {
	var meta map[string]any
	if json.Unmarshal(job.Metadata, &meta) != nil {
		return 0
	}
	s, _ := meta[metaAccount].(string)
	id, _ := strconv.ParseInt(s, 10, 64)
	return id
}

// outcomes scopes a job's context to its account and turns the handlers'
// errors into River's outcomes: RetryAfter snoozes the job for the time
// the CRM asked, Permanent parks it as failed (cancelled) with its message.
type outcomes struct {
	river.MiddlewareDefaults
	log *slog.Logger
}

func (m *outcomes) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	if id := AccountOf(job); id > 0 {
		ctx = tenant.NewContext(ctx, id)
	}
	err := doInner(ctx)
	if err == nil {
		return nil
	}
	var ra *retryAfterError
	if errors.As(err, &ra) {
		// A snooze records no error on the job; the log keeps the CRM's.
		m.log.InfoContext(ctx, "outbox: the CRM asked to retry later", "job", job.ID, "kind", job.Kind,
			"after", ra.after, "err", ra.err)
		return river.JobSnooze(ra.after)
	}
	var pe *permanentError
	if errors.As(err, &pe) {
		return river.JobCancel(err)
	}
	return err
}
