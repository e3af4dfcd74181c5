package routing

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/channel"
	"github.com/switchboardhq/switchboard/ent/chat"
	"github.com/switchboardhq/switchboard/ent/contact"
	"github.com/switchboardhq/switchboard/ent/deal"
	"github.com/switchboardhq/switchboard/ent/message"
	"github.com/switchboardhq/switchboard/ent/predicate"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/directory/snapshot"
	"github.com/switchboardhq/switchboard/server/distribution"
	"github.com/switchboardhq/switchboard/server/notify"
	"github.com/switchboardhq/switchboard/server/store"
)

// The writes of a routed message come in two groups: what a new client's
// first message creates (the contact, its deal or lead, its chat), and what
// every message stores once its responsible is settled (the channel's
// cursor and the client's responsible when distributed, the message with
// its decision, the push decisions). On SQLite each is a few ent calls. On
// PostgreSQL each group is one statement: every round trip costs both
// processes a wake-up, and the second group runs holding the channel's
// cursor lock, which every other new client of the channel waits for.
//
// The PostgreSQL statements name the account explicitly, as the tenant
// hooks do for ent's statements; the tests of this package run on both
// stores, so both forms are held to the same behaviour.

// entitySpec is the deal or lead a new client gets on a channel.
type entitySpec struct {
	kind                              deal.Kind
	pipelineID, stageID, leadStatusID *int64
}

// entityFor says what a channel creates for a new client: a deal in the
// configured (or first) pipeline and stage, or a lead; nil when the account
// has nothing to create one in.
func entityFor(snap *snapshot.Snapshot, ch *ent.Channel) *entitySpec {
	switch ch.EntityKind {
	case channel.EntityKindLEAD:
		return &entitySpec{kind: deal.KindLEAD, leadStatusID: ch.LeadStatusID}
	case channel.EntityKindDEAL:
		stage := ch.StageID
		if stage == nil && ch.PipelineID != nil {
			if first, ok := snap.FirstStage[*ch.PipelineID]; ok {
				stage = &first
			}
		}
		return &entitySpec{kind: deal.KindDEAL, pipelineID: ch.PipelineID, stageID: stage}
	}
	if snap.DefaultStage == nil {
		return nil
	}
	return &entitySpec{kind: deal.KindDEAL, pipelineID: &snap.DefaultStage.PipelineID, stageID: &snap.DefaultStage.ID}
}

// createEntity creates the channel's new-client entity for a known
// contact; nil when the account has nothing to create one in.
func createEntity(ctx context.Context, tx *ent.Tx, snap *snapshot.Snapshot, ch *ent.Channel, contactID int64) (*ent.Deal, error) {
	spec := entityFor(snap, ch)
	if spec == nil {
		return nil, nil
	}
	return tx.Deal.Create().SetContactID(contactID).SetChannelID(ch.ID).SetKind(spec.kind).
		SetNillablePipelineID(spec.pipelineID).SetNillableStageID(spec.stageID).
		SetNillableLeadStatusID(spec.leadStatusID).Save(ctx)
}

// clientRows is what a new client's first message creates.
type clientRows struct {
	contact *ent.Contact
	deal    *ent.Deal // nil: contact only
	chat    *ent.Chat
}

// createClient creates a new client from its first message on channel ch:
// the contact, the channel's deal or lead, and the chat. A concurrent
// message of the same new client that created it first makes this fail
// with store.ErrRetry: the retried transaction finds it.
func (r *Router) createClient(ctx context.Context, tx *ent.Tx, accountID int64, snap *snapshot.Snapshot, ch *ent.Channel, who sender, name string, test bool) (*clientRows, error) {
	if name == "" {
		name = who.phone + who.handle
	}
	spec := entityFor(snap, ch)
	var (
		out *clientRows
		err error
	)
	if r.st.IsPostgres() {
		out, err = createClientPG(ctx, tx, accountID, ch.ID, who, name, test, spec)
	} else {
		out, err = createClientEnt(ctx, tx, ch.ID, who, name, test, spec)
	}
	if store.IsUniqueViolation(err) {
		// Only the contact's identity is unique among these rows.
		return nil, fmt.Errorf("contact %s created concurrently: %w", who.identity, store.ErrRetry)
	}
	return out, err
}

