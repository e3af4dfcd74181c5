package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ceiling routes a new client with one hand-written pgx transaction over
// the same schema: the same reads and writes as RouteIncomingMessage (the
// client, its deal and chat, the round-robin pick under the channel's
// cursor lock, the message and the push), with no transport, no ORM and
// no response to build. It reads what the decision needs (the account's
// settings, the channel, the first stage) and is written the direct way:
// pick the responsible first, then write everything.
type ceiling struct {
	pool      *pgxpool.Pool
	accountID int64
}

func newCeiling(ctx context.Context, url string, accountID int64, conns int32) (*ceiling, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = conns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &ceiling{pool: pool, accountID: accountID}, nil
}

func (c *ceiling) close() { c.pool.Close() }

func (c *ceiling) route(ctx context.Context, channelID int64, phone, text, gateway string) error {
	return pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		a := c.accountID
		var txid int64
		var convert8, notifyManagers bool
		var visibility string
		if err := tx.QueryRow(ctx, `SELECT pg_current_xact_id()::text::bigint, convert_8_to_plus7, notify_managers_all_messages,
			global_chat_visibility FROM account_settings WHERE account_id = $1`, a).Scan(&txid, &convert8, &notifyManagers, &visibility); err != nil {
			return err
		}
		var inIntegration bool
		var channelName string
		if err := tx.QueryRow(ctx, `SELECT in_integration, name FROM channels WHERE id = $1 AND account_id = $2`, channelID, a).
			Scan(&inIntegration, &channelName); err != nil {
			return err
		}
		var existing int64
		err := tx.QueryRow(ctx, `SELECT id FROM contacts WHERE account_id = $1 AND identity = $2`, a, phone).Scan(&existing)
		if err != pgx.ErrNoRows {
			return fmt.Errorf("bench phone %s is not new: %v", phone, err)
		}
		var pipeline, stage int64
		if err := tx.QueryRow(ctx, `SELECT s.pipeline_id, s.id FROM stages s JOIN pipelines p ON p.id = s.pipeline_id
			WHERE s.account_id = $1 ORDER BY p.position, s.pipeline_id, s.position, s.id LIMIT 1`, a).Scan(&pipeline, &stage); err != nil {
			return err
		}
		// The pick, under the channel's cursor lock.
		var cursorID int64
		var last *int64
		var streak int
		if err := tx.QueryRow(ctx, `SELECT id, last_employee_id, streak FROM distribution_cursors
			WHERE channel_id = $1 AND account_id = $2 FOR UPDATE`, channelID, a).Scan(&cursorID, &last, &streak); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT m.employee_id, m.role, m.access, m.receives_new_clients, e.active
			FROM channel_members m JOIN employees e ON e.id = m.employee_id
			WHERE m.channel_id = $1 AND m.account_id = $2 ORDER BY m.position, m.id`, channelID, a)
		if err != nil {
			return err
		}
		var eligible []int64
		lastAt := -1
		for rows.Next() {
			var id int64
			var role, access string
			var receives, active bool
			if err := rows.Scan(&id, &role, &access, &receives, &active); err != nil {
				return err
			}
			if last != nil && id == *last {
				lastAt = len(eligible)
			}
			if receives && active && access == "READ_WRITE" && role != "QUALITY_CONTROL" {
				eligible = append(eligible, id)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(eligible) == 0 {
			return fmt.Errorf("nobody eligible")
		}
		responsible := eligible[(lastAt+1)%len(eligible)]
		if _, err := tx.Exec(ctx, `UPDATE distribution_cursors SET last_employee_id = $1, streak = 1, assigned = assigned + 1
			WHERE id = $2`, responsible, cursorID); err != nil {
			return err
		}
		// The writes.
		now := time.Now()
		var contactID, dealID, chatID, messageID int64
		if err := tx.QueryRow(ctx, `INSERT INTO contacts (account_id, created_at, identity, phone, handle, name, responsible_id, is_test)
			VALUES ($1, $2, $3, $3, '', $3, $4, false) RETURNING id`, a, now, phone, responsible).Scan(&contactID); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO deals (account_id, created_at, contact_id, channel_id, kind, pipeline_id, stage_id, state)
			VALUES ($1, $2, $3, $4, 'DEAL', $5, $6, 'OPEN') RETURNING id`, a, now, contactID, channelID, pipeline, stage).Scan(&dealID); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO chats (account_id, created_at, channel_id, contact_id, deal_id, last_message_at)
			VALUES ($1, $2, $3, $4, $5, $2) RETURNING id`, a, now, channelID, contactID, dealID).Scan(&chatID); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO messages (account_id, created_at, chat_id, direction, text, gateway_message_id)
			VALUES ($1, $2, $3, 'IN', $4, $5) RETURNING id`, a, now, chatID, text, gateway).Scan(&messageID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO notifications (account_id, created_at, txid, employee_id, reason, chat_id, contact_id,
			contact_name, channel_id, channel_name, channel_kind, message_id, preview, explanation)
			VALUES ($1, $2, $3, $4, 'NEW_CLIENT_ASSIGNED', $5, $6, $7, $8, $9, 'WHATSAPP', $10, $11, 'new client')`,
			a, now, txid, responsible, chatID, contactID, phone, channelID, channelName, messageID, text)
		return err
	})
}
