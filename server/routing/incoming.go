package routing

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/channel"
	"github.com/switchboardhq/switchboard/ent/contact"
	"github.com/switchboardhq/switchboard/ent/message"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/access"
	"github.com/switchboardhq/switchboard/server/convert"
	"github.com/switchboardhq/switchboard/server/directory/snapshot"
	"github.com/switchboardhq/switchboard/server/distribution"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/notify"
	"github.com/switchboardhq/switchboard/server/phone"
	"github.com/switchboardhq/switchboard/server/push"
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
	ct, err := c.Contact.Get(ctx, cht.ContactID)
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
		return slices.Contains(phone.Forms(who.phone), ct.Identity), nil
	}
	return who.identity == ct.Identity, nil
}

// situation is what SPEC §4 found about a client before choosing its
// responsible.
type situation int

const (
	newClient    situation = iota + 1 // §4.2
	openDealSeen                      // §4.3
	allClosed                         // §4.4
	noDeal                            // §4.5
)

func (r *Router) routeIncoming(ctx context.Context, tx *ent.Tx, in Incoming) (*pb.RoutingDecision, error) {
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

	// 1–2. The client, new or known.
	ct, err := findContact(ctx, tx, who)
	if err != nil {
		return nil, err
	}
	created := ct == nil
	out := &pb.RoutingDecision{NewClient: created}

	// 2–5. Its deal or lead, and its chat on this channel.
	var dl *ent.Deal
	var cht *ent.Chat
	sit := newClient
	if created {
		nc, err := r.createClient(ctx, tx, as.AccountID, snap, ch, who, in.SenderName, in.Test)
		if err != nil {
			return nil, err
		}
		ct, dl, cht = nc.contact, nc.deal, nc.chat
		out.EntityAction = pb.EntityAction_ENTITY_ACTION_CREATED
		if dl == nil {
			out.EntityAction = pb.EntityAction_ENTITY_ACTION_CONTACT_ONLY
		}
	} else {
		if dl, err = openDeal(ctx, c, ct.ID); err != nil {
			return nil, err
		}
		switch {
		case dl != nil:
			sit, out.EntityAction = openDealSeen, pb.EntityAction_ENTITY_ACTION_ATTACHED_TO_OPEN
		default:
			if dl, err = lastClosedDeal(ctx, c, ct.ID); err != nil {
				return nil, err
			}
			sit = noDeal
			if dl != nil {
				sit = allClosed
				if ch.RepeatClientPolicy == channel.RepeatClientPolicyAPPEND_TO_LAST_CLOSED_DEAL {
					out.EntityAction = pb.EntityAction_ENTITY_ACTION_ATTACHED_TO_LAST_CLOSED
				} else {
					dl = nil
				}
			}
		}
		if out.EntityAction == pb.EntityAction_ENTITY_ACTION_UNSPECIFIED {
			if dl, err = createEntity(ctx, tx, snap, ch, ct.ID); err != nil {
				return nil, err
			}
			out.EntityAction = pb.EntityAction_ENTITY_ACTION_CREATED
			if dl == nil {
				out.EntityAction = pb.EntityAction_ENTITY_ACTION_CONTACT_ONLY
			}
		}
		if cht, err = upsertChat(ctx, tx, ch.ID, ct.ID, dl); err != nil {
			return nil, err
		}
	}

	// The CRM hears of a new deal (and of a new client's contact) after
	// the commit, through the outbox; the job reads the responsible then.
	// The built-in test client stays out of the CRM.
	if r.external(as) && !in.Test {
		if dl != nil && out.EntityAction == pb.EntityAction_ENTITY_ACTION_CREATED {
			if err := r.crm.NewClient(ctx, tx, string(as.CrmKind), as.AccountID, dl.ID); err != nil {
				return nil, err
			}
		}
		if err := r.crm.Logged(ctx, tx, as, cht.ID, now()); err != nil {
			return nil, err
		}
	}

	// 2, 4, 5. The responsible: kept, or distributed (SPEC §5). Everything
	// from here to the commit may run under the channel's cursor lock, so
	// it is kept short.
	view := &channelView{ch: ch, settings: as, members: membersFrom(snap, ch.ID)}
	before := ct.ResponsibleID
	asg, moved, err := r.settleResponsible(ctx, tx, snap, view, ct, sit)
	if err != nil {
		return nil, err
	}
	out.Assignment = asg
	var revoked []notify.Decision
	if !created && !sameEmployee(before, ct.ResponsibleID) {
		r.handsChanged(tx, as.AccountID, ct.ID)
		// A reassignment: whoever lost the client's chats hears so (SPEC
		// §6); the new responsible hears of it through the message's push.
		if revoked, err = lostChats(ctx, c, snap, ct, before, cht.ID); err != nil {
			return nil, err
		}
		if r.external(as) && ct.ResponsibleID != nil {
			if err := r.crm.Responsible(ctx, tx, string(as.CrmKind), as.AccountID, ct.ID); err != nil {
				return nil, err
			}
		}
	}

	// 6. Who sees it, the pushes, and the message with its decision.
	viewers, decisions := view.viewers(ct.ResponsibleID)
	for i, m := range view.members {
		if decisions[i].View {
			out.Viewers = append(out.Viewers, &pb.ViewerAccess{EmployeeId: ids.Format(m.EmployeeID), EmployeeName: m.Name, Access: accessToPB(decisions[i])})
		}
	}
	pm := push.Message{NotifyManagersAll: as.NotifyManagersAllMessages, Members: viewers,
		Assigned: asg.Source == pb.ResponsibleSource_RESPONSIBLE_SOURCE_DISTRIBUTED}
	if ct.ResponsibleID != nil {
		pm.Responsible = *ct.ResponsibleID
	}
	if asg.Source == pb.ResponsibleSource_RESPONSIBLE_SOURCE_PENDING_FIRST_RESPONDER {
		for _, id := range asg.CandidateEmployeeIds {
			pm.Candidates = append(pm.Candidates, ids.Value(id))
		}
	}
	pushes := push.ForMessage(pm)
	for _, p := range pushes {
		if p.Reason == push.GeneralChat {
			out.PostedToGeneralChat = true
		}
	}
	out.Client = convert.Client(ct)
	out.Chat = convert.Chat(cht)
	if dl != nil {
		out.Deal = convert.Deal(dl)
	}
	// Stored with the message: the decision but the message itself and its
	// pushes, which a replay reads back from their own rows.
	decision, err := proto.Marshal(out)
	if err != nil {
		return nil, err
	}
	rows := make([]notify.Decision, 0, len(pushes))
	preview := notify.Preview(in.Content.Text, len(in.Content.Attachments))
	for _, p := range pushes {
		rows = append(rows, notify.Decision{
			EmployeeID: p.EmployeeID, Reason: p.Reason, ChatID: cht.ID, ContactID: ct.ID, ContactName: ct.Name,
			ChannelID: ch.ID, ChannelName: ch.Name, ChannelKind: string(ch.Kind), Preview: preview,
			Explanation: explainPush(p, ct.Name, ch.Name, asg),
		})
	}
	msg, notes, err := r.store(ctx, tx, &stored{accountID: as.AccountID, assign: moved, contact: ct,
		chatID: cht.ID, content: in.Content, gatewayID: in.GatewayID, decision: decision, pushes: append(rows, revoked...)})
	if err != nil {
		return nil, err
	}
	out.Message, out.Notifications = convert.Message(msg), notes
	return out, nil
}

