package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/schema/types"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// postgres is the backend of a PostgreSQL store.
type postgres struct {
	db  *sql.DB
	url string // for connections outside the pool (LISTEN)

	mu      sync.Mutex
	channel string // the LISTEN/NOTIFY channel, once known
}

func (p *postgres) describe() string { return "PostgreSQL" }

func (p *postgres) river(db *sql.DB) riverdriver.Driver[*sql.Tx] { return riverdatabasesql.New(db) }

func (p *postgres) readOptions() *sql.TxOptions {
	return &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}
}

// migrateLockSQL takes the schema's migration lock: replicas of one
// deployment (schema) starting at once migrate one after another, and
// deployments in other schemas of the database do not wait for each other.
const migrateLockSQL = `SELECT pg_advisory_lock(hashtext(current_schema() || '.switchboard_migrate'))`

// legacyMigrateLockKey is the one lock of the whole database under which
// releases before versioned migrations migrated. Adopting such a database
// takes it as well, so a replica of the old release starting during the
// upgrade does not change the schema while it is compared.
const legacyMigrateLockKey = 0x5357_4244 // "SWBD"

func (p *postgres) migrate(ctx context.Context, schema func() error) error {
	conn, err := p.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, migrateLockSQL); err != nil {
		return fmt.Errorf("lock for migration: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), //nolint:errcheck // closing the connection releases it too
		`SELECT pg_advisory_unlock(hashtext(current_schema() || '.switchboard_migrate'))`)
	var legacy bool
	if err := conn.QueryRowContext(ctx, `SELECT to_regclass(quote_ident(current_schema()) || '.accounts') IS NOT NULL
		AND to_regclass(quote_ident(current_schema()) || '.`+VersionTable+`') IS NULL`).Scan(&legacy); err != nil {
		return fmt.Errorf("lock for migration: %w", err)
	}
	if legacy {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", legacyMigrateLockKey); err != nil {
			return fmt.Errorf("lock for migration: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", legacyMigrateLockKey) //nolint:errcheck
	}
	return schema()
}

// lockTx takes a transaction-level advisory lock.
func (p *postgres) lockTx(ctx context.Context, tx *ent.Tx, key int64) error {
	// Named within the schema: deployments (and tests) sharing one
	// database in different schemas do not wait for each other's locks.
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || '.lock.' || $1::bigint::text, 0))", key)
	return err
}

// The notifier: LISTEN/NOTIFY.

// Shared implements Notifier.
func (p *postgres) Shared() bool { return true }

// MaxPayload keeps a NOTIFY under PostgreSQL's 8000-byte limit.
func (p *postgres) MaxPayload() int { return 7000 }

// channelName is the store's LISTEN/NOTIFY channel, quoted: one per
// schema, so deployments sharing a database do not hear each other.
func (p *postgres) channelName(ctx context.Context) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.channel == "" {
		var schema string
		if err := p.db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			return "", err
		}
		p.channel = "switchboard_" + schema
	}
	return p.channel, nil
}

// Notify implements Notifier.
func (p *postgres) Notify(ctx context.Context, payload string) error {
	name, err := p.channelName(ctx)
	if err != nil {
		return err
	}
	_, err = p.db.ExecContext(ctx, "SELECT pg_notify($1, $2)", name, payload)
	return err
}

// Listen implements Notifier: a connection of its own, outside the pool.
func (p *postgres) Listen(ctx context.Context) (Listener, error) {
	name, err := p.channelName(ctx)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.Connect(ctx, p.url)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{name}.Sanitize()); err != nil {
		conn.Close(context.WithoutCancel(ctx)) //nolint:errcheck // the error above says it
		return nil, err
	}
	return pgListener{conn}, nil
}

type pgListener struct{ conn *pgx.Conn }

func (l pgListener) Next(ctx context.Context) (string, error) {
	n, err := l.conn.WaitForNotification(ctx)
	if err != nil {
		return "", err
	}
	return n.Payload, nil
}

func (l pgListener) Close(ctx context.Context) error { return l.conn.Close(ctx) }

// The notification log.

// The push-decision log's position is a sequence, notification_position
// (created by the first migration file). A transaction that stores
// decisions takes the log's lock (a transaction-level advisory lock, one
// per schema) and the next position in its last statement, and holds the
// lock until it commits, so positions become visible in order: a reader
// never sees a position appear behind one it has read, and nothing but
// another decision-writing transaction's commit delays it (see
// docs/ARCHITECTURE.md). A sequence and an advisory lock leave no row
// versions behind, so a long transaction elsewhere cannot make taking a
// position slower.

// NextLogPositionSQL takes the log's lock and the transaction's next log
// position (PostgreSQL), as a query with one column, "position". Log.Append
// uses it; so may a statement that writes decisions with other rows.
const NextLogPositionSQL = `SELECT nextval('notification_position') AS position
	FROM pg_advisory_xact_lock(hashtext(current_schema() || '.notification_position')) AS l`

