package supervise

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/bus"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// Topic is the bus topic on which a replica says an account's chats
// changed (a message stored, a client changed hands); the payload is the
// account's id.
const Topic = "unanswered"

// WatchOptions tune a Watcher.
type WatchOptions struct {
	// Interval: changes are gathered this long and counted once (default
	// 250ms): at most 1/Interval updates a second per stream.
	Interval time.Duration
	// Poll: the watched accounts are counted again this often anyway,
	// should a change's bus message be lost (default 5s).
	Poll time.Duration
}

// Watcher pushes counters to the streams that watch them. Routing tells it
// (Changed) after each commit that may change them, other replicas through
// the bus; each Interval it counts every changed account once, and hands
// each watcher its employee's counters when they differ from the last it
// got.
type Watcher struct {
	st   *store.Store
	bus  *bus.Bus
	log  *slog.Logger
	opts WatchOptions

	mu       sync.Mutex
	accounts map[int64]*watched

	stop context.CancelFunc
	done chan struct{}
}

type watched struct {
	dirty    bool
	watchers map[*watcher]struct{}
}

type watcher struct {
	employee int64
	ch       chan *pb.UnansweredCounters
	last     *pb.UnansweredCounters // what it got last, without the times that move
}

// NewWatcher starts a watcher over the store, hearing other replicas on b.
func NewWatcher(st *store.Store, b *bus.Bus, log *slog.Logger, opts WatchOptions) *Watcher {
	if opts.Interval <= 0 {
		opts.Interval = 250 * time.Millisecond
	}
	if opts.Poll <= 0 {
		opts.Poll = 5 * time.Second
	}
	ctx, stop := context.WithCancel(context.Background())
	w := &Watcher{st: st, bus: b, log: log, opts: opts, accounts: map[int64]*watched{}, stop: stop, done: make(chan struct{})}
	b.Handle(Topic, func(p string) {
		if id, err := strconv.ParseInt(p, 10, 64); err == nil {
			w.mark(id)
		}
	})
	b.OnReconnect(w.markAll)
	go w.run(ctx)
	return w
}

// Close stops the watcher.
func (w *Watcher) Close() {
	w.stop()
	<-w.done
}

// Changed tells every replica's watcher that the account's chats changed:
// call it after the commit.
func (w *Watcher) Changed(account int64) {
	w.mark(account)
	w.bus.Publish(Topic, strconv.FormatInt(account, 10))
}

// Watch streams one employee's counters: first the current ones, then
// each change. The channel holds the newest only; stop ends the watch.
func (w *Watcher) Watch(account, employee int64) (<-chan *pb.UnansweredCounters, func()) {
	x := &watcher{employee: employee, ch: make(chan *pb.UnansweredCounters, 1)}
	w.mu.Lock()
	a := w.accounts[account]
	if a == nil {
		a = &watched{watchers: map[*watcher]struct{}{}}
		w.accounts[account] = a
	}
	a.watchers[x] = struct{}{}
	a.dirty = true
	w.mu.Unlock()
	return x.ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(a.watchers, x)
		if len(a.watchers) == 0 && w.accounts[account] == a {
			delete(w.accounts, account)
		}
	}
}

func (w *Watcher) mark(account int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if a := w.accounts[account]; a != nil {
		a.dirty = true
	}
}

func (w *Watcher) markAll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, a := range w.accounts {
		a.dirty = true
	}
}

func (w *Watcher) run(ctx context.Context) {
	defer close(w.done)
	tick := time.NewTicker(w.opts.Interval)
	defer tick.Stop()
	poll := time.NewTicker(w.opts.Poll)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
			w.markAll()
		case <-tick.C:
			w.countDirty(ctx)
		}
	}
}

// countDirty counts each changed account once and hands out the changes.
func (w *Watcher) countDirty(ctx context.Context) {
	w.mu.Lock()
	var due []int64
	for id, a := range w.accounts {
		if a.dirty {
			a.dirty = false
			due = append(due, id)
		}
	}
	w.mu.Unlock()
	for _, id := range due {
		rows, err := load(tenant.NewContext(ctx, id), w.st.Ent, 0)
		if err != nil {
			if ctx.Err() == nil {
				w.log.Error("unanswered counters", "account", id, "err", err)
				w.mark(id) // try again next time
			}
			continue
		}
		now := time.Now()
		w.mu.Lock()
		a := w.accounts[id]
		if a == nil {
			w.mu.Unlock()
			continue
		}
		for x := range a.watchers {
			got := count(rows, x.employee).PB(now)
			key := stable(got)
			if x.last != nil && proto.Equal(x.last, key) {
				continue
			}
			x.last = key
			select { // keep only the newest
			case <-x.ch:
			default:
			}
			x.ch <- got
		}
		w.mu.Unlock()
	}
}

// stable is c without what moves with the clock alone.
func stable(c *pb.UnansweredCounters) *pb.UnansweredCounters {
	s := proto.CloneOf(c)
	s.ComputeTime = nil
	for _, n := range []*pb.UnansweredCount{s.Total, s.Unassigned} {
		n.OldestWaitSeconds = 0
	}
	for _, e := range s.Employees {
		e.Count.OldestWaitSeconds = 0
	}
	for _, ch := range s.Channels {
		ch.Count.OldestWaitSeconds = 0
	}
	return s
}
