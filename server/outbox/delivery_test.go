package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/switchboardhq/switchboard/server/outbox"
	"github.com/switchboardhq/switchboard/server/testenv"
)

// enqueueMany commits n jobs from g goroutines, each in its own
// routing-like transaction; besides, every 7th transaction rolls back after
// its insert. It returns the ids of the committed jobs.
func (f *fixture) enqueueMany(o *outbox.Outbox, n, g int) map[int64]bool {
	f.t.Helper()
	var mu sync.Mutex
	ids := map[int64]bool{}
	var next atomic.Int64
	total := int64(n)
	for total-total/7 < int64(n) {
		total++
	}
	var wg sync.WaitGroup
	errc := make(chan error, g)
	for range g {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > total {
					return
				}
				fail := i%7 == 0
				id, err := f.enqueue(o, fmt.Sprintf("note %d", i), fail)
				if fail {
					if !errors.Is(err, errRollback) {
						errc <- fmt.Errorf("rolled-back transaction %d: %v", i, err)
						return
					}
					continue
				}
				if err != nil {
					errc <- err
					return
				}
				mu.Lock()
				ids[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		f.t.Fatal(err)
	}
	return ids
}

// checkExactlyOnce asserts every committed job completed and had its
// effect once, and nothing else had one.
func (f *fixture) checkExactlyOnce(ids map[int64]bool) {
	f.t.Helper()
	c, _ := river.NewClient(f.st.River(), &river.Config{})
	// A job's completion is recorded a moment after its effect.
	waitFor(f.t, 10*time.Second, "every job completed", func() bool {
		res, err := c.JobList(context.Background(), river.NewJobListParams().States(rivertype.JobStateCompleted).First(10000))
		return err == nil && len(res.Jobs) >= len(ids)
	})
	keys := map[string]bool{}
	for id := range ids {
		j, err := c.JobGet(context.Background(), id)
		if err != nil {
			f.t.Fatalf("job %d lost: %v", id, err)
		}
		if j.State != rivertype.JobStateCompleted {
			f.t.Errorf("job %d: %s, want completed", id, j.State)
		}
		keys[outbox.Key(j)] = true
	}
	f.sink.mu.Lock()
	defer f.sink.mu.Unlock()
	for k := range keys {
		if f.sink.hits[k] < 1 || f.sink.effects[k] != 1 {
			f.t.Errorf("key %s: %d requests, %d effects; want ≥ 1 and 1", k, f.sink.hits[k], f.sink.effects[k])
		}
	}
	if len(f.sink.effects) != len(keys) {
		f.t.Errorf("%d effects, want %d (one per committed job, none for a rolled-back one)", len(f.sink.effects), len(keys))
	}
}

func TestExactlyOnceThroughAnOutage(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := setup(t, b)
		// The CRM answers 503 to its first 300 requests, and every 10th
		// request after that is recorded but answered 503 (the write took
		// effect, the answer was lost): the job is retried and the sink
		// must not record it twice.
		f.sink.setReply(func(n int) (int, string, bool) {
			switch {
			case n <= 300:
				return http.StatusServiceUnavailable, "down", false
			case n%10 == 0:
				return http.StatusServiceUnavailable, "lost answer", true
			}
			return http.StatusOK, "ok", true
		})
		o := f.start(f.st, &deliver{})
		g0, m0 := f.st.CommitGroups()
		ids := f.enqueueMany(o, 500, 16)
		if len(ids) != 500 {
			t.Fatalf("%d jobs committed, want 500", len(ids))
		}
		if g1, m1 := f.st.CommitGroups(); b.Name == "sqlite" {
			// The jobs went in with SQLite's group commit at work: members
			// shared transactions, each inside its savepoint.
			t.Logf("%d write transactions in %d SQLite transactions", m1-m0, g1-g0)
			if m1-m0 <= g1-g0 {
				t.Errorf("no commit group had two members (%d in %d)", m1-m0, g1-g0)
			}
		}
		waitFor(t, 40*time.Second, "every job's effect", func() bool { return f.sink.effectCount() >= len(ids) })
		f.checkExactlyOnce(ids)
		f.sink.mu.Lock()
		t.Logf("%d jobs, %d requests", len(ids), f.sink.n)
		f.sink.mu.Unlock()
	})
}

func TestReplicaKilledMidWork(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := setup(t, b)
		// Replica A takes jobs and hangs on them until it is killed.
		var started atomic.Int32
		a := f.start(f.st, &deliver{replica: "a", hold: func(ctx context.Context, _ *river.Job[deliverArgs]) error {
			started.Add(1)
			<-ctx.Done()
			return ctx.Err()
		}})
		ids := f.enqueueMany(a, 40, 4)
		waitFor(t, 10*time.Second, "replica A to be mid-job", func() bool { return started.Load() >= 4 })

		// Replica B: another process on PostgreSQL; on SQLite (one process)
		// the same store after a restart.
		stB := f.st
		if b.Name == "postgres" {
			stB = testenv.OpenStore(t, f.url)
			f.start(stB, &deliver{replica: "b"})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.Kill(ctx); err != nil {
			t.Fatal(err)
		}
		if b.Name != "postgres" {
			f.start(stB, &deliver{replica: "b"})
		}
		waitFor(t, 20*time.Second, "every job's effect", func() bool { return f.sink.effectCount() >= len(ids) })
		f.checkExactlyOnce(ids)
		if n := f.sink.byServer["a"]; n != 0 {
			t.Errorf("killed replica made %d requests", n)
		}
	})
}
