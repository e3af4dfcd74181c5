package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/server/app"
	"github.com/switchboardhq/switchboard/server/outbox"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

type pingArgs struct{ outbox.Account }

func (pingArgs) Kind() string { return "app_test_ping" }

type ping struct {
	river.WorkerDefaults[pingArgs]
	done chan int64
}

func (p *ping) Work(ctx context.Context, job *river.Job[pingArgs]) error {
	if id, _ := tenant.FromContext(ctx); id == job.Args.AccountID {
		p.done <- id
	}
	return nil
}

// The app starts the outbox with the store: a job enqueued in a store
// transaction is worked by the registered workers.
func TestAppWorksTheOutbox(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		w := &ping{done: make(chan int64, 1)}
		env := New(t, b, Options{Configure: func(o *app.Options) {
			o.Outbox.Register = func(ws *river.Workers) { river.AddWorker(ws, w) }
			o.Outbox.PollInterval = 50 * time.Millisecond
		}})
		ctx := tenant.NewContext(context.Background(), env.AccountID)
		err := env.Store.Tx(ctx, func(tx *ent.Tx) error {
			_, err := env.Server.App.Outbox().Enqueue(ctx, tx, pingArgs{outbox.Account{AccountID: env.AccountID}}, nil)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case id := <-w.done:
			if id != env.AccountID {
				t.Errorf("worked for account %d, want %d", id, env.AccountID)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the job was not worked")
		}
	})
}
