package routing

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/assignmentevent"
	"github.com/switchboardhq/switchboard/ent/chat"
	"github.com/switchboardhq/switchboard/ent/contact"
	"github.com/switchboardhq/switchboard/ent/deal"
	"github.com/switchboardhq/switchboard/ent/message"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/distribution"
	"github.com/switchboardhq/switchboard/server/notify"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/supervise"
)

// writer makes the writes of a routed message that differ by database, in
// two groups: what a new client's first message creates (the client, its
// deal or lead, its chat), and what every message stores once its
// responsible is settled (the channel's cursor and the client's
// responsible when they move, the message with its decision, the push
// decisions). The implementation is chosen once, when the router is built:
// entWriter runs each group as a few ent statements and works on every
// store; pgWriter runs each as one PostgreSQL statement, since every round
// trip costs both processes a wake-up and the second group runs holding the
// channel's cursor lock, which every other new client of the channel waits
// for. Both return the rows as stored; TestWriters runs the same writes
// through every implementation a store has and compares the rows.
type writer interface {
	// createClient inserts a new client, its deal or lead (nc.entity, when
	// not nil) and its chat.
	createClient(ctx context.Context, tx *ent.Tx, nc *newClient) (*clientRows, error)
	// storeIncoming writes s, the log's position last (it is held until
	// the commit), and returns the message and the push decisions as the
	// API shows them; the pushes are all about s's client. A client whose
	// responsible is no longer s.responsible.from is errResponsibleMoved.
	storeIncoming(ctx context.Context, tx *ent.Tx, s *stored) (*ent.Message, []*pb.NotificationDecision, error)
}

// writers returns every writer that works on st, the one to use first: the
// router takes the first, TestWriters all of them.
func writers(st *store.Store) []writer {
	if st.IsPostgres() {
		return []writer{pgWriter{}, entWriter{st: st}}
	}
	return []writer{entWriter{st: st}}
}

// entWriter writes with ent, on any store.
type entWriter struct{ st *store.Store }

// pgWriter writes each group in one PostgreSQL statement, naming the
// account explicitly as the tenant hooks do for ent's statements.
type pgWriter struct{}

// entitySpec is the deal or lead a new client gets on a channel.
type entitySpec struct {
	kind                              deal.Kind
	pipelineID, stageID, leadStatusID *int64
}

// newClient is what a new client's first message creates.
type newClient struct {
	accountID, channelID int64
	who                  sender
	name                 string
	test                 bool
	entity               *entitySpec // nil: the client only
}

// clientRows is what creating a client stored.
type clientRows struct {
	client *ent.Contact
	deal   *ent.Deal // nil: client only
	chat   *ent.Chat
}

func (entWriter) createClient(ctx context.Context, tx *ent.Tx, nc *newClient) (*clientRows, error) {
	cl, err := tx.Contact.Create().SetIdentity(nc.who.identity).SetPhone(nc.who.phone).SetHandle(nc.who.handle).
		SetName(nc.name).SetIsTest(nc.test).Save(ctx)
	if err != nil {
		return nil, err
	}
	out := &clientRows{client: cl}
	var dealID *int64
	if spec := nc.entity; spec != nil {
		if out.deal, err = tx.Deal.Create().SetContactID(cl.ID).SetChannelID(nc.channelID).SetKind(spec.kind).
			SetNillablePipelineID(spec.pipelineID).SetNillableStageID(spec.stageID).
			SetNillableLeadStatusID(spec.leadStatusID).Save(ctx); err != nil {
			return nil, err
		}
		dealID = &out.deal.ID
	}
	out.chat, err = tx.Chat.Create().SetChannelID(nc.channelID).SetContactID(cl.ID).SetNillableDealID(dealID).
		SetLastMessageAt(cl.CreatedAt).Save(ctx)
	return out, err
}

