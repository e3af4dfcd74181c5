package notify

import (
	"context"
	"fmt"
	"time"
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

// Record stores decisions in the transaction tx, in order, and returns them
// as the API shows them. It appends them to the store's log
// (store.Log), which may hold the log's lock until the transaction ends:
// call it as the transaction's last write.
func Record(ctx context.Context, st *store.Store, tx *ent.Tx, ds []Decision) ([]*pb.NotificationDecision, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	rows := make([]*ent.Notification, len(ds))
	for i, d := range ds {
		rows[i] = d.Row(0, 0, 0, time.Time{})
	}
	stored, err := st.Log().Append(ctx, tx, rows)
	if err != nil {
		return nil, err
	}
	out := make([]*pb.NotificationDecision, len(stored))
	for i, r := range stored {
		out[i] = ToPB(r)
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