func createClientEnt(ctx context.Context, tx *ent.Tx, channelID int64, who sender, name string, test bool, spec *entitySpec) (*clientRows, error) {
	ct, err := tx.Contact.Create().SetIdentity(who.identity).SetPhone(who.phone).SetHandle(who.handle).
		SetName(name).SetIsTest(test).Save(ctx)
	if err != nil {
		return nil, err
	}
	out := &clientRows{contact: ct}
	var dealID *int64
	if spec != nil {
		if out.deal, err = tx.Deal.Create().SetContactID(ct.ID).SetChannelID(channelID).SetKind(spec.kind).
			SetNillablePipelineID(spec.pipelineID).SetNillableStageID(spec.stageID).
			SetNillableLeadStatusID(spec.leadStatusID).Save(ctx); err != nil {
			return nil, err
		}
		dealID = &out.deal.ID
	}
	out.chat, err = tx.Chat.Create().SetChannelID(channelID).SetContactID(ct.ID).SetNillableDealID(dealID).
		SetLastMessageAt(ct.CreatedAt).Save(ctx)
	return out, err
}

// createClientSQL inserts the contact, the deal when $13, and the chat.
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

func createClientPG(ctx context.Context, tx *ent.Tx, accountID, channelID int64, who sender, name string, test bool, spec *entitySpec) (*clientRows, error) {
	t := now()
	var kind string
	var pipeline, stage, status *int64
	if spec != nil {
		kind, pipeline, stage, status = string(spec.kind), spec.pipelineID, spec.stageID, spec.leadStatusID
	}
	rows, err := tx.QueryContext(ctx, createClientSQL, accountID, t, who.identity, who.phone, who.handle, name, test,
		channelID, kind, pipeline, stage, status, spec != nil)
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
	var contactID, chatID int64
	var dealID sql.NullInt64
	if err := rows.Scan(&contactID, &dealID, &chatID); err != nil {
		return nil, err
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	out := &clientRows{
		contact: &ent.Contact{ID: contactID, AccountID: accountID, CreatedAt: t, Identity: who.identity,
			Phone: who.phone, Handle: who.handle, Name: name, IsTest: test},
		chat: &ent.Chat{ID: chatID, AccountID: accountID, CreatedAt: t, ChannelID: channelID, ContactID: contactID, LastMessageAt: t},
	}
	if spec != nil {
		if !dealID.Valid {
			return nil, fmt.Errorf("routing: creating a client returned no deal")
		}
		out.deal = &ent.Deal{ID: dealID.Int64, AccountID: accountID, CreatedAt: t, ContactID: contactID, ChannelID: channelID,
			Kind: spec.kind, PipelineID: spec.pipelineID, StageID: spec.stageID, LeadStatusID: spec.leadStatusID, State: deal.StateOPEN}
		out.chat.DealID = &out.deal.ID
	}
	return out, nil
}

// distributed is a distribution pick to store: the channel's cursor moves
// and the client gets its responsible.
type distributed struct {
	cursor *ent.DistributionCursor
	pick   distribution.Pick
	// prev is the responsible the client had when it was read: the pick is
	// written only if it still has it (a claim may have come in between).
	prev *int64
}

// stored is what a routed message stores once its responsible is settled.
type stored struct {
	accountID int64
	assign    *distributed // nil: no distribution
	contact   *ent.Contact
	chatID    int64
	content   Content
	gatewayID string
	decision  []byte
	// pushes: the message's, then those of chats the client's other
	// employees lost; all stored with the message's id, so that a replay
	// reads them back with it.
	pushes []notify.Decision
}

// store writes s and returns the message and the push decisions as the API
// shows them.
func (r *Router) store(ctx context.Context, tx *ent.Tx, s *stored) (*ent.Message, []*pb.NotificationDecision, error) {
	var (
		msg   *ent.Message
		notes []*pb.NotificationDecision
		err   error
	)
	if r.st.IsPostgres() {
		msg, notes, err = storePG(ctx, tx, s)
	} else {
		msg, notes, err = r.storeEnt(ctx, tx, s)
	}
	if store.IsUniqueViolation(err) {
		// Only the message's gateway id is unique among these rows.
		return nil, nil, errDuplicate
	}
	return msg, notes, err
}

func (r *Router) storeEnt(ctx context.Context, tx *ent.Tx, s *stored) (*ent.Message, []*pb.NotificationDecision, error) {
	if a := s.assign; a != nil {
		if err := distribution.Save(ctx, tx, a.cursor, a.pick.Cursor, true); err != nil {
			return nil, nil, err
		}
		n, err := tx.Contact.Update().Where(contact.ID(s.contact.ID), responsibleIs(a.prev)).SetResponsibleID(a.pick.EmployeeID).
			ClearClaimedAt().Save(ctx)
		if err != nil {
			return nil, nil, err
		}
		if n == 0 {
			return nil, nil, errResponsibleMoved
		}
	}
	msg, err := tx.Message.Create().SetChatID(s.chatID).SetDirection(message.DirectionIN).
		SetText(s.content.Text).SetAttachments(s.content.Attachments).SetGatewayMessageID(s.gatewayID).
		SetDecision(s.decision).Save(ctx)
	if err != nil {
		return nil, nil, err
	}
	for i := range s.pushes {
		s.pushes[i].MessageID = msg.ID // a replay reads them back with the message
	}
	notes, err := notify.Record(ctx, r.st, tx, s.pushes)
	return msg, notes, err
}

// storeSQL moves the cursor and sets the responsible (when $3 is not 0 and
// the client's responsible is still $13), inserts the message and then its
// pushes (given as parallel arrays, in order) at the transaction's next log position, and returns the
// message's id with each push's id and position, and whether the
// responsible was set. Taking the log position takes the log's lock until
// the commit, so this is the transaction's last statement.
const storeSQL = `WITH moved AS (
	UPDATE distribution_cursors SET last_employee_id = $3, streak = $4, assigned = assigned + 1
	WHERE id = $5 AND account_id = $1 AND $3 <> 0),
resp AS (
	UPDATE contacts SET responsible_id = $3, claimed_at = NULL
	WHERE id = $6 AND account_id = $1 AND $3 <> 0 AND responsible_id IS NOT DISTINCT FROM $13::bigint
	RETURNING id),
m AS (
	INSERT INTO messages (account_id, created_at, chat_id, direction, text, attachments, gateway_message_id, decision)
	VALUES ($1, $2, $7, 'IN', $8, $9, $10, $11) RETURNING id),
pos AS (` + store.NextLogPositionSQL + ` WHERE $12),
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

func storePG(ctx context.Context, tx *ent.Tx, s *stored) (*ent.Message, []*pb.NotificationDecision, error) {
	t := now()
	var responsible int64
	var streak int
	var cursorID int64
	var prev *int64
	if a := s.assign; a != nil {
		responsible, streak, cursorID, prev = a.pick.EmployeeID, a.pick.Cursor.Streak, a.cursor.ID, a.prev
	}
	var attachments any
	if len(s.content.Attachments) > 0 {
		b, err := json.Marshal(s.content.Attachments)
		if err != nil {
			return nil, nil, err
		}
		attachments = string(b)
	}
	n := len(s.pushes)
	var (
		employees, chats, channels                 = make([]int64, n), make([]int64, n), make([]int64, n)
		reasons, contactNames, channelNames, kinds = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		previews, explanations                     = make([]string, n), make([]string, n)
	)
	for i, p := range s.pushes {
		employees[i], reasons[i], chats[i], contactNames[i] = p.EmployeeID, p.Reason.String(), p.ChatID, p.ContactName
		channels[i], channelNames[i], kinds[i] = p.ChannelID, p.ChannelName, p.ChannelKind
		previews[i], explanations[i] = p.Preview, p.Explanation
	}
	rows, err := tx.QueryContext(ctx, storeSQL, s.accountID, t, responsible, streak, cursorID, s.contact.ID,
		s.chatID, s.content.Text, attachments, s.gatewayID, s.decision, n > 0, prev,
		employees, reasons, chats, contactNames, channels, channelNames, kinds, previews, explanations)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	type stored struct{ id, pos int64 }
	var got []stored
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
			got = append(got, stored{pushID.Int64, pos.Int64})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if rowsSeen == 0 || len(got) != n {
		return nil, nil, fmt.Errorf("routing: storing a message returned %d rows for %d pushes", rowsSeen, n)
	}
	if responsible != 0 && !set {
		return nil, nil, errResponsibleMoved
	}
	// One statement's ids grow in insertion order, which is s.pushes' order.
	slices.SortFunc(got, func(a, b stored) int { return cmp.Compare(a.id, b.id) })
	msg := &ent.Message{ID: msgID, AccountID: s.accountID, CreatedAt: t, ChatID: s.chatID, Direction: message.DirectionIN,
		Text: s.content.Text, Attachments: s.content.Attachments, GatewayMessageID: &s.gatewayID, Decision: s.decision}
	notes := make([]*pb.NotificationDecision, n)
	for i, p := range s.pushes {
		p.ContactID, p.MessageID = s.contact.ID, msgID
		notes[i] = notify.ToPB(p.Row(s.accountID, got[i].id, got[i].pos, t))
	}
	return msg, notes, nil
}

// errResponsibleMoved: the client's responsible changed (a claim, a
// transfer) after this transaction read it; run again on the new one.
var errResponsibleMoved = fmt.Errorf("routing: the client's responsible changed meanwhile: %w", store.ErrRetry)

// responsibleIs selects the client if its responsible is id (nil: nobody).
func responsibleIs(id *int64) predicate.Contact {
	if id == nil {
		return contact.ResponsibleIDIsNil()
	}
	return contact.ResponsibleID(*id)
}

// upsertChat returns the client's chat on the channel, pointed at the deal
// and marked active now, creating it when the client has none there yet.
func upsertChat(ctx context.Context, tx *ent.Tx, channelID, contactID int64, dl *ent.Deal) (*ent.Chat, error) {
	var dealID *int64
	if dl != nil {
		dealID = &dl.ID
	}
	existing, err := tx.Chat.Query().Where(chat.ChannelID(channelID), chat.ContactID(contactID)).Only(ctx)
	if ent.IsNotFound(err) {
		return createChat(ctx, tx, channelID, contactID, dealID)
	}
	if err != nil {
		return nil, err
	}
	t := now()
	upd := tx.Chat.Update().Where(chat.ID(existing.ID)).SetLastMessageAt(t)
	if dealID != nil {
		upd = upd.SetDealID(*dealID)
		existing.DealID = dealID
	}
	existing.LastMessageAt = t
	return existing, upd.Exec(ctx)
}

// createChat creates a known client's chat on a channel.
func createChat(ctx context.Context, tx *ent.Tx, channelID, contactID int64, dealID *int64) (*ent.Chat, error) {
	created, err := tx.Chat.Create().SetChannelID(channelID).SetContactID(contactID).SetNillableDealID(dealID).
		SetLastMessageAt(now()).Save(ctx)
	if store.IsUniqueViolation(err) {
		return nil, fmt.Errorf("chat created concurrently: %w", store.ErrRetry)
	}
	return created, err
}