// createClientSQL inserts the client, the deal when $13, and the chat.
const createClientSQL = `WITH c AS (
	INSERT INTO contacts (account_id, created_at, identity, phone, handle, name, is_test)
	VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id),
d AS (
	INSERT INTO deals (account_id, created_at, contact_id, channel_id, kind, pipeline_id, stage_id, lead_status_id, state)
	SELECT $1::bigint, $2::timestamptz, c.id, $8::bigint, $9::varchar, $10::bigint, $11::bigint, $12::bigint, 'OPEN'
	FROM c WHERE $13::bool RETURNING id)
INSERT INTO chats (account_id, created_at, channel_id, contact_id, deal_id, last_message_at)
SELECT $1::bigint, $2::timestamptz, $8::bigint, c.id, (SELECT id FROM d), $2::timestamptz FROM c
RETURNING contact_id, deal_id, id`

func (pgWriter) createClient(ctx context.Context, tx *ent.Tx, nc *newClient) (*clientRows, error) {
	t := now()
	spec, who := nc.entity, nc.who
	var kind string
	var pipeline, stage, status *int64
	if spec != nil {
		kind, pipeline, stage, status = string(spec.kind), spec.pipelineID, spec.stageID, spec.leadStatusID
	}
	rows, err := tx.QueryContext(ctx, createClientSQL, nc.accountID, t, who.identity, who.phone, who.handle, nc.name, nc.test,
		nc.channelID, kind, pipeline, stage, status, spec != nil)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("routing: creating a client returned no row")
	}
	var clientID, chatID int64
	var dealID sql.NullInt64
	if err := rows.Scan(&clientID, &dealID, &chatID); err != nil {
		return nil, err
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	out := &clientRows{
		client: &ent.Contact{ID: clientID, AccountID: nc.accountID, CreatedAt: t, Identity: who.identity,
			Phone: who.phone, Handle: who.handle, Name: nc.name, IsTest: nc.test},
		chat: &ent.Chat{ID: chatID, AccountID: nc.accountID, CreatedAt: t, ChannelID: nc.channelID, ContactID: clientID, LastMessageAt: t},
	}
	if spec != nil {
		if !dealID.Valid {
			return nil, fmt.Errorf("routing: creating a client returned no deal")
		}
		out.deal = &ent.Deal{ID: dealID.Int64, AccountID: nc.accountID, CreatedAt: t, ContactID: clientID, ChannelID: nc.channelID,
			Kind: spec.kind, PipelineID: spec.pipelineID, StageID: spec.stageID, LeadStatusID: spec.leadStatusID, State: deal.StateOPEN}
		out.chat.DealID = &out.deal.ID
	}
	return out, nil
}

// stored is what a routed message stores once its responsible is settled.
type stored struct {
	accountID int64
	// cursor: the channel's cursor moves on (a distributed client); nil:
	// it stays.
	cursor *cursorMove
	// responsible: the client's responsible changes; nil: it stays.
	responsible *responsibleMove
	clientID    int64
	chatID      int64
	content     Content
	gatewayID   string
	decision    []byte
	// pushes: the message's, then those of chats the client's other
	// employees lost; all stored with the message's id, so that a replay
	// reads them back with it.
	pushes []notify.Decision
	// history: the assignment history's entry, written with the
	// responsible (nil: none).
	history *historyEntry
}

// cursorMove moves a channel's cursor (row id) to next, counting a
// distributed client.
type cursorMove struct {
	id   int64
	next distribution.Cursor
}

// responsibleMove changes a client's responsible from the one this
// transaction read (a claim may have come in between: then it is not
// written) to another (nil: nobody). It is never a claim.
type responsibleMove struct {
	from, to *int64
}

