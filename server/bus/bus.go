package bus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

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

// maxPayload keeps a NOTIFY under PostgreSQL's 8000-byte limit.
const maxPayload = 7000

// Bus connects one replica to the others.
type Bus struct {
	st   *store.Store
	log  *slog.Logger
	self string // this replica's id: its own messages come back and are skipped

	mu        sync.Mutex
	handlers  map[string][]func(payload string)
	reconnect []func()
	pending   map[string][]string // topic → payloads to send

	kick   chan struct{}
	stop   context.CancelFunc
	wg     sync.WaitGroup
	ready  chan struct{}
	name   string // the LISTEN channel
	quoted string
}

// New starts the bus: on PostgreSQL a LISTEN connection and a sender;
// on SQLite a bus that sends nothing and hears nothing.
func New(st *store.Store, log *slog.Logger) *Bus {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	ctx, stop := context.WithCancel(context.Background())
	bus := &Bus{st: st, log: log, self: hex.EncodeToString(b), handlers: map[string][]func(string){},
		pending: map[string][]string{}, kick: make(chan struct{}, 1), stop: stop, ready: make(chan struct{})}
	if st.IsPostgres() {
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

// OnReconnect calls fn whenever the LISTEN connection is (re)established:
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
	if !b.st.IsPostgres() {
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

func (b *Bus) channelName(ctx context.Context) error {
	if b.name != "" {
		return nil
	}
	var schema string
	if err := b.st.DB.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return err
	}
	// Per schema, so deployments sharing a database do not hear each other.
	b.name = "switchboard_" + schema
	b.quoted = pgx.Identifier{b.name}.Sanitize()
	close(b.ready)
	return nil
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
	if err := b.channelName(ctx); err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, b.st.URL)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+b.quoted); err != nil {
		return err
	}
	b.mu.Lock()
	fns := append([]func(){}, b.reconnect...)
	b.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		b.deliver(n.Payload)
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
	select {
	case <-ctx.Done():
		return
	case <-b.ready:
	}
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
			for _, msg := range pack(b.self, topic, payloads) {
				if _, err := b.st.DB.ExecContext(ctx, "SELECT pg_notify($1, $2)", b.name, msg); err != nil && ctx.Err() == nil {
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

// pack joins payloads into as few notifications as fit.
func pack(self, topic string, payloads []string) []string {
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