// lostChats is the CHAT_REVOKED pushes of a client handed from prev to its
// current responsible by an incoming message on chat msgChat: one per
// employee who lost a chat of the client (about msgChat if that is one).
func lostChats(ctx context.Context, c *ent.Client, snap *snapshot.Snapshot, ct *ent.Contact, prev *int64, msgChat int64) ([]notify.Decision, error) {
	all, err := handover(ctx, c, snap, ct, prev, fmt.Sprintf("%s wrote again and was handed on", ct.Name))
	if err != nil {
		return nil, err
	}
	var out []notify.Decision
	at := map[int64]int{} // employee → index in out
	for _, d := range all {
		if d.Reason != push.ChatRevoked {
			continue
		}
		if i, ok := at[d.EmployeeID]; !ok {
			at[d.EmployeeID] = len(out)
			out = append(out, d)
		} else if d.ChatID == msgChat {
			out[i] = d
		}
	}
	return out, nil
}

// settleResponsible keeps the client's responsible or distributes it
// (SPEC §4 steps 2–5, §5) and says why. When distributing it makes sure the
// view's member list is the one the channel's cursor goes with, holds the
// cursor's lock, and returns the pick for store to write; ct has its new
// responsible already.
func (r *Router) settleResponsible(ctx context.Context, tx *ent.Tx, snap *snapshot.Snapshot, view *channelView, ct *ent.Contact, sit situation) (*pb.Assignment, *distributed, error) {
	c := tx.Client()
	mode := modeOf(view.ch.Distribution)
	asg := &pb.Assignment{Mode: convert.EnumToPB[pb.DistributionMode](pb.DistributionMode_value, "DISTRIBUTION_MODE_", view.ch.Distribution)}
	if ct.ResponsibleID != nil {
		e, err := employeeIn(ctx, c, snap, *ct.ResponsibleID)
		if err != nil {
			return nil, nil, err
		}
		keep, why := true, "the client already had a responsible"
		switch sit {
		case openDealSeen:
			why = "the client has an open deal"
		case allClosed:
			// A repeat client keeps its responsible only if it can still
			// write on this channel.
			keep = view.decideFor(e, ct.ResponsibleID).Write
			why = "it can still write on " + view.ch.Name
		}
		if keep {
			asg.Source = pb.ResponsibleSource_RESPONSIBLE_SOURCE_KEPT
			asg.ResponsibleEmployeeId = ids.Format(*ct.ResponsibleID)
			asg.Explanation = fmt.Sprintf("kept: %s stays responsible (%s)", e.Name, why)
			return asg, nil, nil
		}
	}
	if mode == distribution.FirstResponder {
		if err := setResponsible(ctx, tx, ct, nil); err != nil {
			return nil, nil, err
		}
		cands := distribution.Candidates(view.distribution())
		if len(cands) == 0 {
			return noneEligible(asg, view), nil, nil
		}
		asg.Source = pb.ResponsibleSource_RESPONSIBLE_SOURCE_PENDING_FIRST_RESPONDER
		names := make([]string, len(cands))
		for i, id := range cands {
			asg.CandidateEmployeeIds = append(asg.CandidateEmployeeIds, ids.Format(id))
			names[i] = view.name(id)
		}
		asg.Explanation = fmt.Sprintf("FIRST_RESPONDER: %d candidates (%s); the first whose reply is authorized becomes responsible",
			len(cands), joinNames(names))
		return asg, nil, nil
	}

	// ROUND_ROBIN / WEIGHTED: under the channel's cursor lock, the channel
	// and its member list must be the ones the cursor goes with. Edits take
	// the same lock and move the directory version, so an unchanged version
	// means the snapshot is current.
	cur, version, err := distribution.LockVersioned(ctx, tx, view.ch.ID)
	if err != nil {
		return nil, nil, err
	}
	if version != snap.Version {
		// The directory changed since this transaction read it (a member
		// edit, a mode change): decide again, all of it, on what the lock
		// now holds.
		return nil, nil, fmt.Errorf("directory version %d, read %d: %w", version, snap.Version, store.ErrRetry)
	}
	pick, ok := distribution.Next(mode, view.distribution(), distribution.CursorOf(cur))
	if !ok {
		if err := setResponsible(ctx, tx, ct, nil); err != nil {
			return nil, nil, err
		}
		return noneEligible(asg, view), nil, nil
	}
	prev := ct.ResponsibleID
	ct.ResponsibleID, ct.ClaimedAt = &pick.EmployeeID, nil
	asg.Source = pb.ResponsibleSource_RESPONSIBLE_SOURCE_DISTRIBUTED
	asg.ResponsibleEmployeeId = ids.Format(pick.EmployeeID)
	asg.Position, asg.Turn, asg.Weight = int32(pick.Position), int32(pick.Turn), int32(pick.Weight)
	asg.Explanation = pick.Explain(mode, len(view.members))
	return asg, &distributed{cursor: cur, pick: pick, prev: prev}, nil
}