// appendSQL inserts decisions given as parallel arrays, in order, at the
// transaction's next log position.
const appendSQL = `WITH pos AS (` + NextLogPositionSQL + `)
INSERT INTO notifications (account_id, created_at, txid, employee_id, reason, chat_id, contact_id, contact_name,
	channel_id, channel_name, channel_kind, message_id, preview, explanation)
SELECT $1::bigint, $2::timestamptz, pos.position, NULLIF(u.employee_id, 0), u.reason, u.chat_id, u.contact_id, u.contact_name,
	u.channel_id, u.channel_name, u.channel_kind, NULLIF(u.message_id, 0), u.preview, u.explanation
FROM pos, unnest($3::bigint[], $4::varchar[], $5::bigint[], $6::bigint[], $7::varchar[], $8::bigint[], $9::varchar[],
	$10::varchar[], $11::bigint[], $12::varchar[], $13::varchar[])
	WITH ORDINALITY AS u(employee_id, reason, chat_id, contact_id, contact_name, channel_id, channel_name, channel_kind,
		message_id, preview, explanation, ord)
ORDER BY u.ord
RETURNING id, txid`

// Append implements Log: one statement, which takes the log's position.
func (p *postgres) Append(ctx context.Context, tx *ent.Tx, rows []*ent.Notification) ([]*ent.Notification, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	acct, ok := tenant.FromContext(ctx)
	if !ok {
		return nil, fmt.Errorf("store: appending to the log without an account")
	}
	n := len(rows)
	var (
		employees, chats, contacts, channels, messages = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		reasons, contactNames, channelNames, kinds     = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		previews, explanations                         = make([]string, n), make([]string, n)
	)
	for i, r := range rows {
		employees[i], reasons[i], chats[i], contacts[i], contactNames[i] = orZero(r.EmployeeID), string(r.Reason), r.ChatID, r.ContactID, r.ContactName
		channels[i], channelNames[i], kinds[i], messages[i] = r.ChannelID, r.ChannelName, r.ChannelKind, orZero(r.MessageID)
		previews[i], explanations[i] = r.Preview, r.Explanation
	}
	t := types.Now()
	res, err := tx.QueryContext(ctx, appendSQL, acct, t, employees, reasons, chats, contacts, contactNames,
		channels, channelNames, kinds, messages, previews, explanations)
	if err != nil {
		return nil, err
	}
	defer res.Close()
	type key struct{ id, pos int64 }
	var got []key
	for res.Next() {
		var k key
		if err := res.Scan(&k.id, &k.pos); err != nil {
			return nil, err
		}
		got = append(got, k)
	}
	if err := res.Err(); err != nil {
		return nil, err
	}
	if len(got) != n {
		return nil, fmt.Errorf("store: stored %d of %d decisions", len(got), n)
	}
	// One statement's ids grow in insertion order, which is rows' order.
	slices.SortFunc(got, func(a, b key) int { return cmp.Compare(a.id, b.id) })
	out := make([]*ent.Notification, n)
	for i, r := range rows {
		out[i] = &ent.Notification{ID: got[i].id, AccountID: acct, CreatedAt: t, Txid: got[i].pos, Reason: r.Reason,
			EmployeeID: nonZero(orZero(r.EmployeeID)), ChatID: r.ChatID, ContactID: r.ContactID, ContactName: r.ContactName,
			ChannelID: r.ChannelID, ChannelName: r.ChannelName, ChannelKind: r.ChannelKind,
			MessageID: nonZero(orZero(r.MessageID)), Preview: r.Preview, Explanation: r.Explanation}
	}
	return out, nil
}