func (w entWriter) storeIncoming(ctx context.Context, tx *ent.Tx, s *stored) (*ent.Message, []*pb.NotificationDecision, error) {
	if c := s.cursor; c != nil {
		if err := moveCursor(ctx, tx, c.id, c.next, 1); err != nil {
			return nil, nil, err
		}
	}
	if m := s.responsible; m != nil {
		upd := tx.Contact.Update().Where(contact.ID(s.clientID), responsibleIs(m.from)).ClearClaimedAt()
		if m.to == nil {
			upd = upd.ClearResponsibleID()
		} else {
			upd = upd.SetResponsibleID(*m.to)
		}
		n, err := upd.Save(ctx)
		if err != nil {
			return nil, nil, err
		}
		if n == 0 {
			return nil, nil, errResponsibleMoved
		}
		if h := s.history; h != nil {
			if err := supervise.Record(ctx, tx, h.event(s.clientID, m)); err != nil {
				return nil, nil, err
			}
		}
	}
	msg, err := tx.Message.Create().SetChatID(s.chatID).SetDirection(message.DirectionIN).
		SetText(s.content.Text).SetAttachments(s.content.Attachments).SetGatewayMessageID(s.gatewayID).
		SetDecision(s.decision).Save(ctx)
	if err != nil {
		return nil, nil, err
	}
	// The chat waits for an answer since its oldest unanswered message.
	if err := tx.Chat.Update().Where(chat.ID(s.chatID), chat.UnansweredSinceIsNil()).
		SetUnansweredSince(msg.CreatedAt).Exec(ctx); err != nil {
		return nil, nil, err
	}
	pushes := slices.Clone(s.pushes)
	for i := range pushes {
		pushes[i].MessageID = msg.ID // a replay reads them back with the message
	}
	notes, err := notify.Record(ctx, w.st, tx, pushes)
	return msg, notes, err
}

// storeSQL moves the cursor (row $5, when not 0) and changes the
// responsible to $3 (when $4, and the client's responsible is still $13),
// records the change in the assignment history (when $29: channel $25,
// mode $26, position $27, explanation $28), inserts the message (marking
// its chat unanswered since it, unless it already waited) and then its
// pushes (given as parallel arrays, in
// order) at the transaction's next log position, and returns the message's
// id with each push's id and position, and whether the responsible was
// changed. Taking the log position takes the log's lock until the commit,
// so this is the transaction's last statement, and it is taken after the
// responsible changed (pos waits for resp): the change's triggers lock the
// open-client counts, which every transaction locks before the log's lock.
const storeSQL = `WITH moved AS (
	UPDATE distribution_cursors SET last_employee_id = NULLIF($23::bigint, 0), streak = $24, assigned = assigned + 1
	WHERE id = $5 AND account_id = $1 AND $5 <> 0),
resp AS (
	UPDATE contacts SET responsible_id = $3::bigint, claimed_at = NULL
	WHERE id = $6 AND account_id = $1 AND $4::bool AND responsible_id IS NOT DISTINCT FROM $13::bigint
	RETURNING id),
m AS (
	INSERT INTO messages (account_id, created_at, chat_id, direction, text, attachments, gateway_message_id, decision)
	VALUES ($1, $2, $7, 'IN', $8, $9, $10, $11) RETURNING id),
unanswered AS (
	UPDATE chats SET unanswered_since = $2 WHERE id = $7 AND account_id = $1 AND unanswered_since IS NULL),
history AS (
	INSERT INTO assignment_events (account_id, created_at, cause, contact_id, channel_id, from_employee_id, to_employee_id,
		distribution_mode, position, actor_kind, actor_id, actor_name, explanation, changes)
	SELECT $1::bigint, $2::timestamptz, 'DISTRIBUTION', $6::bigint, $25::bigint, $13::bigint, $3::bigint,
		$26::varchar, $27::bigint, 'SYSTEM', '', '', $28::text, '' FROM resp WHERE $29::bool),
pos AS (` + store.NextLogPositionSQL + ` WHERE $12 AND (SELECT count(*) FROM resp) >= 0),
n AS (
	INSERT INTO notifications (account_id, created_at, txid, employee_id, reason, chat_id, contact_id, contact_name,
		channel_id, channel_name, channel_kind, message_id, preview, explanation)
	SELECT $1::bigint, $2::timestamptz, pos.position, NULLIF(u.employee_id, 0), u.reason, u.chat_id, $6::bigint,
		u.contact_name, u.channel_id, u.channel_name, u.channel_kind, m.id, u.preview, u.explanation
	FROM m, pos, unnest($14::bigint[], $15::varchar[], $16::bigint[], $17::varchar[], $18::bigint[], $19::varchar[],
		$20::varchar[], $21::varchar[], $22::varchar[])
		WITH ORDINALITY AS u(employee_id, reason, chat_id, contact_name, channel_id, channel_name, channel_kind,
			preview, explanation, ord)
	ORDER BY u.ord
	RETURNING id, txid)
SELECT m.id, n.id, n.txid, EXISTS (SELECT FROM resp) FROM m LEFT JOIN n ON true`

