package routing

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/channelmember"
	"github.com/switchboardhq/switchboard/ent/chat"
	"github.com/switchboardhq/switchboard/ent/contact"
	"github.com/switchboardhq/switchboard/ent/message"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/access"
	"github.com/switchboardhq/switchboard/server/convert"
	"github.com/switchboardhq/switchboard/server/directory/snapshot"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/notify"
	"github.com/switchboardhq/switchboard/server/push"
	"github.com/switchboardhq/switchboard/server/store"
)

// Outgoing is an employee's message about to go out.
type Outgoing struct {
	EmployeeID int64
	// ChatID or ContactID: where it goes.
	ChatID    int64
	ContactID int64
	// ChannelID picks the channel when writing first to ContactID.
	ChannelID int64
	Content   Content
	GatewayID string
}

// ClaimedReason is the google.rpc.ErrorInfo reason of a lost claim.
const ClaimedReason = "CLIENT_CLAIMED"

// RouteOutgoing authorizes an employee's message by the access table,
// picks the channel when the employee writes first, claims an unassigned
// client atomically, and stores the message. A gateway id seen before
// returns the first answer (Replayed), also to copies sent at once.
func (r *Router) RouteOutgoing(ctx context.Context, in Outgoing) (*pb.RouteOutgoingMessageResponse, error) {
	if out, ok, err := r.replayOutgoing(ctx, in); ok || err != nil {
		return out, err
	}
	var out *pb.RouteOutgoingMessageResponse
	err := r.st.Tx(ctx, func(tx *ent.Tx) error {
		var err error
		out, err = r.routeOutgoing(ctx, tx, in)
		return err
	})
	if err != nil {
		// A copy sent at the same time as the first fails where the first
		// stored the message (or earlier, if the first changed what this
		// one decided on): either way its answer is the first one's.
		if first, ok, rerr := r.replayOutgoing(ctx, in); ok || rerr != nil {
			return first, rerr
		}
		if errors.Is(err, errDuplicate) {
			err = fmt.Errorf("message %q vanished after a duplicate insert", in.GatewayID)
		}
		return nil, err
	}
	r.told(ctx, out.Notifications)
	return out, nil
}

// replayOutgoing returns the stored answer to an outgoing message the
// gateway sent before: only to the same employee, for the same chat or
// client.
func (r *Router) replayOutgoing(ctx context.Context, in Outgoing) (*pb.RouteOutgoingMessageResponse, bool, error) {
	out := &pb.RouteOutgoingMessageResponse{}
	m, ns, ok, err := r.replay(ctx, message.DirectionOUT, in.GatewayID, out, func(m *ent.Message) (bool, error) {
		if m.EmployeeID == nil || *m.EmployeeID != in.EmployeeID || (in.ChatID != 0 && m.ChatID != in.ChatID) {
			return false, nil
		}
		if in.ContactID == 0 {
			return true, nil
		}
		cht, err := r.st.Ent.Chat.Get(ctx, m.ChatID)
		if err != nil {
			return false, err
		}
		return cht.ContactID == in.ContactID && (in.ChannelID == 0 || cht.ChannelID == in.ChannelID), nil
	})
	if !ok || err != nil {
		return nil, ok, err
	}
	out.Message, out.Replayed = m, true
	if len(ns) > 0 {
		out.Notifications = ns
	}
	return out, true, nil
}

