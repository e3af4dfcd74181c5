package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/switchboardhq/switchboard/server/crm"
	_ "github.com/switchboardhq/switchboard/server/crm/amocrm" // registers amoCRM and its limit
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/server/accounts"
	"github.com/switchboardhq/switchboard/server/outbox"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/tenant"
	"github.com/switchboardhq/switchboard/server/testenv"
)

// sink is an idempotent fake CRM endpoint: it records each key's effect
// once however often the key arrives, and can be told to fail.
type sink struct {
	srv *httptest.Server

	mu       sync.Mutex
	hits     map[string]int                  // requests per key
	effects  map[string]int                  // effects per key (1 once recorded)
	arrivals []time.Time                     // every request's arrival
	byServer map[string]int                  // requests per replica (X-Replica)
	reply    func(n int) (int, string, bool) // status, body, record before answering
	n        int
}

func newSink(t *testing.T) *sink {
	s := &sink{hits: map[string]int{}, effects: map[string]int{}, byServer: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sink) serve(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	s.mu.Lock()
	s.n++
	s.hits[key]++
	s.arrivals = append(s.arrivals, time.Now())
	s.byServer[r.Header.Get("X-Replica")]++
	status, body, record := http.StatusOK, "ok", true
	if s.reply != nil {
		status, body, record = s.reply(s.n)
	}
	if record && s.effects[key] == 0 {
		s.effects[key] = 1
	}
	s.mu.Unlock()
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "3600")
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func (s *sink) setReply(f func(n int) (int, string, bool)) {
	s.mu.Lock()
	s.reply = f
	s.mu.Unlock()
}

func (s *sink) effectCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.effects)
}

// deliverArgs is a CRM write for the tests.
type deliverArgs struct {
	outbox.Account
	Note string `json:"note"`
}

func (deliverArgs) Kind() string { return "test_deliver" }

func (deliverArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: "test"} }

// deliver writes a job to the sink, keyed by the job's idempotency key,
// mapping the sink's answers as a CRM connector would.
type deliver struct {
	river.WorkerDefaults[deliverArgs]
	url     string
	replica string
	// hold, when set, runs before the request (to stop a replica mid-job).
	hold func(ctx context.Context, job *river.Job[deliverArgs]) error
	// paced requests wait for the account's amoCRM limiter first.
	paced bool
	limit *outbox.Pacer
}

func (d *deliver) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	if _, ok := tenant.FromContext(ctx); !ok {
		return errors.New("the job's context has no account")
	}
	if d.hold != nil {
		if err := d.hold(ctx, job); err != nil {
			return err
		}
	}
	if d.limit != nil {
		if err := d.limit.Limiter("amocrm", job.Args.AccountID, amoCRMLimit).Wait(ctx); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, strings.NewReader(job.Args.Note))
	if err != nil {
		return err
	}
	req.Header.Set("Idempotency-Key", outbox.Key(job.JobRow))
	req.Header.Set("X-Replica", d.replica)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	switch {
	case resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests:
		return outbox.RetryAfter(time.Hour, fmt.Errorf("crm: %d", resp.StatusCode))
	case resp.StatusCode == http.StatusBadRequest:
		return outbox.Permanent(fmt.Errorf("crm: %s", body))
	default:
		return fmt.Errorf("crm: %d %s", resp.StatusCode, body)
	}
}

type fixture struct {
	t       *testing.T
	backend string
	url     string
	st      *store.Store
	account int64
	sink    *sink
}

func setup(t *testing.T, b testenv.Backend) *fixture {
	url := b.NewURL(t)
	st := testenv.OpenStore(t, url)
	acct, _, err := accounts.Create(context.Background(), st, "Acme", "")
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, backend: b.Name, url: url, st: st, account: acct.ID, sink: newSink(t)}
}

