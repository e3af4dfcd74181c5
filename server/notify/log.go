package notify

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/notification"
	"github.com/switchboardhq/switchboard/ent/schema/types"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/convert"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/push"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// Decision is one push decision to store.
type Decision struct {
	// EmployeeID is 0 for the general chat.
	EmployeeID  int64
	Reason      push.Reason
	ChatID      int64
	ContactID   int64
	ContactName string
	ChannelID   int64
	ChannelName string
	ChannelKind string
	// MessageID is 0 for claims and transfers.
	MessageID   int64
	Preview     string
	Explanation string
}

// Record stores decisions in the transaction tx, in order, and returns them
// as the API shows them. On PostgreSQL it takes the transaction's next log
// position (store.NextLogPositionSQL) and so holds the log's lock until
// the transaction ends: call it as the transaction's last write.
func Record(ctx context.Context, st *store.Store, tx *ent.Tx, ds []Decision) ([]*pb.NotificationDecision, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	if st.IsPostgres() {
		return recordPG(ctx, tx, ds)
	}
	builders := make([]*ent.NotificationCreate, len(ds))
	for i, d := range ds {
		b := tx.Notification.Create().
			SetTxid(0).
			SetReason(notification.Reason(d.Reason.String())).
			SetChatID(d.ChatID).
			SetContactID(d.ContactID).
			SetContactName(d.ContactName).
			SetChannelID(d.ChannelID).
			SetChannelName(d.ChannelName).
			SetChannelKind(d.ChannelKind).
			SetPreview(d.Preview).
			SetExplanation(d.Explanation)
		if d.EmployeeID != 0 {
			b = b.SetEmployeeID(d.EmployeeID)
		}
		if d.MessageID != 0 {
			b = b.SetMessageID(d.MessageID)
		}
		builders[i] = b
	}
	rows, err := tx.Notification.CreateBulk(builders...).Save(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*pb.NotificationDecision, len(rows))
	for i, r := range rows {
		out[i] = ToPB(r)
	}
	return out, nil
}

// recordSQL inserts decisions given as parallel arrays, in order, at the
// transaction's next log position.
const recordSQL = `WITH pos AS (` + store.NextLogPositionSQL + `)
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

func recordPG(ctx context.Context, tx *ent.Tx, ds []Decision) ([]*pb.NotificationDecision, error) {
	acct, ok := tenant.FromContext(ctx)
	if !ok {
		return nil, fmt.Errorf("notify: recording decisions without an account")
	}
	n := len(ds)
	var (
		employees, chats, contacts, channels, messages = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		reasons, contactNames, channelNames, kinds     = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		previews, explanations                         = make([]string, n), make([]string, n)
	)
	for i, d := range ds {
		employees[i], reasons[i], chats[i], contacts[i], contactNames[i] = d.EmployeeID, d.Reason.String(), d.ChatID, d.ContactID, d.ContactName
		channels[i], channelNames[i], kinds[i], messages[i] = d.ChannelID, d.ChannelName, d.ChannelKind, d.MessageID
		previews[i], explanations[i] = d.Preview, d.Explanation
	}
	t := types.Now()
	rows, err := tx.QueryContext(ctx, recordSQL, acct, t, employees, reasons, chats, contacts, contactNames,
		channels, channelNames, kinds, messages, previews, explanations)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type key struct{ id, pos int64 }
	var got []key
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.id, &k.pos); err != nil {
			return nil, err
		}
		got = append(got, k)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(got) != n {
		return nil, fmt.Errorf("notify: stored %d of %d decisions", len(got), n)
	}
	// One statement's ids grow in insertion order, which is ds's order.
	slices.SortFunc(got, func(a, b key) int { return cmp.Compare(a.id, b.id) })
	out := make([]*pb.NotificationDecision, n)
	for i, d := range ds {
		out[i] = ToPB(d.Row(acct, got[i].id, got[i].pos, t))
	}
	return out, nil
}

// Row is the stored form of d, as a statement that inserted it returns:
// its id and log position, and when it was stored.
func (d Decision) Row(account, id, pos int64, at time.Time) *ent.Notification {
	r := &ent.Notification{ID: id, AccountID: account, CreatedAt: at, Txid: pos, Reason: notification.Reason(d.Reason.String()),
		ChatID: d.ChatID, ContactID: d.ContactID, ContactName: d.ContactName, ChannelID: d.ChannelID,
		ChannelName: d.ChannelName, ChannelKind: d.ChannelKind, Preview: d.Preview, Explanation: d.Explanation}
	if d.EmployeeID != 0 {
		r.EmployeeID = &d.EmployeeID
	}
	if d.MessageID != 0 {
		r.MessageID = &d.MessageID
	}
	return r
}

// ToPB converts a stored decision.
func ToPB(n *ent.Notification) *pb.NotificationDecision {
	return &pb.NotificationDecision{
		Cursor:      Cursor{Pos: n.Txid, ID: n.ID}.String(),
		Reason:      convert.EnumToPB[pb.NotificationReason](pb.NotificationReason_value, "NOTIFICATION_REASON_", n.Reason),
		EmployeeId:  ids.FormatPtr(n.EmployeeID),
		GeneralChat: n.EmployeeID == nil,
		ChatId:      ids.Format(n.ChatID),
		ClientId:    ids.Format(n.ContactID),
		ClientName:  n.ContactName,
		ChannelId:   ids.Format(n.ChannelID),
		ChannelName: n.ChannelName,
		ChannelKind: convert.EnumToPB[pb.ChannelKind](pb.ChannelKind_value, "CHANNEL_KIND_", n.ChannelKind),
		MessageId:   ids.FormatPtr(n.MessageID),
		Preview:     n.Preview,
		Explanation: n.Explanation,
		CreateTime:  convert.Time(n.CreatedAt),
	}
}

// PreviewLen bounds a push's message preview.
const PreviewLen = 140

// Preview is what a push shows of a message: the start of its text, or a
// note on its attachments.
func Preview(text string, attachments int) string {
	if text == "" {
		switch attachments {
		case 0:
			return ""
		case 1:
			return "[1 attachment]"
		default:
			return fmt.Sprintf("[%d attachments]", attachments)
		}
	}
	if utf8.RuneCountInString(text) <= PreviewLen {
		return text
	}
	r := []rune(text)
	return string(r[:PreviewLen-1]) + "…"
}
