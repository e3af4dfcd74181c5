package bench

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/ids"
)

// textbook is the routing transaction of a textbook, written directly with
// pgx on a schema of its own with nothing else in it: lock the channel's
// cursor, move it, insert a deal for the member it points at, insert that
// member's push. Four statements and COMMIT, no client, no chat, no
// message, no log order, no answer: the floor a router's own work is
// measured against.
type textbook struct {
	pool    *pgxpool.Pool
	members int64
}

func newTextbook(ctx context.Context, base string, channels, members int, conns int32) (*textbook, func(), error) {
	u, drop, err := freshSchema(ctx, base)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := pgxpool.ParseConfig(u)
	if err != nil {
		drop()
		return nil, nil, err
	}
	cfg.MaxConns = conns
	cfg.ConnConfig.RuntimeParams["application_name"] = "textbook-bench"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		drop()
		return nil, nil, err
	}
	_, err = pool.Exec(ctx, `
CREATE TABLE cursors (channel_id bigint PRIMARY KEY, position bigint NOT NULL);
CREATE TABLE deals (id bigserial PRIMARY KEY, channel_id bigint NOT NULL, responsible_id bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE pushes (id bigserial PRIMARY KEY, deal_id bigint NOT NULL, employee_id bigint NOT NULL, reason text NOT NULL);
INSERT INTO cursors SELECT g, 0 FROM generate_series(1, `+fmt.Sprint(channels)+`) g;`)
	if err != nil {
		pool.Close()
		drop()
		return nil, nil, err
	}
	return &textbook{pool: pool, members: int64(members)}, func() { pool.Close(); drop() }, nil
}

func (t *textbook) route(ctx context.Context, channel int64) error {
	return pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		var pos int64
		if err := tx.QueryRow(ctx, `SELECT position FROM cursors WHERE channel_id = $1 FOR UPDATE`, channel).Scan(&pos); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE cursors SET position = $2 WHERE channel_id = $1`, channel, pos+1); err != nil {
			return err
		}
		employee := channel*100 + pos%t.members
		var deal int64
		if err := tx.QueryRow(ctx, `INSERT INTO deals (channel_id, responsible_id) VALUES ($1, $2) RETURNING id`, channel, employee).Scan(&deal); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO pushes (deal_id, employee_id, reason) VALUES ($1, $2, 'NEW_CLIENT_ASSIGNED')`, deal, employee)
		return err
	})
}

// Textbook measures RouteIncomingMessage against the textbook transaction
// on the same channel counts and concurrencies, taking turns (see compare).
func Textbook(ctx context.Context, o Options) ([]Result, error) {
	var out []Result
	for _, channels := range o.Channels {
		for _, callers := range o.Callers {
			name := fmt.Sprintf("route %d ch, %d callers", channels, callers)
			st, f, done, err := fixtureOn(ctx, o, channels)
			if err != nil {
				return nil, err
			}
			srv, err := startServer(st, appOptions())
			if err != nil {
				done()
				return nil, err
			}
			cs := srv.pool(f.key, callers)
			viaAPI := func(ctx context.Context, caller, n int) error {
				_, err := cs[caller/callersPerConn].Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{
					ChannelId: ids.Format(f.channels[n%len(f.channels)]), Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: nextPhone()},
					Content: &pb.MessageContent{Text: "Hello, I would like to order"}, GatewayMessageId: fmt.Sprintf("t-%d", n),
				})
				return err
			}
			tb, drop, err := newTextbook(ctx, o.DatabaseURL, channels, 4, 16)
			if err != nil {
				srv.quit()
				done()
				return nil, err
			}
			direct := func(ctx context.Context, caller, n int) error { return tb.route(ctx, int64(n%channels)+1) }
			waits, stopWaits := sampleWaits(ctx, o.DatabaseURL)
			sa, st4 := compare(ctx, callers, 2*o.Duration, viaAPI, direct)
			stopWaits()
			api, four := sa.result("API      "+name, callers), st4.result("textbook "+name, callers)
			srv.quit()
			drop()
			done()
			o.Out("%-34s %8.0f routes/s  p50 %s  p99 %s", api.Name, api.Rate(), ms(api.P50), ms(api.P99))
			o.Out("%-34s %8.0f routes/s  p50 %s  p99 %s", four.Name, four.Rate(), ms(four.P50), ms(four.P99))
			o.Out("%-34s %8.0f%% of the textbook's rate, p99 %.1f× the textbook's", "  ratio", 100*api.Rate()/four.Rate(), float64(api.P99)/float64(four.P99))
			for _, app := range []string{"switchboard-bench", "textbook-bench"} {
				o.Out("  %s backends, what they were doing (%s)", app, waits.top(app, 5))
			}
			out = append(out, api, four)
		}
	}
	return out, nil
}

// waitSamples counts, per application_name, what PostgreSQL's backends in
// a transaction were doing when sampled: waiting for a lock, for the
// client, for the WAL to reach the disk, or running.
type waitSamples struct {
	mu     sync.Mutex
	counts map[string]map[string]int
}

// top lists an application's n most frequent states with their shares.
func (w *waitSamples) top(app string, n int) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.counts[app]
	total := 0
	keys := make([]string, 0, len(c))
	for k, v := range c {
		keys = append(keys, k)
		total += v
	}
	slices.SortFunc(keys, func(a, b string) int { return c[b] - c[a] })
	var parts []string
	for i, k := range keys {
		if i == n {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %.0f%%", k, 100*float64(c[k])/float64(max(total, 1))))
	}
	return fmt.Sprintf("%d samples: %s", total, strings.Join(parts, ", "))
}

// sampleWaits samples pg_stat_activity every 20 ms until stop is called.
func sampleWaits(ctx context.Context, base string) (*waitSamples, func()) {
	w := &waitSamples{counts: map[string]map[string]int{}}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return
		}
		defer conn.Close(context.Background())
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			rows, err := conn.Query(ctx, `SELECT application_name, CASE WHEN state = 'idle in transaction' THEN 'waiting for the client'
				WHEN wait_event IS NULL THEN 'running' ELSE wait_event_type || ':' || wait_event END
				FROM pg_stat_activity WHERE application_name IN ('switchboard-bench', 'textbook-bench') AND state <> 'idle'`)
			if err != nil {
				continue
			}
			w.mu.Lock()
			for rows.Next() {
				var app, what string
				if rows.Scan(&app, &what) == nil {
					if w.counts[app] == nil {
						w.counts[app] = map[string]int{}
					}
					w.counts[app][what]++
				}
			}
			w.mu.Unlock()
			rows.Close()
		}
	}()
	return w, func() { cancel(); <-done }
}
