package bus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard/server/store"
)

// Topics.
const (
	// Log: push decisions were committed; the payload is the newest txid.
	Log = "log"
	// Directory: an account's directory changed; the payload is its id.
	Directory = "dir"
	// Responsible: clients changed hands; "account:client".
	Responsible = "resp"
	// Credentials: a credential was revoked or an employee deactivated.
	Credentials = "auth"
)

// Bus connects one replica to the others.
type Bus struct {
	n    store.Notifier
	log  *slog.Logger
	self string // this replica's id: its own messages come back and are skipped

	mu        sync.Mutex
	handlers  map[string][]func(payload string)
	reconnect []func()
	pending   map[string][]string // topic → payloads to send

	kick chan struct{}
	stop context.CancelFunc
	wg   sync.WaitGroup
}

// New starts the bus on the store's notifier: when other replicas may
// share the store (PostgreSQL), a listener and a sender; otherwise
// (SQLite) a bus that sends nothing and hears nothing.
func New(st *store.Store, log *slog.Logger) *Bus {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	ctx, stop := context.WithCancel(context.Background())
	bus := &Bus{n: st.Notifier(), log: log, self: hex.EncodeToString(b), handlers: map[string][]func(string){},
		pending: map[string][]string{}, kick: make(chan struct{}, 1), stop: stop}
	if bus.n.Shared() {
		bus.wg.Add(2)
		go func() { defer bus.wg.Done(); bus.listen(ctx) }()
		go func() { defer bus.wg.Done(); bus.send(ctx) }()
	}
	return bus
}

// Close stops the bus.
func (b *Bus) Close() {
	b.stop()
	b.wg.Wait()
}

// Handle calls fn for every payload of topic another replica publishes.
// Handlers must be quick; they run on the bus's goroutine.
func (b *Bus) Handle(topic string, fn func(payload string)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.handlers[topic] = append(b.handlers[topic], fn)
}

// OnReconnect calls fn whenever the listener is (re)established:
// messages sent before may have been missed (on the first connection too:
// what was remembered before it may be stale).
func (b *Bus) OnReconnect(fn func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reconnect = append(b.reconnect, fn)
}

// Publish tells the other replicas. Payloads of a burst are sent together;
// when the bus is down they are dropped (receivers fall back on polling and
// expiry).
func (b *Bus) Publish(topic, payload string) {
	if !b.n.Shared() {
		return
	}
	b.mu.Lock()
	if len(b.pending[topic]) < 10_000 {
		b.pending[topic] = append(b.pending[topic], payload)
	}
	b.mu.Unlock()
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

func (b *Bus) listen(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := b.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		b.log.Warn("bus: LISTEN connection lost; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (b *Bus) listenOnce(ctx context.Context) error {
	l, err := b.n.Listen(ctx)
	if err != nil {
		return err
	}
	defer l.Close(context.WithoutCancel(ctx)) //nolint:errcheck // the listener is done with
	b.mu.Lock()
	fns := append([]func(){}, b.reconnect...)
	b.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
	for {
		payload, err := l.Next(ctx)
		if err != nil {
			return err
		}
		b.deliver(payload)
	}
}

// deliver hands a notification's messages to the handlers. A notification
// is "replica|topic|payload;payload…".
func (b *Bus) deliver(raw string) {
	from, rest, ok := strings.Cut(raw, "|")
	if !ok || from == b.self {
		return
	}
	topic, payloads, ok := strings.Cut(rest, "|")
	if !ok {
		return
	}
	b.mu.Lock()
	fns := b.handlers[topic]
	b.mu.Unlock()
	for _, p := range strings.Split(payloads, ";") {
		for _, fn := range fns {
			fn(p)
		}
	}
}

// send sends what was published, a NOTIFY per topic per burst.
func (b *Bus) send(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.kick:
		}
		b.mu.Lock()
		batch := b.pending
		b.pending = map[string][]string{}
		b.mu.Unlock()
		for topic, payloads := range batch {
			for _, msg := range pack(b.self, topic, payloads, b.n.MaxPayload()) {
				if err := b.n.Notify(ctx, msg); err != nil && ctx.Err() == nil {
					b.log.Warn("bus: NOTIFY failed", "topic", topic, "err", err)
				}
			}
		}
		// Under load, wait a moment so the next NOTIFY carries a burst.
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Millisecond):
		}
	}
}

// pack joins payloads into as few notifications of at most maxPayload
// bytes as fit.
func pack(self, topic string, payloads []string, maxPayload int) []string {
	var out []string
	prefix := self + "|" + topic + "|"
	var cur strings.Builder
	for _, p := range dedupe(payloads) {
		if cur.Len() > 0 && cur.Len()+1+len(p) > maxPayload {
			out = append(out, cur.String())
			cur.Reset()
		}
		if cur.Len() == 0 {
			cur.WriteString(prefix)
		} else {
			cur.WriteByte(';')
		}
		cur.WriteString(p)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

func dedupe(ps []string) []string {
	seen := make(map[string]bool, len(ps))
	out := ps[:0]
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
