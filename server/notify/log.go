package notify

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/notification"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/convert"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/push"
	"github.com/switchboardhq/switchboard/server/store"
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

// TxID returns the current transaction's id on PostgreSQL (0 on SQLite):
// the first half of the cursor of every decision the transaction writes.
func TxID(ctx context.Context, st *store.Store, tx *ent.Tx) (int64, error) {
	if !st.IsPostgres() {
		return 0, nil
	}
	rows, err := tx.QueryContext(ctx, "SELECT pg_current_xact_id()::text::bigint")
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var id int64
	if !rows.Next() {
		return 0, fmt.Errorf("pg_current_xact_id: no row")
	}
	if err := rows.Scan(&id); err != nil {
		return 0, err
	}
	return id, rows.Err()
}

// Record stores decisions in the transaction tx (whose id is txid), in
// order, and returns them as the API shows them.
func Record(ctx context.Context, tx *ent.Tx, txid int64, ds []Decision) ([]*pb.NotificationDecision, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	builders := make([]*ent.NotificationCreate, len(ds))
	for i, d := range ds {
		b := tx.Notification.Create().
			SetTxid(txid).
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

// ToPB converts a stored decision.
func ToPB(n *ent.Notification) *pb.NotificationDecision {
	return &pb.NotificationDecision{
		Cursor:      Cursor{TxID: n.Txid, ID: n.ID}.String(),
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
