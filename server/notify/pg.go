package notify

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboardhq/switchboard/server/store"
)

// pgBus carries "decisions committed" wake-ups between replicas through
// PostgreSQL LISTEN/NOTIFY. It is only a doorbell: the payload is the
// committing transaction's id, the decisions themselves are read from the
// log, so a lost notification only delays delivery until the next poll.
type pgBus struct {
	st       *store.Store
	log      *slog.Logger
	onCommit func(txid int64)
	out      chan int64
	// channel is the LISTEN channel's name, quoted is it as an identifier.
	channel, quoted string
	ready           chan struct{}
}

func newPGBus(st *store.Store, log *slog.Logger, onCommit func(int64)) *pgBus {
	return &pgBus{st: st, log: log, onCommit: onCommit, out: make(chan int64, 1024), ready: make(chan struct{})}
}

// channelName is per schema, so deployments sharing a database do not wake
// each other.
func (b *pgBus) channelName(ctx context.Context) (string, error) {
	var schema string
	if err := b.st.DB.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return "", err
	}
	return "switchboard_log_" + schema, nil
}

// listen keeps a LISTEN connection open, reconnecting with backoff, and
// wakes the hub on every notification and every reconnect.
func (b *pgBus) listen(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := b.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		b.log.Warn("notification bus: LISTEN connection lost; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (b *pgBus) listenOnce(ctx context.Context) error {
	if b.channel == "" {
		name, err := b.channelName(ctx)
		if err != nil {
			return err
		}
		b.channel, b.quoted = name, pgx.Identifier{name}.Sanitize()
		close(b.ready)
	}
	conn, err := pgx.Connect(ctx, b.st.URL)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+b.quoted); err != nil {
		return err
	}
	b.onCommit(0) // catch up on whatever was missed while disconnected
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		txid, _ := strconv.ParseInt(n.Payload, 10, 64)
		b.onCommit(txid)
	}
}

// notify queues a wake-up for the other replicas; when the queue is full
// the wake-up is dropped (their poll catches up).
func (b *pgBus) notify(txid int64) {
	select {
	case b.out <- txid:
	default:
	}
}

// send coalesces queued wake-ups: one NOTIFY carries the newest txid of a
// burst.
func (b *pgBus) send(ctx context.Context) {
	select {
	case <-ctx.Done():
		return
	case <-b.ready:
	}
	for {
		var txid int64
		select {
		case <-ctx.Done():
			return
		case txid = <-b.out:
		}
		for more := true; more; {
			select {
			case t := <-b.out:
				txid = max(txid, t)
			default:
				more = false
			}
		}
		if _, err := b.st.DB.ExecContext(ctx, "SELECT pg_notify($1, $2)", b.channel, strconv.FormatInt(txid, 10)); err != nil && ctx.Err() == nil {
			b.log.Warn("notification bus: NOTIFY failed", "err", err)
		}
		// Under load, wait a moment so the next NOTIFY rings for a burst.
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Millisecond):
		}
	}
}