func (r *Router) routeOutgoing(ctx context.Context, tx *ent.Tx, in Outgoing) (*pb.RouteOutgoingMessageResponse, error) {
	c := tx.Client()
	as, err := r.loadSettings(ctx, c)
	if err != nil {
		return nil, err
	}
	snap, err := r.dir.Get(ctx, c, as.DirectoryVersion)
	if err != nil {
		return nil, err
	}
	emp, err := employeeIn(ctx, c, snap, in.EmployeeID)
	if err != nil {
		return nil, err
	}
	if !emp.Active {
		return nil, errs.Forbidden("%s is deactivated and cannot write", emp.Name)
	}
	out := &pb.RouteOutgoingMessageResponse{}

	// The chat, and so the channel. The client is locked until the commit:
	// a claim, a transfer or an incoming message that would change its
	// responsible waits, so this decision stands on what it read.
	var cht *ent.Chat
	var ch *ent.Channel
	var ct *ent.Contact
	if in.ChatID != 0 {
		if cht, err = c.Chat.Get(ctx, in.ChatID); err != nil {
			return nil, store.NotFound(err, "chat", in.ChatID)
		}
		if in.ChannelID != 0 && in.ChannelID != cht.ChannelID {
			return nil, errs.Invalid("channel_id", "chat %d is on channel %d, not %d", cht.ID, cht.ChannelID, in.ChannelID)
		}
		if ch, err = channelIn(snap, cht.ChannelID, "channel_id"); err != nil {
			return nil, err
		}
		if ct, err = lockContact(ctx, c, cht.ContactID); err != nil {
			return nil, err
		}
		out.ChannelChoice = pb.ChannelChoice_CHANNEL_CHOICE_CHAT
	} else {
		if ct, err = lockContact(ctx, c, in.ContactID); err != nil {
			return nil, store.NotFound(err, "client", in.ContactID)
		}
		if ch, out.ChannelChoice, err = pickChannel(snap, emp, in.ChannelID); err != nil {
			return nil, err
		}
		if cht, err = c.Chat.Query().Where(chat.ChannelID(ch.ID), chat.ContactID(ct.ID)).Only(ctx); ent.IsNotFound(err) {
			cht, err = createChat(ctx, tx, ch.ID, ct.ID, nil)
		}
		if err != nil {
			return nil, err
		}
	}

	// Authorize by the access table.
	view := &channelView{ch: ch, settings: as, members: membersFrom(snap, ch.ID)}
	d := view.decideFor(emp, ct.ResponsibleID)
	if !d.Write {
		return nil, refusal(ctx, c, snap, view, emp, ct, d)
	}
	out.Access = accessToPB(d)

	var notes []notify.Decision
	if d.Claims {
		// Exactly one winner: the client is locked and unassigned, so this
		// update finds it so; the others wait for this commit and then see
		// the winner.
		n, err := tx.Contact.Update().Where(contact.ID(ct.ID), contact.ResponsibleIDIsNil()).
			SetResponsibleID(emp.ID).SetClaimedAt(now()).Save(ctx)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, errResponsibleMoved
		}
		if ct, err = c.Contact.Get(ctx, ct.ID); err != nil {
			return nil, err
		}
		r.handsChanged(tx, as.AccountID, ct.ID)
		if notes, err = handover(ctx, c, snap, ct, nil, fmt.Sprintf("%s claimed %s", emp.Name, ct.Name)); err != nil {
			return nil, err
		}
		if r.external(as) {
			if err := r.crm.Responsible(ctx, tx, string(as.CrmKind), as.AccountID, ct.ID); err != nil {
				return nil, err
			}
		}
		out.Claimed = true
	}

	t := now()
	if err := tx.Chat.UpdateOneID(cht.ID).SetLastMessageAt(t).Exec(ctx); err != nil {
		return nil, err
	}
	cht.LastMessageAt = t
	out.Chat, out.Client = convert.Chat(cht), convert.Client(ct)
	// Stored with the message: the answer but the message itself and its
	// pushes, which a replay reads back from their own rows.
	b, err := proto.Marshal(out)
	if err != nil {
		return nil, err
	}
	msg, err := tx.Message.Create().SetChatID(cht.ID).SetDirection(message.DirectionOUT).SetEmployeeID(emp.ID).
		SetText(in.Content.Text).SetAttachments(in.Content.Attachments).
		SetNillableGatewayMessageID(nonEmpty(in.GatewayID)).SetDecision(b).Save(ctx)
	if store.IsUniqueViolation(err) {
		return nil, errDuplicate
	}
	if err != nil {
		return nil, err
	}
	for i := range notes {
		notes[i].MessageID = msg.ID
	}
	if r.external(as) && !ct.IsTest {
		if err := r.crm.Logged(ctx, tx, as, cht.ID, t); err != nil {
			return nil, err
		}
	}
	// The log's position last: it is held until the commit.
	if out.Notifications, err = notify.Record(ctx, r.st, tx, notes); err != nil {
		return nil, err
	}
	out.Message = convert.Message(msg)
	return out, nil
}