// start starts an outbox on st working the test queue with w.
func (f *fixture) start(st *store.Store, w *deliver, tune ...func(*outbox.Config)) *outbox.Outbox {
	f.t.Helper()
	if w.url == "" {
		w.url = f.sink.srv.URL
	}
	cfg := outbox.Config{
		Workers:      8,
		Queues:       []string{"test"},
		Register:     func(ws *river.Workers) { river.AddWorker(ws, w) },
		PollInterval: 50 * time.Millisecond,
		JobTimeout:   10 * time.Second,
		Retry:        outbox.Backoff{Initial: 50 * time.Millisecond, Max: 400 * time.Millisecond},
		Logger:       testenv.Logger(),
	}
	for _, fn := range tune {
		fn(&cfg)
	}
	o, err := outbox.New(st, cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	if w.paced {
		w.limit = o.Pacer()
	}
	if err := o.Start(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = o.Stop(ctx)
	})
	return o
}

// ctx is the account's context.
func (f *fixture) ctx() context.Context { return tenant.NewContext(context.Background(), f.account) }

// enqueue enqueues one job in a routing-like transaction (reads under the
// account, then the job); fail rolls the transaction back after the insert.
func (f *fixture) enqueue(o *outbox.Outbox, note string, fail bool) (int64, error) {
	var id int64
	err := f.st.Tx(f.ctx(), func(tx *ent.Tx) error {
		if _, err := tx.Account.Get(f.ctx(), f.account); err != nil {
			return err
		}
		var err error
		id, err = o.Enqueue(f.ctx(), tx, deliverArgs{Account: outbox.Account{AccountID: f.account}, Note: note}, nil)
		if err != nil {
			return err
		}
		if fail {
			return errRollback
		}
		return nil
	})
	return id, err
}

var errRollback = errors.New("the decision failed")

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// job reads a job by id (through a client that works nothing).
func (f *fixture) job(id int64) *rivertype.JobRow {
	f.t.Helper()
	c, err := river.NewClient(f.st.River(), &river.Config{})
	if err != nil {
		f.t.Fatal(err)
	}
	j, err := c.JobGet(context.Background(), id)
	if err != nil {
		f.t.Fatalf("job %d: %v", id, err)
	}
	return j
}

func TestEnqueueInTransaction(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := setup(t, b)
		o := f.start(f.st, &deliver{})

		rolled, err := f.enqueue(o, "rolled back", true)
		if !errors.Is(err, errRollback) || rolled == 0 {
			t.Fatalf("rolled back: id %d, err %v", rolled, err)
		}
		kept, err := f.enqueue(o, "kept", false)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the committed job's effect", func() bool { return f.sink.effectCount() == 1 })
		if f.sink.hits[outbox.Key(f.job(kept))] != 1 {
			t.Errorf("sink hits %v, want the committed job once", f.sink.hits)
		}
		waitFor(t, 5*time.Second, "completion", func() bool { return f.job(kept).State == rivertype.JobStateCompleted })
		// Only the committed job exists (on SQLite the rolled-back one's id
		// may be taken again by the next).
		c, _ := river.NewClient(f.st.River(), &river.Config{})
		res, err := c.JobList(context.Background(), river.NewJobListParams().States(
			rivertype.JobStateAvailable, rivertype.JobStateCompleted, rivertype.JobStateRunning, rivertype.JobStateScheduled,
			rivertype.JobStateRetryable, rivertype.JobStateCancelled, rivertype.JobStateDiscarded, rivertype.JobStatePending))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Jobs) != 1 || res.Jobs[0].ID != kept || !strings.Contains(string(res.Jobs[0].EncodedArgs), `"kept"`) {
			t.Errorf("jobs after a rollback and a commit: %d, want only the committed one", len(res.Jobs))
		}

		// Outside store.Tx there is no transaction to join.
		tx, err := f.st.Ent.Tx(f.ctx())
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback() //nolint:errcheck
		if _, err := o.Enqueue(f.ctx(), tx, deliverArgs{Account: outbox.Account{AccountID: f.account}}, nil); !errors.Is(err, outbox.ErrNoTx) {
			t.Errorf("enqueue outside store.Tx: %v, want ErrNoTx", err)
		}
	})
}

func accountsCreate(f *fixture, name string) (int64, string, error) {
	a, key, err := accounts.Create(context.Background(), f.st, name, "")
	if err != nil {
		return 0, "", err
	}
	return a.ID, key, nil
}

// amoCRMLimit is the limit amoCRM's connector registered.
var amoCRMLimit = func() outbox.Limit {
	l, ok := outbox.LimitOf(crm.AmoCRM)
	if !ok {
		panic("amoCRM registered no limit")
	}
	return l
}()