func sameEmployee(a, b *int64) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// setResponsible makes id (nil: nobody) the client's responsible, in the
// store and in ct, if the stored one is still ct's (else errResponsibleMoved);
// a distributed responsible is not a claim.
func setResponsible(ctx context.Context, tx *ent.Tx, ct *ent.Contact, id *int64) error {
	if sameEmployee(id, ct.ResponsibleID) {
		return nil
	}
	upd := tx.Contact.Update().Where(contact.ID(ct.ID), responsibleIs(ct.ResponsibleID)).ClearClaimedAt()
	if id == nil {
		upd = upd.ClearResponsibleID()
	} else {
		upd = upd.SetResponsibleID(*id)
	}
	n, err := upd.Save(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return errResponsibleMoved
	}
	ct.ResponsibleID, ct.ClaimedAt = id, nil
	return nil
}

func noneEligible(asg *pb.Assignment, view *channelView) *pb.Assignment {
	asg.Source = pb.ResponsibleSource_RESPONSIBLE_SOURCE_NONE_ELIGIBLE
	asg.Explanation = fmt.Sprintf("nobody on %s is eligible for new clients (receives new clients, read-write, sales rep or manager, active): the message goes to the general chat", view.ch.Name)
	return asg
}

func joinNames(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}

func explainPush(p push.Push, client, channel string, asg *pb.Assignment) string {
	switch p.Reason {
	case push.Responsible:
		return fmt.Sprintf("message from your client %s on %s", client, channel)
	case push.NewClientAssigned:
		return fmt.Sprintf("new client %s on %s is yours (%s)", client, channel, asg.Explanation)
	case push.NewClientCandidate:
		return fmt.Sprintf("new client %s on %s: you are a first-responder candidate; the first to reply gets the client", client, channel)
	case push.ManagerAllMessages:
		return fmt.Sprintf("message from %s on %s: you manage the channel and managers are notified of all messages", client, channel)
	case push.GeneralChat:
		if asg.ResponsibleEmployeeId == "" && len(asg.CandidateEmployeeIds) == 0 {
			return fmt.Sprintf("nobody is responsible for %s on %s", client, channel)
		}
		return fmt.Sprintf("message from %s on %s", client, channel)
	}
	return ""
}

// accessToPB converts an access decision.
func accessToPB(d access.Decision) *pb.AccessDecision {
	return &pb.AccessDecision{
		CanView:     d.View,
		CanWrite:    d.Write,
		WriteClaims: d.Claims,
		Rule:        pb.AccessRule(d.Rule),
		Explanation: d.Explanation,
	}
}
