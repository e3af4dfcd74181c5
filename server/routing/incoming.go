package routing

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/channel"
	"github.com/switchboardhq/switchboard/ent/message"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/convert"
	"github.com/switchboardhq/switchboard/server/phone"
	"github.com/switchboardhq/switchboard/server/store"
)

// Incoming is a client's message as the gateway received it.
type Incoming struct {
	ChannelID  int64
	Phone      string
	Handle     string
	SenderName string
	Content    Content
	GatewayID  string
	// Test marks a message of the built-in test client.
	Test bool
}

// RouteIncoming makes the whole decision of SPEC §4 for a client's message,
// in one transaction. A gateway id seen before returns the first decision
// and changes nothing (replayed is true).
func (r *Router) RouteIncoming(ctx context.Context, in Incoming) (d *pb.RoutingDecision, replayed bool, err error) {
	err = r.st.Tx(ctx, func(tx *ent.Tx) error {
		var err error
		d, err = r.routeIncoming(ctx, tx, in)
		return err
	})
	if err != nil {
		// A replay fails where the first message was stored (the unique
		// gateway id), or earlier if the world changed since (say, the
		// channel left the integration): either way it gets the first
		// decision. Looking only on failure keeps the usual path one query
		// shorter.
		if first, ok, rerr := r.replayIncoming(ctx, in); ok || rerr != nil {
			return first, ok, rerr
		}
		if errors.Is(err, errDuplicate) {
			err = fmt.Errorf("message %q vanished after a duplicate insert", in.GatewayID)
		}
		return nil, false, err
	}
	r.told(ctx, d.Notifications)
	r.chatsMoved(ctx)
	return d, false, nil
}

// replayIncoming returns the decision stored with an incoming message the
// gateway sent before.
func (r *Router) replayIncoming(ctx context.Context, in Incoming) (*pb.RoutingDecision, bool, error) {
	d := &pb.RoutingDecision{}
	m, ns, ok, err := r.replay(ctx, message.DirectionIN, in.GatewayID, d, func(m *ent.Message) (bool, error) {
		return r.sameIncoming(ctx, m, in)
	})
	if !ok || err != nil {
		return nil, ok, err
	}
	d.Message, d.Notifications = m, ns
	return d, true, nil
}

// sameIncoming reports whether a stored message came from in's channel
// and sender.
func (r *Router) sameIncoming(ctx context.Context, m *ent.Message, in Incoming) (bool, error) {
	c := r.st.Ent
	cht, err := c.Chat.Get(ctx, m.ChatID)
	if err != nil || cht.ChannelID != in.ChannelID {
		return false, err
	}
	cl, err := c.Contact.Get(ctx, cht.ContactID)
	if err != nil {
		return false, err
	}
	ch, err := c.Channel.Get(ctx, in.ChannelID)
	if err != nil {
		return false, err
	}
	as, err := c.AccountSettings.Query().Only(ctx)
	if err != nil {
		return false, err
	}
	who, err := identify(in.Phone, in.Handle, ch.Kind, phone.ForAccount(as.HomeRegion, as.Convert8ToPlus7), in.Test)
	if err != nil {
		return false, nil
	}
	if who.phone != "" {
		return slices.Contains(phone.Forms(who.phone), cl.Identity), nil
	}
	return who.identity == cl.Identity, nil
}

