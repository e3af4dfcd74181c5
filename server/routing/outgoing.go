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
	"github.com/switchboardhq/switchboard/ent/assignmentevent"
	"github.com/switchboardhq/switchboard/ent/channelmember"
	"github.com/switchboardhq/switchboard/ent/chat"
	"github.com/switchboardhq/switchboard/ent/contact"
	"github.com/switchboardhq/switchboard/ent/message"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/convert"
	"github.com/switchboardhq/switchboard/server/directory/snapshot"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/notify"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/supervise"
)

// Outgoing is an employee's message about to go out.
type Outgoing struct {
	EmployeeID int64
	// ChatID or ClientID: where it goes.
	ChatID   int64
	ClientID int64
	// ChannelID picks the channel when writing first to ClientID.
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
	r.chatsMoved(ctx)
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
		if in.ClientID == 0 {
			return true, nil
		}
		cht, err := r.st.Ent.Chat.Get(ctx, m.ChatID)
		if err != nil {
			return false, err
		}
		return cht.ContactID == in.ClientID && (in.ChannelID == 0 || cht.ChannelID == in.ChannelID), nil
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

// routeOutgoing is RouteOutgoingMessage as a command.
func (r *Router) routeOutgoing(ctx context.Context, tx *ent.Tx, in Outgoing) (*pb.RouteOutgoingMessageResponse, error) {
	sit, err := r.loadOutgoing(ctx, tx, in)
	if err != nil {
		return nil, err
	}
	plan, err := decideOutgoing(sit)
	if err != nil {
		return nil, err
	}
	return r.persistOutgoing(ctx, tx, sit, plan)
}

// loadOutgoing reads what an employee's message is decided on: the
// settings and directory, the employee, the chat (or the channel it
// writes first on) and the client, locked until the commit: a claim, a
// transfer or an incoming message that would change its responsible waits,
// so this decision stands on what it read. The client's chats are read when
// the message may claim it (it has no responsible), for the claim's pushes.
func (r *Router) loadOutgoing(ctx context.Context, tx *ent.Tx, in Outgoing) (*outgoingSituation, error) {
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
		// Nothing else is read for a deactivated employee.
		return nil, errs.Forbidden("%s is deactivated and cannot write", emp.Name)
	}
	sit := &outgoingSituation{settings: as, snap: snap, employee: emp, content: in.Content, gatewayID: in.GatewayID,
		external: r.external(as)}
	if in.ChatID != 0 {
		if sit.chat, err = c.Chat.Get(ctx, in.ChatID); err != nil {
			return nil, store.NotFound(err, "chat", in.ChatID)
		}
		if in.ChannelID != 0 && in.ChannelID != sit.chat.ChannelID {
			return nil, errs.Invalid("channel_id", "chat %d is on channel %d, not %d", sit.chat.ID, sit.chat.ChannelID, in.ChannelID)
		}
		if sit.channel, err = channelIn(snap, sit.chat.ChannelID, "channel_id"); err != nil {
			return nil, err
		}
		if sit.client, err = lockClient(ctx, c, sit.chat.ContactID); err != nil {
			return nil, err
		}
		sit.choice = pb.ChannelChoice_CHANNEL_CHOICE_CHAT
		if sit.client.ResponsibleID == nil {
			if sit.chats, err = chatsOf(ctx, c, sit.client.ID); err != nil {
				return nil, err
			}
		}
	} else {
		if sit.client, err = lockClient(ctx, c, in.ClientID); err != nil {
			return nil, store.NotFound(err, "client", in.ClientID)
		}
		if sit.channel, sit.choice, err = pickChannel(snap, emp, in.ChannelID); err != nil {
			return nil, err
		}
		if sit.chats, err = chatsOf(ctx, c, sit.client.ID); err != nil {
			return nil, err
		}
		sit.chat = chatOn(sit.chats, sit.channel.ID) // nil: persist creates it
	}
	if id := sit.client.ResponsibleID; id != nil && *id != emp.ID {
		// Named when the message is refused because the responsible
		// claimed the client first.
		sit.responsible, _ = employeeIn(ctx, c, snap, *id)
	}
	return sit, nil
}

