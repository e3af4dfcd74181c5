package outbox_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/outbox"
	"github.com/switchboardhq/switchboard/server/tenant"
	"github.com/switchboardhq/switchboard/server/testenv"
)

func TestRetryAfterIsHonoured(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := setup(t, b)
		f.sink.setReply(func(int) (int, string, bool) { return http.StatusTooManyRequests, "slow down", false })
		o := f.start(f.st, &deliver{})
		before := time.Now()
		id, err := f.enqueue(o, "later", false)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the job to be put off", func() bool {
			j := f.job(id)
			return j.State == rivertype.JobStateScheduled && j.ScheduledAt.After(before.Add(time.Minute))
		})
		j := f.job(id)
		// The handler asked for an hour (the sink's Retry-After): not one
		// moment less, whatever the backoff would have said.
		if j.ScheduledAt.Before(before.Add(time.Hour)) {
			t.Errorf("scheduled at %v, want ≥ %v", j.ScheduledAt, before.Add(time.Hour))
		}
		if n := f.sink.hits[outbox.Key(j)]; n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
		st, err := o.Sync(f.ctx(), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Pending) != 1 || st.Pending[0].ID != id || !st.Pending[0].At.Equal(j.ScheduledAt) {
			t.Errorf("pending %+v, want the job due at %v", st.Pending, j.ScheduledAt)
		}
	})
}

func TestPermanentErrorParksTheJob(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := setup(t, b)
		const refusal = `{"validation-errors":[{"path":"price","detail":"must be a number"}]}`
		f.sink.setReply(func(int) (int, string, bool) { return http.StatusBadRequest, refusal, false })
		o := f.start(f.st, &deliver{})
		id, err := f.enqueue(o, "bad", false)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the job to be parked", func() bool { return f.job(id).State == rivertype.JobStateCancelled })
		time.Sleep(200 * time.Millisecond) // a retry, were there one, would come within the backoff's 50 ms
		j := f.job(id)
		if j.State != rivertype.JobStateCancelled || f.sink.hits[outbox.Key(j)] != 1 {
			t.Fatalf("state %s after %d requests, want cancelled after 1", j.State, f.sink.hits[outbox.Key(j)])
		}

		st, err := o.Sync(f.ctx(), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Failed) != 1 || st.Failed[0].ID != id || !strings.Contains(st.Failed[0].Error, "must be a number") {
			t.Fatalf("failed %+v, want the job with the CRM's message", st.Failed)
		}
		if len(st.Pending) != 0 || !st.LastSuccess.IsZero() {
			t.Errorf("pending %v, last success %v; want none", st.Pending, st.LastSuccess)
		}

		// Another account sees nothing of it and cannot retry it.
		other, _, err := accountsCreate(f, "Other")
		if err != nil {
			t.Fatal(err)
		}
		octx := tenant.NewContext(context.Background(), other)
		if st, err := o.Sync(octx, 10); err != nil || len(st.Failed)+len(st.Pending) != 0 {
			t.Errorf("another account's sync state: %+v, %v", st, err)
		}
		if err := o.Retry(octx, id); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("another account's retry: %v, want not found", err)
		}
		if _, err := o.Sync(context.Background(), 10); !errors.Is(err, tenant.ErrMissing) {
			t.Errorf("sync without an account: %v", err)
		}

		// The CRM is fixed; the operator retries.
		f.sink.setReply(nil)
		if err := o.Retry(f.ctx(), id); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the retried job to complete", func() bool { return f.job(id).State == rivertype.JobStateCompleted })
		if f.sink.effectCount() != 1 {
			t.Errorf("%d effects, want 1", f.sink.effectCount())
		}
		st, err = o.Sync(f.ctx(), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Failed) != 0 || len(st.Pending) != 0 || st.LastSuccess.IsZero() {
			t.Errorf("after the retry: %+v, want nothing failed or pending and a last success", st)
		}
		if err := o.Retry(f.ctx(), id); !errors.Is(err, errs.ErrFailedPrecondition) {
			t.Errorf("retrying a completed job: %v, want a failed precondition", err)
		}
	})
}

func TestTimedOutAttemptIsRetried(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := setup(t, b)
		// The first attempt hangs past the job timeout (a CRM that does not
		// answer); the second goes through.
		var attempts atomic.Int32
		o := f.start(f.st, &deliver{hold: func(ctx context.Context, _ *river.Job[deliverArgs]) error {
			if attempts.Add(1) == 1 {
				<-ctx.Done()
				return ctx.Err()
			}
			return nil
		}}, func(c *outbox.Config) { c.JobTimeout = 200 * time.Millisecond })
		id, err := f.enqueue(o, "slow", false)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the job to complete", func() bool { return f.job(id).State == rivertype.JobStateCompleted })
		j := f.job(id)
		if j.Attempt != 2 || len(j.Errors) != 1 || f.sink.effectCount() != 1 {
			t.Errorf("attempt %d, errors %v, %d effects; want the second attempt after one error, one effect", j.Attempt, j.Errors, f.sink.effectCount())
		}
	})
}