// routeIncoming is RouteIncomingMessage as a command. The channel's cursor
// is read (and locked) only when the plan distributes, after the client's
// rows exist: from then on only the last statement and the commit hold it.
func (r *Router) routeIncoming(ctx context.Context, tx *ent.Tx, in Incoming) (*pb.RoutingDecision, error) {
	sit, err := r.loadIncoming(ctx, tx, in)
	if err != nil {
		return nil, err
	}
	plan := decideIncoming(sit)
	rows, err := r.persistClient(ctx, tx, sit, plan)
	if err != nil {
		return nil, err
	}
	if plan.distribute {
		if sit.cursor, err = lockCursor(ctx, tx, sit); err != nil {
			return nil, err
		}
		// Open clients are counted under the cursor's lock: distributions
		// of the channel, which fill capacities, take it too.
		if err = r.loadAvailability(ctx, tx, sit); err != nil {
			return nil, err
		}
	}
	o := decideMessage(sit, plan, rows)
	if o.decision.Assignment.Source == pb.ResponsibleSource_RESPONSIBLE_SOURCE_NONE_AVAILABLE && plan.distribute && rows.chat.WaitingSince == nil {
		// Nobody could take the client now: it joins the channel's
		// waiting line (waiting.go), in the order clients first wrote.
		if err := tx.Chat.UpdateOneID(rows.chat.ID).SetWaitingSince(sit.now).Exec(ctx); err != nil {
			return nil, err
		}
	}
	// The reply deadline (deadline.go) of a new responsible, or of the
	// first-responder candidates' window for a new client; the decision
	// says when it falls.
	timed, responsible := false, int64(0)
	switch asg := o.decision.Assignment; {
	case asg.Source == pb.ResponsibleSource_RESPONSIBLE_SOURCE_DISTRIBUTED && o.responsible != nil && o.responsible.to != nil:
		timed, responsible = true, *o.responsible.to
	case asg.Source == pb.ResponsibleSource_RESPONSIBLE_SOURCE_PENDING_FIRST_RESPONDER && o.decision.NewClient:
		timed = true
	}
	if timed {
		if due, ok := r.deadlineDue(sit.channel, sit.now); ok {
			o.decision.Assignment.ReplyDueTime = timestamppb.New(due)
		}
	}
	d, err := r.persistMessage(ctx, tx, sit, rows, o)
	if err != nil {
		return nil, err
	}
	if timed {
		// After the message and its history entry are written: the job
		// notes the last of each.
		if err := r.scheduleDeadline(ctx, tx, sit.channel, sit.settings.AccountID, rows.client.ID, rows.chat.ID,
			responsible, sit.now, 0); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// loadIncoming reads what a client's message is decided on: the settings
// and directory, the client by identity (locked until the commit), and a
// known client's latest deal, chats and responsible.
func (r *Router) loadIncoming(ctx context.Context, tx *ent.Tx, in Incoming) (*incomingSituation, error) {
	c := tx.Client()
	as, err := r.loadSettings(ctx, c)
	if err != nil {
		return nil, err
	}
	snap, err := r.dir.Get(ctx, c, as.DirectoryVersion)
	if err != nil {
		return nil, err
	}
	ch, err := channelIn(snap, in.ChannelID, "channel_id")
	if err != nil {
		return nil, err
	}
	who, err := identify(in.Phone, in.Handle, ch.Kind, phone.ForAccount(as.HomeRegion, as.Convert8ToPlus7), in.Test)
	if err != nil {
		return nil, err
	}
	sit := &incomingSituation{settings: as, snap: snap, channel: ch, who: who, name: in.SenderName, test: in.Test,
		content: in.Content, gatewayID: in.GatewayID, external: r.external(as), now: r.clock()}
	if ch.Distribution == channel.DistributionFIRST_RESPONDER {
		// Candidates are settled before the client's rows exist.
		if err := r.loadAvailability(ctx, tx, sit); err != nil {
			return nil, err
		}
	}
	if sit.client, err = findClient(ctx, tx, who); err != nil || sit.client == nil {
		return sit, err
	}
	cl := sit.client
	if sit.deal, err = latestDeal(ctx, c, cl.ID); err != nil {
		return nil, err
	}
	if sit.chats, err = chatsOf(ctx, c, cl.ID); err != nil {
		return nil, err
	}
	if cl.ResponsibleID != nil {
		if sit.responsible, err = employeeIn(ctx, c, snap, *cl.ResponsibleID); err != nil {
			return nil, err
		}
	}
	return sit, nil
}

// lockCursor locks the channel's distribution cursor and reads it. The
// channel and its member list must be the ones the cursor goes with: edits
// take the same lock and move the directory version, so an unchanged
// version means the directory read is current.
func lockCursor(ctx context.Context, tx *ent.Tx, sit *incomingSituation) (*lockedCursor, error) {
	cur, version, err := lockCursorVersioned(ctx, tx, sit.channel.ID)
	if err != nil {
		return nil, err
	}
	if version != sit.snap.Version {
		// The directory changed since this transaction read it (a member
		// edit, a mode change): decide again, all of it, on what the lock
		// now holds.
		return nil, fmt.Errorf("directory version %d, read %d: %w", version, sit.snap.Version, store.ErrRetry)
	}
	return &lockedCursor{id: cur.ID, at: cursorOf(cur)}, nil
}

// persistClient writes what exists before the responsible is settled: a
// new client's rows, or a known client's new deal and its chat marked
// active; then the CRM's outbox jobs.
func (r *Router) persistClient(ctx context.Context, tx *ent.Tx, sit *incomingSituation, p *incomingPlan) (*incomingRows, error) {
	var rows *incomingRows
	if p.create != nil {
		created, err := r.w.createClient(ctx, tx, p.create)
		if store.IsUniqueViolation(err) {
			// Only the client's identity is unique among these rows: a
			// concurrent message of the same new client created it first,
			// and the retried transaction finds it.
			return nil, fmt.Errorf("client %s created concurrently: %w", sit.who.identity, store.ErrRetry)
		}
		if err != nil {
			return nil, err
		}
		rows = &incomingRows{client: created.client, deal: created.deal, chat: created.chat}
	} else {
		rows = &incomingRows{client: sit.client, deal: p.deal}
		if spec := p.entity; spec != nil {
			d, err := tx.Deal.Create().SetContactID(sit.client.ID).SetChannelID(sit.channel.ID).SetKind(spec.kind).
				SetNillablePipelineID(spec.pipelineID).SetNillableStageID(spec.stageID).
				SetNillableLeadStatusID(spec.leadStatusID).Save(ctx)
			if err != nil {
				return nil, err
			}
			rows.deal = d
		}
		var err error
		if rows.chat, err = touchChat(ctx, tx, sit.channel.ID, sit.client.ID, p.chat, rows.deal); err != nil {
			return nil, err
		}
	}
	as := sit.settings
	if p.crmNewClient {
		if err := r.crm.NewClient(ctx, tx, string(as.CrmKind), as.AccountID, rows.deal.ID); err != nil {
			return nil, err
		}
	}
	if p.crmLogged {
		if err := r.crm.Logged(ctx, tx, as, rows.chat.ID, now()); err != nil {
			return nil, err
		}
	}
	if p.crmResponsible {
		if err := r.crm.Responsible(ctx, tx, string(as.CrmKind), as.AccountID, sit.client.ID); err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// persistMessage stores the message with its decision and pushes, and the
// cursor and responsible when they move: the transaction's last statement.
func (r *Router) persistMessage(ctx context.Context, tx *ent.Tx, sit *incomingSituation, rows *incomingRows, o *incomingOutcome) (*pb.RoutingDecision, error) {
	if o.handsChanged {
		r.handsChanged(tx, sit.settings.AccountID, rows.client.ID)
	}
	// Stored with the message: the decision but the message itself and its
	// pushes, which a replay reads back from their own rows.
	decision, err := proto.Marshal(o.decision)
	if err != nil {
		return nil, err
	}
	msg, notes, err := r.w.storeIncoming(ctx, tx, &stored{accountID: sit.settings.AccountID, cursor: o.cursor,
		responsible: o.responsible, clientID: rows.client.ID, chatID: rows.chat.ID, content: sit.content,
		gatewayID: sit.gatewayID, decision: decision, pushes: o.pushes, history: o.history})
	if store.IsUniqueViolation(err) {
		// Only the message's gateway id is unique among these rows.
		return nil, errDuplicate
	}
	if err != nil {
		return nil, err
	}
	out := o.decision
	out.Message, out.Notifications = convert.Message(msg), notes
	return out, nil
}