func orZero(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// nonZero is what the log stores for an optional id: nothing for 0.
func nonZero(v int64) *int64 {
	if v == 0 {
		return nil
	}
	return &v
}

// The pacing counters: one row per key.

// outbox_pace (created by the first migration file) paces requests to each
// CRM account across replicas (server/outbox, Pacer): the time of each
// key's next free slot.

// paceSQL reserves the key's next slot and returns how long to wait for it
// (seconds). tat is the theoretical arrival time of the next request; a
// request may go at tat - tolerance, and moves tat on by one spacing.
const paceSQL = `INSERT INTO outbox_pace AS p (key, tat) VALUES ($1, now() + make_interval(secs => $2))
ON CONFLICT (key) DO UPDATE SET tat = GREATEST(p.tat, now()) + make_interval(secs => $2)
RETURNING GREATEST(EXTRACT(EPOCH FROM (p.tat - make_interval(secs => $2 + $3) - now())), 0)::float8`

// Reserve implements Pace: one UPSERT reserves a slot and moves the key's
// next free slot on.
func (p *postgres) Reserve(ctx context.Context, key string, every, tolerance time.Duration) (time.Duration, error) {
	var wait float64
	if err := p.db.QueryRowContext(ctx, paceSQL, key, every.Seconds(), tolerance.Seconds()).Scan(&wait); err != nil {
		return 0, err
	}
	return time.Duration(wait * float64(time.Second)), nil
}

// The budget counters: one row per key and hour in outbox_meter (created
// by a migration file), counting what each key spends of a budget per
// rolling day (Meter).

// meterLockSQL serializes the spends of one key: each then counts what
// the ones before it committed.
const meterLockSQL = `SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.outbox_meter.' || $1))`

// meterSpendSQL counts the window ($2: hours after it count), adds $4 to
// the hour $3 when that stays within $5 (or gives units back), and drops
// the key's hours that left the window.
const meterSpendSQL = `WITH w AS (
	SELECT COALESCE(sum(spent), 0)::bigint AS used FROM outbox_meter WHERE key = $1 AND hour > $2
), add AS (
	INSERT INTO outbox_meter AS m (key, hour, spent)
	SELECT $1, $3, GREATEST($4::bigint, 0) FROM w WHERE $4::bigint <= 0 OR w.used + $4::bigint <= $5::bigint
	ON CONFLICT (key, hour) DO UPDATE SET spent = GREATEST(m.spent + $4::bigint, 0)
	RETURNING 1
), gone AS (
	DELETE FROM outbox_meter WHERE key = $1 AND hour <= $2
)
SELECT w.used, EXISTS (SELECT 1 FROM add) FROM w`

// meterSpentSQL is the window's count and its oldest hour with units.
const meterSpentSQL = `SELECT COALESCE(sum(spent), 0)::bigint, min(hour) FILTER (WHERE spent > 0)
	FROM outbox_meter WHERE key = $1 AND hour > $2`

// Spend implements Meter: under the key's lock, one statement counts the
// window and spends.
func (p *postgres) Spend(ctx context.Context, key string, at time.Time, n, limit int) (used int, ok bool, err error) {
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, err
	}
	defer tx.Rollback() //nolint:errcheck // after a commit it does nothing
	if _, err := tx.ExecContext(ctx, meterLockSQL, key); err != nil {
		return 0, false, err
	}
	var before int64
	if err := tx.QueryRowContext(ctx, meterSpendSQL, key, meterFrom(at), at.Truncate(MeterBucket), n, limit).Scan(&before, &ok); err != nil {
		return 0, false, err
	}
	if err := tx.Commit(); err != nil {
		return 0, false, err
	}
	if !ok {
		return int(before), false, nil
	}
	return max(int(before)+n, 0), true, nil
}

// Spent implements Meter.
func (p *postgres) Spent(ctx context.Context, key string, at time.Time) (int, time.Time, error) {
	var used int64
	var oldest sql.NullTime
	if err := p.db.QueryRowContext(ctx, meterSpentSQL, key, meterFrom(at)).Scan(&used, &oldest); err != nil {
		return 0, time.Time{}, err
	}
	if !oldest.Valid {
		return int(used), time.Time{}, nil
	}
	return int(used), meterFrees(oldest.Time), nil
}

// The request budgets: one row per key in rate_limit (created by a
// migration file) holding the callers' request budgets (server/ratelimit):
// for each key, the time its bucket is full again (tat, the theoretical
// arrival time of the generic cell rate algorithm). Unlogged: a call's
// update then writes no WAL and its commit waits for no disk flush; a
// crash or a failover empties the table, which only gives every
// credential a full bucket.

// takeSQL takes one request from the key's bucket in one statement: with
// $2 now, $3 the spacing and $4 the tolerance (spacing × (burst − 1)), both
// in microseconds, a request is taken when tat − now ≤ tolerance, and moves
// tat on by one spacing. ON CONFLICT DO UPDATE locks the row and checks
// its WHERE against the newest version, so concurrent calls on any replica
// are counted exactly. A refused call changes nothing; the outer SELECT
// then reads the key's tat (as of the statement's start) for how long to
// wait.
const takeSQL = `WITH taken AS (
	INSERT INTO rate_limit AS r (key, tat) VALUES ($1, $2::timestamptz + $3 * interval '1 microsecond')
	ON CONFLICT (key) DO UPDATE SET tat = GREATEST(r.tat, $2::timestamptz) + $3 * interval '1 microsecond'
	WHERE r.tat <= $2::timestamptz + $4 * interval '1 microsecond'
	RETURNING 1)
SELECT EXISTS (SELECT 1 FROM taken),
	COALESCE((SELECT EXTRACT(EPOCH FROM (tat - $2::timestamptz)) * 1e6 - $4 FROM rate_limit WHERE key = $1), 0)::float8`

// Take implements Limits: one statement takes a request or refuses it.
func (p *postgres) Take(ctx context.Context, key string, now time.Time, every time.Duration, burst int) (time.Duration, error) {
	var (
		taken bool
		wait  float64
	)
	tolerance := every * time.Duration(max(burst-1, 0))
	if err := p.db.QueryRowContext(ctx, takeSQL, key, now, every.Microseconds(), tolerance.Microseconds()).Scan(&taken, &wait); err != nil {
		return 0, err
	}
	if taken {
		return 0, nil
	}
	// The row read may be older than the one that refused: never answer
	// less than one spacing.
	return max(time.Duration(wait)*time.Microsecond, every), nil
}
