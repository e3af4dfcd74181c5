package notify

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/server/bus"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// Options tune a Hub.
type Options struct {
	// Heartbeat is how often an idle stream gets a heartbeat (default 15s).
	Heartbeat time.Duration
	// Buffer is how many decisions wait for one slow subscriber before it
	// is cut off the live feed and catches up from the store (default 64).
	Buffer int
	// Poll is how often the log is read with no wake-up at all, in case a
	// wake-up was missed (default 1s).
	Poll time.Duration
	// Retention: decisions older than this are pruned (default 7 days; a
	// negative value keeps them forever).
	Retention time.Duration
	// PruneEvery is how often pruning runs (default 10 minutes).
	PruneEvery time.Duration
	// StreamLease is how long an employee stream's lease lasts without a
	// renewal (default 90s); StreamRenew how often an open stream renews
	// it (default 30s). See streams.go.
	StreamLease, StreamRenew time.Duration
}

func (o *Options) defaults() {
	if o.Heartbeat <= 0 {
		o.Heartbeat = 15 * time.Second
	}
	if o.Buffer <= 0 {
		o.Buffer = 64
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Retention == 0 {
		o.Retention = 7 * 24 * time.Hour
	}
	if o.PruneEvery <= 0 {
		o.PruneEvery = 10 * time.Minute
	}
	if o.StreamLease <= 0 {
		o.StreamLease = LeaseTTL
	}
	if o.StreamRenew <= 0 {
		o.StreamRenew = LeaseRenew
	}
}

// Hub fans the decision log out to the live subscribers of one server
// replica. One tailer reads every new decision once, in log order, and hands
// it to the subscribers of its audience without ever blocking: the store is
// the truth, the live feed only a shortcut. A subscriber that falls behind is
// cut off and catches up from the store; a missed wake-up costs latency,
// never a decision.
type Hub struct {
	st   *store.Store
	log  *slog.Logger
	opts Options

	ctx     context.Context // system scope; ends with Close
	wake    chan struct{}
	pending atomic.Int64 // newest txid known committed (PostgreSQL)
	tailed  atomic.Int64 // decisions the tailer has read, for tests
	closed  chan struct{}
	stop    context.CancelFunc
	wg      sync.WaitGroup
	bus     *bus.Bus

	mu   sync.Mutex
	subs map[Audience]map[*subscriber]struct{}
	n    int
	// head is where the tailer stands; while nobody subscribes the tailer
	// rests and head is set again when the first subscriber joins.
	head Cursor
}

type subscriber struct {
	aud  Audience
	feed chan *ent.Notification
	// cut is closed when the subscriber fell behind and left the feed.
	cut     chan struct{}
	cutOnce sync.Once
}

// NewHub starts a hub over the store: its tailer and its pruner. Other
// replicas' commits ring through the bus.
func NewHub(st *store.Store, log *slog.Logger, b *bus.Bus, opts Options) *Hub {
	opts.defaults()
	ctx, stop := context.WithCancel(tenant.System(context.Background()))
	h := &Hub{st: st, log: log, opts: opts, ctx: ctx, wake: make(chan struct{}, 1), closed: make(chan struct{}),
		stop: stop, subs: map[Audience]map[*subscriber]struct{}{}, bus: b}
	b.Handle(bus.Log, func(p string) {
		txid, _ := strconv.ParseInt(p, 10, 64)
		h.remoteCommit(txid)
	})
	b.OnReconnect(h.poke) // catch up on whatever was missed meanwhile
	h.goRun(func() { h.tail(ctx) })
	if opts.Retention > 0 {
		h.goRun(func() { h.prune(ctx) })
	}
	return h
}

func (h *Hub) goRun(f func()) {
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		f()
	}()
}

// Close ends every stream cleanly (their clients reconnect elsewhere) and
// stops the hub.
func (h *Hub) Close() {
	select {
	case <-h.closed:
		return
	default:
	}
	close(h.closed)
	h.stop()
	h.wg.Wait()
}

// Closed is closed when the hub shuts down.
func (h *Hub) Closed() <-chan struct{} { return h.closed }