// persistOutgoing writes an employee's message: the claim, the chat
// marked active (created when the employee writes first), the message with
// its answer, the CRM's outbox jobs, and the claim's pushes last (the
// log's position is held until the commit).
func (r *Router) persistOutgoing(ctx context.Context, tx *ent.Tx, sit *outgoingSituation, p *outgoingPlan) (*pb.RouteOutgoingMessageResponse, error) {
	as, cl, out := sit.settings, p.client, p.response
	t := now()
	if p.claim {
		// Exactly one winner: the client is locked and unassigned, so this
		// update finds it so; the others wait for this commit and then see
		// the winner.
		n, err := tx.Contact.Update().Where(contact.ID(cl.ID), contact.ResponsibleIDIsNil()).
			SetResponsibleID(sit.employee.ID).SetClaimedAt(t).Save(ctx)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, errResponsibleMoved
		}
		emp := sit.employee
		if err := supervise.Record(ctx, tx, supervise.Event{Cause: assignmentevent.CauseCLAIM, ClientID: &cl.ID,
			ChannelID: &sit.channel.ID, To: &emp.ID, Actor: supervise.Actor{Kind: "EMPLOYEE", ID: ids.Format(emp.ID), Name: emp.Name},
			Explanation: fmt.Sprintf("%s replied first on %s and claimed the client", emp.Name, sit.channel.Name)}); err != nil {
			return nil, err
		}
		r.handsChanged(tx, as.AccountID, cl.ID)
		if p.crmResponsible {
			if err := r.crm.Responsible(ctx, tx, string(as.CrmKind), as.AccountID, cl.ID); err != nil {
				return nil, err
			}
		}
	}
	var cht *ent.Chat
	if sit.chat == nil {
		var err error
		if cht, err = createChat(ctx, tx, sit.channel.ID, cl.ID, nil, t); err != nil {
			return nil, err
		}
	} else {
		if err := tx.Chat.UpdateOneID(sit.chat.ID).SetLastMessageAt(t).ClearUnansweredSince().Exec(ctx); err != nil {
			return nil, err
		}
		c := *sit.chat
		c.LastMessageAt, c.UnansweredSince = t, nil
		cht = &c
	}
	out.Chat = convert.Chat(cht)
	// Stored with the message: the answer but the message itself and its
	// pushes, which a replay reads back from their own rows.
	b, err := proto.Marshal(out)
	if err != nil {
		return nil, err
	}
	msg, err := tx.Message.Create().SetChatID(cht.ID).SetDirection(message.DirectionOUT).SetEmployeeID(sit.employee.ID).
		SetText(sit.content.Text).SetAttachments(sit.content.Attachments).
		SetNillableGatewayMessageID(nonEmpty(sit.gatewayID)).SetDecision(b).Save(ctx)
	if store.IsUniqueViolation(err) {
		return nil, errDuplicate
	}
	if err != nil {
		return nil, err
	}
	pushes := p.pushes
	if pushes != nil && sit.chat == nil {
		pushes = withChat(pushes, cht.ID)
	}
	for i := range pushes {
		pushes[i].MessageID = msg.ID
	}
	if p.crmLogged {
		if err := r.crm.Logged(ctx, tx, as, cht.ID, t); err != nil {
			return nil, err
		}
	}
	// The log's position last: it is held until the commit.
	if out.Notifications, err = notify.Record(ctx, r.st, tx, pushes); err != nil {
		return nil, err
	}
	out.Message = convert.Message(msg)
	return out, nil
}

// lockClient reads a client and locks it until the transaction ends.
func lockClient(ctx context.Context, c *ent.Client, id int64) (*ent.Contact, error) {
	return store.ForUpdate(c.Contact.Query().Where(contact.ID(id))).Only(ctx)
}

// chatsOf reads a client's chats, by id.
func chatsOf(ctx context.Context, c *ent.Client, clientID int64) ([]*ent.Chat, error) {
	return c.Chat.Query().Where(chat.ContactID(clientID)).Order(ent.Asc(chat.FieldID)).All(ctx)
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
