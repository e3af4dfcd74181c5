package crmsync

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/outbox"
)

// NewClientArgs is the outbox job that creates a new client's contact and
// deal in the CRM (Syncer.NewClient).
type NewClientArgs struct {
	outbox.Account
	DealID int64 `json:"deal_id"`
}

// Kind implements river.JobArgs.
func (NewClientArgs) Kind() string { return "crm_new_client" }

// ResponsibleArgs is the outbox job that tells the CRM a client's
// responsible (Syncer.Responsible).
type ResponsibleArgs struct {
	outbox.Account
	ContactID int64 `json:"contact_id"`
}

// Kind implements river.JobArgs.
func (ResponsibleArgs) Kind() string { return "crm_responsible" }

// Workers runs the jobs with Syncer, which is set before the outbox
// starts (the syncer needs the router, which needs the outbox).
type Workers struct {
	Syncer *Syncer
}

// Register adds the CRM job workers to ws.
func Register(ws *river.Workers, w *Workers) {
	river.AddWorker(ws, &newClientWorker{w: w})
	river.AddWorker(ws, &responsibleWorker{w: w})
	river.AddWorker(ws, &flushWorker{w: w})
	river.AddWorker(ws, &chatLogWorker{w: w})
	river.AddWorker(ws, &subscriptionsWorker{w: w})
}

type newClientWorker struct {
	river.WorkerDefaults[NewClientArgs]
	w *Workers
}

func (k *newClientWorker) Work(ctx context.Context, job *river.Job[NewClientArgs]) error {
	err := k.w.Syncer.NewClient(ctx, job.Args.DealID, triedBefore(job.JobRow))
	if errors.Is(err, ErrBusy) {
		return outbox.RetryAfter(time.Second, err)
	}
	return outcome(err)
}

// triedBefore reports whether a job ran before: an attempt that failed,
// or one the CRM rate-limited, which the outbox snoozes without counting
// it as an attempt. Either may have left part of its writes in the CRM (a
// contact made before its deal was refused).
func triedBefore(job *rivertype.JobRow) bool {
	if job.Attempt > 1 {
		return true
	}
	var meta struct {
		Snoozes int `json:"snoozes"`
	}
	return json.Unmarshal(job.Metadata, &meta) == nil && meta.Snoozes > 0
}

type responsibleWorker struct {
	river.WorkerDefaults[ResponsibleArgs]
	w *Workers
}

func (k *responsibleWorker) Work(ctx context.Context, job *river.Job[ResponsibleArgs]) error {
	return outcome(k.w.Syncer.Responsible(ctx, job.Args.ContactID))
}

// outcome tells the outbox what a step's error means: the CRM's refusal
// of the request, a refused token, or no usable connection are parked as
// failed with their message (an admin fixes the cause and retries); a rate
// limit waits as long as the CRM asked; anything else is retried with
// backoff.
func outcome(err error) error {
	switch {
	case err == nil:
		return nil
	case crm.Permanent(err), errors.Is(err, crm.ErrUnauthorized), errors.Is(err, errs.ErrFailedPrecondition):
		return outbox.Permanent(err)
	case crm.RetryAfter(err) > 0:
		return outbox.RetryAfter(crm.RetryAfter(err), err)
	}
	return err
}

// Enqueuer puts the CRM's side of routing decisions into the outbox, in
// the decisions' transactions.
type Enqueuer struct {
	Out *outbox.Outbox
}

func queueOf(kind string) string { return outbox.QueueFor(crm.Kind(kind)) }

// NewClient enqueues creating a new client's deal (and contact) in the
// account's CRM of kind.
func (e Enqueuer) NewClient(ctx context.Context, tx *ent.Tx, kind string, accountID, dealID int64) error {
	_, err := e.Out.Enqueue(ctx, tx, NewClientArgs{Account: outbox.Account{AccountID: accountID}, DealID: dealID},
		&river.InsertOpts{Queue: queueOf(kind)})
	return err
}

// Responsible enqueues telling the account's CRM of kind a client's
// responsible.
func (e Enqueuer) Responsible(ctx context.Context, tx *ent.Tx, kind string, accountID, contactID int64) error {
	_, err := e.Out.Enqueue(ctx, tx, ResponsibleArgs{Account: outbox.Account{AccountID: accountID}, ContactID: contactID},
		&river.InsertOpts{Queue: queueOf(kind)})
	return err
}