// Committed tells the hub that a transaction of this replica stored
// decisions (txid is its id on PostgreSQL, 0 on SQLite).
func (h *Hub) Committed(accountID, txid int64) {
	h.remoteCommit(txid)
	h.bus.Publish(bus.Log, strconv.FormatInt(txid, 10))
}

// remoteCommit wakes the tailer for a commit of any replica.
func (h *Hub) remoteCommit(txid int64) {
	for {
		p := h.pending.Load()
		if txid <= p || h.pending.CompareAndSwap(p, txid) {
			break
		}
	}
	h.poke()
}

func (h *Hub) poke() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

const tailBatch = 1000

// tail reads the log after its head and dispatches it, for as long as
// anybody subscribes on this replica.
func (h *Hub) tail(ctx context.Context) {
	poll := time.NewTicker(h.opts.Poll)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.wake:
		case <-poll.C:
		}
		h.mu.Lock()
		head, active := h.head, h.n > 0
		h.mu.Unlock()
		if active {
			head = h.drain(ctx, head)
			h.mu.Lock()
			if h.head.Less(head) {
				h.head = head
			}
			h.mu.Unlock()
		}
	}
}

// drain dispatches everything settled after head. When a commit it was told
// about is not settled yet (an older transaction still runs), it retries
// shortly, backing off, for a few seconds at most.
func (h *Hub) drain(ctx context.Context, head Cursor) Cursor {
	backoff := time.Millisecond
	deadline := time.Now().Add(5 * time.Second)
	for {
		rows, err := read(ctx, h.st, head, tailBatch)
		if err != nil {
			if ctx.Err() == nil {
				h.log.Error("notification log: read", "err", err)
			}
			return head
		}
		if len(rows) > 0 {
			h.tailed.Add(int64(len(rows)))
			h.dispatch(rows)
			last := rows[len(rows)-1]
			head = Cursor{Pos: last.Txid, ID: last.ID}
			backoff = time.Millisecond
		}
		if len(rows) == tailBatch {
			continue
		}
		if h.pending.Load() <= head.Pos || time.Now().After(deadline) {
			return head
		}
		select {
		case <-ctx.Done():
			return head
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Millisecond)
	}
}

func (h *Hub) dispatch(rows []*ent.Notification) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range rows {
		aud := Audience{Account: r.AccountID}
		if r.EmployeeID != nil {
			aud.Employee = *r.EmployeeID
		}
		for s := range h.subs[aud] {
			select {
			case s.feed <- r:
			default:
				// Too slow: off the feed; it catches up from the store.
				h.removeLocked(s)
				s.cutOnce.Do(func() { close(s.cut) })
			}
		}
	}
}

// subscribe joins the live feed of an audience: from then on, every
// decision that settles is dispatched to it.
func (h *Hub) subscribe(ctx context.Context, a Audience) (*subscriber, error) {
	select {
	case <-h.closed:
		return nil, errs.New(errs.ErrUnavailable, "the server is shutting down")
	default:
	}
	s := &subscriber{aud: a, feed: make(chan *ent.Notification, h.opts.Buffer), cut: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n == 0 {
		// The tailer was resting: it starts again from the end of the log
		// (every account's, so with the hub's own system context, not the
		// request's) as of now, and looks at once for what settles next.
		// Whatever settled before is in this subscriber's replay, which
		// reads the store after this.
		end, err := head(h.ctx, h.st)
		if err != nil {
			return nil, err
		}
		if h.head.Less(end) {
			h.head = end
		}
		h.poke()
	}
	set := h.subs[a]
	if set == nil {
		set = map[*subscriber]struct{}{}
		h.subs[a] = set
	}
	set[s] = struct{}{}
	h.n++
	return s, nil
}

func (h *Hub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(s)
}

func (h *Hub) removeLocked(s *subscriber) {
	set := h.subs[s.aud]
	if _, ok := set[s]; !ok {
		return
	}
	delete(set, s)
	if len(set) == 0 {
		delete(h.subs, s.aud)
	}
	h.n--
}

// jitter is the wait before an idle stream's next heartbeat: the interval,
// give or take a fifth, so thousands of streams opened together (after a
// replica restart, say) do not beat in step.
func (h *Hub) jitter() time.Duration {
	d := h.opts.Heartbeat
	return d - d/5 + time.Duration(rand.Int64N(int64(d/5)*2+1))
}