// lockContact reads a client and locks it until the transaction ends.
func lockContact(ctx context.Context, c *ent.Client, id int64) (*ent.Contact, error) {
	return store.ForUpdate(c.Contact.Query().Where(contact.ID(id))).Only(ctx)
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// pickChannel chooses the channel an employee writes first on: the one
// given, else its default outgoing channel, else the only one it can write
// on; otherwise the choices are listed in the error.
func pickChannel(snap *snapshot.Snapshot, emp *ent.Employee, given int64) (*ent.Channel, pb.ChannelChoice, error) {
	if given != 0 {
		ch, err := channelIn(snap, given, "channel_id")
		return ch, pb.ChannelChoice_CHANNEL_CHOICE_GIVEN, err
	}
	var writable []*ent.Channel
	for id, ch := range snap.Channels {
		m := snap.Member(id, emp.ID)
		if ch.InIntegration && m != nil && m.Access == channelmember.AccessREAD_WRITE && m.Role != channelmember.RoleQUALITY_CONTROL {
			writable = append(writable, ch)
		}
	}
	slices.SortFunc(writable, func(a, b *ent.Channel) int { return cmp.Compare(a.ID, b.ID) })
	if emp.DefaultOutgoingChannelID != nil {
		for _, ch := range writable {
			if ch.ID == *emp.DefaultOutgoingChannelID {
				return ch, pb.ChannelChoice_CHANNEL_CHOICE_DEFAULT_OUTGOING, nil
			}
		}
	}
	switch len(writable) {
	case 1:
		return writable[0], pb.ChannelChoice_CHANNEL_CHOICE_ONLY_WRITABLE, nil
	case 0:
		return nil, 0, errs.Forbidden("%s cannot write on any channel of the integration", emp.Name)
	}
	pf := &errdetails.PreconditionFailure{}
	names := make([]string, len(writable))
	for i, ch := range writable {
		pf.Violations = append(pf.Violations, &errdetails.PreconditionFailure_Violation{
			Type: "CHANNEL_CHOICE", Subject: "channels/" + ids.Format(ch.ID), Description: ch.Name,
		})
		names[i] = fmt.Sprintf("%s (%d)", ch.Name, ch.ID)
	}
	return nil, 0, errs.Precondition("%s can write on %d channels and has no default outgoing channel: pass channel_id, one of %s",
		emp.Name, len(writable), strings.Join(names, ", ")).With(pf)
}

// refusal explains why an employee may not write: ABORTED with
// CLIENT_CLAIMED when another employee claimed the client and this one
// could have claimed it too (it lost the race, whenever it arrived), else
// PERMISSION_DENIED with the access table's reason.
func refusal(ctx context.Context, c *ent.Client, snap *snapshot.Snapshot, view *channelView, emp *ent.Employee, ct *ent.Contact, d access.Decision) error {
	if ct.ResponsibleID != nil && *ct.ResponsibleID != emp.ID && ct.ClaimedAt != nil {
		if view.decideFor(emp, nil).Claims {
			return claimedError(ctx, c, snap, ct)
		}
	}
	return errs.Forbidden("%s may not write in this chat: %s", emp.Name, d.Explanation)
}

func claimedError(ctx context.Context, c *ent.Client, snap *snapshot.Snapshot, ct *ent.Contact) error {
	name := ""
	if ct.ResponsibleID != nil {
		if e, err := employeeIn(ctx, c, snap, *ct.ResponsibleID); err == nil {
			name = e.Name
		}
	}
	id := ids.FormatPtr(ct.ResponsibleID)
	return errs.New(errs.ErrAborted, "client %s was claimed by %s (employee %s) first: the chat is theirs", ct.Name, name, id).
		With(&errdetails.ErrorInfo{Reason: ClaimedReason, Domain: "switchboard.v1", Metadata: map[string]string{
			"client_id": ids.Format(ct.ID), "responsible_employee_id": id, "responsible_name": name,
		}})
}

// handover decides the pushes of a change of ct's responsible from prev to
// its current one (a claim, a transfer, a repeat client handed on), per
// chat of the client: CHAT_REVOKED to those who could view the chat before
// and cannot now, NEW_CLIENT_ASSIGNED to the new responsible (once, on the
// first chat it can view). The chats are read once and judged both ways.
func handover(ctx context.Context, c *ent.Client, snap *snapshot.Snapshot, ct *ent.Contact, prev *int64, what string) ([]notify.Decision, error) {
	chats, err := c.Chat.Query().Where(chat.ContactID(ct.ID)).Order(ent.Asc(chat.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	var next int64
	if ct.ResponsibleID != nil {
		next = *ct.ResponsibleID
	}
	var out []notify.Decision
	assigned := false
	for _, cht := range chats {
		ch := snap.Channels[cht.ChannelID]
		if ch == nil {
			continue
		}
		view := &channelView{ch: ch, settings: snap.Settings, members: membersFrom(snap, ch.ID)}
		before, _ := view.viewers(prev)
		after, _ := view.viewers(ct.ResponsibleID)
		for _, p := range push.ForChange(before, after, next) {
			expl := fmt.Sprintf("%s: you can no longer see the chat on %s", what, ch.Name)
			if p.Reason == push.NewClientAssigned {
				if assigned {
					continue
				}
				assigned = true
				expl = fmt.Sprintf("%s: %s is now yours", what, ct.Name)
			}
			out = append(out, notify.Decision{
				EmployeeID: p.EmployeeID, Reason: p.Reason, ChatID: cht.ID, ContactID: ct.ID, ContactName: ct.Name,
				ChannelID: ch.ID, ChannelName: ch.Name, ChannelKind: string(ch.Kind), Explanation: expl,
			})
		}
	}
	return out, nil
}