func (pgWriter) storeIncoming(ctx context.Context, tx *ent.Tx, s *stored) (*ent.Message, []*pb.NotificationDecision, error) {
	t := now()
	var cursorID, last int64
	var streak int
	if c := s.cursor; c != nil {
		cursorID, last, streak = c.id, c.next.Last, c.next.Streak
	}
	var to, from *int64
	if m := s.responsible; m != nil {
		to, from = m.to, m.from
	}
	var attachments any
	if len(s.content.Attachments) > 0 {
		b, err := json.Marshal(s.content.Attachments)
		if err != nil {
			return nil, nil, err
		}
		attachments = string(b)
	}
	h := historyEntry{}
	if s.history != nil {
		h = *s.history
	}
	n := len(s.pushes)
	var (
		employees, chats, channels                = make([]int64, n), make([]int64, n), make([]int64, n)
		reasons, clientNames, channelNames, kinds = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		previews, explanations                    = make([]string, n), make([]string, n)
	)
	for i, p := range s.pushes {
		employees[i], reasons[i], chats[i], clientNames[i] = p.EmployeeID, p.Reason.String(), p.ChatID, p.ContactName
		channels[i], channelNames[i], kinds[i] = p.ChannelID, p.ChannelName, p.ChannelKind
		previews[i], explanations[i] = p.Preview, p.Explanation
	}
	rows, err := tx.QueryContext(ctx, storeSQL, s.accountID, t, to, s.responsible != nil, cursorID, s.clientID,
		s.chatID, s.content.Text, attachments, s.gatewayID, s.decision, n > 0, from,
		employees, reasons, chats, clientNames, channels, channelNames, kinds, previews, explanations,
		last, streak, h.channelID, h.mode, h.position, h.explanation, s.history != nil)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	type row struct{ id, pos int64 }
	var got []row
	var msgID int64
	var set bool
	rowsSeen := 0
	for rows.Next() {
		var pushID, pos sql.NullInt64
		if err := rows.Scan(&msgID, &pushID, &pos, &set); err != nil {
			return nil, nil, err
		}
		rowsSeen++
		if pushID.Valid {
			got = append(got, row{pushID.Int64, pos.Int64})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if rowsSeen == 0 || len(got) != n {
		return nil, nil, fmt.Errorf("routing: storing a message returned %d rows for %d pushes", rowsSeen, n)
	}
	if s.responsible != nil && !set {
		return nil, nil, errResponsibleMoved
	}
	// One statement's ids grow in insertion order, which is s.pushes' order.
	slices.SortFunc(got, func(a, b row) int { return cmp.Compare(a.id, b.id) })
	msg := &ent.Message{ID: msgID, AccountID: s.accountID, CreatedAt: t, ChatID: s.chatID, Direction: message.DirectionIN,
		Text: s.content.Text, Attachments: s.content.Attachments, GatewayMessageID: &s.gatewayID, Decision: s.decision}
	notes := make([]*pb.NotificationDecision, n)
	for i, p := range s.pushes {
		p.ContactID, p.MessageID = s.clientID, msgID
		notes[i] = notify.ToPB(p.Row(s.accountID, got[i].id, got[i].pos, t))
	}
	return msg, notes, nil
}

// event is h as the history records it, for the client moved by m.
func (h *historyEntry) event(clientID int64, m *responsibleMove) supervise.Event {
	return supervise.Event{Cause: assignmentevent.CauseDISTRIBUTION, ClientID: &clientID, ChannelID: &h.channelID,
		From: m.from, To: m.to, Mode: h.mode, Position: h.position, Actor: supervise.System, Explanation: h.explanation}
}
