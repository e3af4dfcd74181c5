package routing

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/channel"
	"github.com/switchboardhq/switchboard/ent/deal"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/access"
	"github.com/switchboardhq/switchboard/server/convert"
	"github.com/switchboardhq/switchboard/server/directory/snapshot"
	"github.com/switchboardhq/switchboard/server/distribution"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/notify"
	"github.com/switchboardhq/switchboard/server/push"
)

// Every RPC that changes routing is a command: load reads what the rules
// need in the transaction, decide applies them (the functions of this file:
// plain values in, a plan out; no database, no context), persist writes
// the plan, CRM outbox jobs included. The rows here are ent's row structs,
// used as plain values.

// situation is what SPEC §4 found about a client before choosing its
// responsible.
type situation int

const (
	newClientSeen situation = iota + 1 // §4.2
	openDealSeen                       // §4.3
	allClosed                          // §4.4
	noDeal                             // §4.5
)

// incomingSituation is everything a client's message is decided on.
type incomingSituation struct {
	settings  *ent.AccountSettings
	snap      *snapshot.Snapshot
	channel   *ent.Channel
	who       sender
	name      string // the sender's name as the gateway gave it
	test      bool
	content   Content
	gatewayID string
	// external: the account's CRM hears of decisions through the outbox.
	external bool

	// client is the client as read (and locked); nil: a new client.
	client *ent.Contact
	// deal is the client's most recent open deal, else its most recently
	// closed one; nil: none.
	deal *ent.Deal
	// chats are the client's chats, by id.
	chats []*ent.Chat
	// responsible is the employee of client's responsible (nil: none).
	responsible *ent.Employee

	// cursor is the channel's distribution cursor, read under its lock
	// once persist has created the client's rows; only when the plan
	// distributes.
	cursor *lockedCursor

	// Availability (SPEC §11). now is the router's clock; loc the account's
	// time zone (read only when a member has working hours); open the
	// eligible members' open clients on the channel, read under the
	// cursor's lock (FIRST_RESPONDER: when loading), nil when no member has
	// a capacity.
	now  time.Time
	loc  *time.Location
	open map[int64]int
}

// lockedCursor is a channel's cursor row, read under its lock.
type lockedCursor struct {
	id int64
	at distribution.Cursor
}

// incomingPlan is what decideIncoming says about a client's message before
// the channel's cursor is read: what the client gets and how its
// responsible is settled.
type incomingPlan struct {
	sit    situation
	view   *channelView
	action pb.EntityAction

	// create: a new client's rows to create; nil for a known client.
	create *newClient
	// entity: a deal or lead to create for a known client; nil: none.
	entity *entitySpec
	// deal: the known client's deal the message joins; nil when created or
	// none.
	deal *ent.Deal
	// chat: the known client's chat on the channel, to mark active (and
	// point at the deal); nil: create one.
	chat *ent.Chat

	// assignment: the responsible's settlement, complete unless
	// distribute.
	assignment *pb.Assignment
	// responsible is the client's responsible after the message unless
	// distribute.
	responsible *int64
	// distribute: ROUND_ROBIN or WEIGHTED picks the responsible from the
	// channel's cursor (decideMessage).
	distribute bool

	// CRM outbox jobs, written before the cursor's lock is taken: a new
	// deal (with a new client's contact), the message for the CRM's feed,
	// and a known client's responsible changed by distribution.
	crmNewClient, crmLogged, crmResponsible bool
}

// incomingRows are the client's rows as persist left them before the
// cursor's lock: created or read, the chat marked active.
type incomingRows struct {
	client *ent.Contact
	deal   *ent.Deal // nil: none
	chat   *ent.Chat
}

// incomingOutcome is the whole decision about a client's message: the
// answer but the stored message and pushes, and the writes that store it.
type incomingOutcome struct {
	decision *pb.RoutingDecision
	// handsChanged: a known client changed hands; every replica forgets
	// its responsible once the transaction commits.
	handsChanged bool
	cursor       *cursorMove
	responsible  *responsibleMove
	// pushes: the message's, then CHAT_REVOKED to whoever lost a chat of a
	// known client handed on.
	pushes []notify.Decision
	// history: the assignment history's entry when the client's
	// responsible changes (nil: it does not).
	history *historyEntry
}

// historyEntry is how an incoming message's distribution changed a
// client's responsible, for the assignment history.
type historyEntry struct {
	channelID   int64
	mode        string // the channel's distribution mode
	position    int    // the assignee's place in the member list; 0: none
	explanation string
}

// decideIncoming applies SPEC §4 steps 1–5 as far as they go without the
// channel's distribution cursor.
func decideIncoming(sit *incomingSituation) *incomingPlan {
	ch := sit.channel
	p := &incomingPlan{view: &channelView{ch: ch, settings: sit.settings, members: membersFrom(sit.snap, ch.ID)}}
	spec := entityFor(sit.snap, ch)
	if sit.client == nil {
		name := sit.name
		if name == "" {
			name = sit.who.phone + sit.who.handle
		}
		p.sit = newClientSeen
		p.create = &newClient{accountID: sit.settings.AccountID, channelID: ch.ID, who: sit.who, name: name, test: sit.test, entity: spec}
		p.action = pb.EntityAction_ENTITY_ACTION_CREATED
		if spec == nil {
			p.action = pb.EntityAction_ENTITY_ACTION_CONTACT_ONLY
		}
	} else {
		p.sit, p.chat = noDeal, chatOn(sit.chats, ch.ID)
		switch d := sit.deal; {
		case d != nil && d.State == deal.StateOPEN:
			p.sit, p.action, p.deal = openDealSeen, pb.EntityAction_ENTITY_ACTION_ATTACHED_TO_OPEN, d
		case d != nil:
			p.sit = allClosed
			if ch.RepeatClientPolicy == channel.RepeatClientPolicyAPPEND_TO_LAST_CLOSED_DEAL {
				p.action, p.deal = pb.EntityAction_ENTITY_ACTION_ATTACHED_TO_LAST_CLOSED, d
			}
		}
		if p.action == pb.EntityAction_ENTITY_ACTION_UNSPECIFIED {
			p.entity, p.action = spec, pb.EntityAction_ENTITY_ACTION_CREATED
			if spec == nil {
				p.action = pb.EntityAction_ENTITY_ACTION_CONTACT_ONLY
			}
		}
	}
	p.settleResponsible(sit)

	// The CRM hears of a new deal (and of a new client's contact) after the
	// commit, through the outbox; the job reads the responsible then. The
	// built-in test client stays out of the CRM.
	if sit.external && !sit.test {
		p.crmNewClient = p.action == pb.EntityAction_ENTITY_ACTION_CREATED
		p.crmLogged = true
	}
	if sit.external && sit.client != nil && p.distribute {
		// Distribution gives the client to an eligible member, if there is
		// one; one that was responsible would have been kept.
		cands := distribution.Candidates(p.view.distribution())
		prev := sit.client.ResponsibleID
		p.crmResponsible = len(cands) > 0 && (prev == nil || !slices.Contains(cands, *prev))
	}
	return p
}

// chatOn returns the chat of chats on a channel, or nil.
func chatOn(chats []*ent.Chat, channelID int64) *ent.Chat {
	for _, c := range chats {
		if c.ChannelID == channelID {
			return c
		}
	}
	return nil
}

// settleResponsible keeps the client's responsible or hands it out (SPEC
// §4 steps 2–5, §5), as far as that goes without the channel's cursor.
func (p *incomingPlan) settleResponsible(sit *incomingSituation) {
	view := p.view
	asg := &pb.Assignment{Mode: convert.EnumToPB[pb.DistributionMode](pb.DistributionMode_value, "DISTRIBUTION_MODE_", view.ch.Distribution)}
	p.assignment = asg
	if cl := sit.client; cl != nil && cl.ResponsibleID != nil {
		e := sit.responsible
		keep, why := true, "the client already had a responsible"
		switch p.sit {
		case openDealSeen:
			why = "the client has an open deal"
		case allClosed:
			// A repeat client keeps its responsible only if it can still
			// write on this channel.
			keep = view.decideFor(e, cl.ResponsibleID).Write
			why = "it can still write on " + view.ch.Name
		}
		if keep {
			asg.Source = pb.ResponsibleSource_RESPONSIBLE_SOURCE_KEPT
			asg.ResponsibleEmployeeId = ids.Format(*cl.ResponsibleID)
			asg.Explanation = fmt.Sprintf("kept: %s stays responsible (%s)", e.Name, why)
			p.responsible = cl.ResponsibleID
			return
		}
	}
	if modeOf(view.ch.Distribution) != distribution.FirstResponder {
		p.distribute = true
		return
	}
	present, skipped := view.present(sit.now, sit.loc, sit.open)
	asg.Skipped = skipped
	cands := distribution.Candidates(present)
	if len(cands) == 0 {
		nobody(asg, view, present)
		return
	}
	asg.Source = pb.ResponsibleSource_RESPONSIBLE_SOURCE_PENDING_FIRST_RESPONDER
	names := make([]string, len(cands))
	for i, id := range cands {
		asg.CandidateEmployeeIds = append(asg.CandidateEmployeeIds, ids.Format(id))
		names[i] = view.name(id)
	}
	asg.Explanation = fmt.Sprintf("FIRST_RESPONDER: %d candidates (%s); the first whose reply is authorized becomes responsible",
		len(cands), joinNames(names)) + skippedWords(skipped)
}

// decideMessage completes the decision once the client's rows exist (and,
// when distributing, the channel's cursor is read): the responsible, who
// sees the chat, the pushes and their explanations (SPEC §4 step 6, §5,
// §6).
func decideMessage(sit *incomingSituation, p *incomingPlan, rows *incomingRows) *incomingOutcome {
	view := p.view
	asg := proto.Clone(p.assignment).(*pb.Assignment)
	out := &incomingOutcome{decision: &pb.RoutingDecision{NewClient: sit.client == nil, EntityAction: p.action, Assignment: asg}}
	cl := *rows.client // the client as this message leaves it
	var prev *int64
	if sit.client != nil {
		prev = sit.client.ResponsibleID
	}
	next := p.responsible
	if p.distribute {
		mode := modeOf(view.ch.Distribution)
		present, skipped := view.present(sit.now, sit.loc, sit.open)
		asg.Skipped = skipped
		pickNext := distribution.Next
		if view.ch.AbsentKeepTurn {
			pickNext = distribution.NextKeepingTurns
		}
		if pick, ok := pickNext(mode, present, sit.cursor.at); ok {
			next = &pick.EmployeeID
			asg.Source = pb.ResponsibleSource_RESPONSIBLE_SOURCE_DISTRIBUTED
			asg.ResponsibleEmployeeId = ids.Format(pick.EmployeeID)
			asg.Position, asg.Turn, asg.Weight = int32(pick.Position), int32(pick.Turn), int32(pick.Weight)
			asg.Explanation = pick.Explain(mode, len(view.members)) + skippedWords(skipped)
			out.cursor = &cursorMove{id: sit.cursor.id, next: pick.Cursor}
		} else {
			nobody(asg, view, present)
		}
	}
	// A distributed responsible is written whatever the client had; any
	// other only when it changes.
	if out.cursor != nil || !sameEmployee(prev, next) {
		out.responsible = &responsibleMove{from: prev, to: next}
		cl.ResponsibleID, cl.ClaimedAt = next, nil
	}
	changed := sit.client != nil && !sameEmployee(prev, next)
	out.handsChanged = changed
	if out.responsible != nil && !sameEmployee(prev, next) {
		out.history = &historyEntry{channelID: view.ch.ID, mode: string(view.ch.Distribution),
			position: int(asg.Position), explanation: asg.Explanation}
	}

	// Who sees it, and the pushes.
	d := out.decision
	viewers, decisions := view.viewers(cl.ResponsibleID)
	for i, m := range view.members {
		if decisions[i].View {
			d.Viewers = append(d.Viewers, &pb.ViewerAccess{EmployeeId: ids.Format(m.EmployeeID), EmployeeName: m.Name, Access: accessToPB(decisions[i])})
		}
	}
	pm := push.Message{NotifyManagersAll: sit.settings.NotifyManagersAllMessages, Members: viewers,
		Assigned: asg.Source == pb.ResponsibleSource_RESPONSIBLE_SOURCE_DISTRIBUTED}
	if cl.ResponsibleID != nil {
		pm.Responsible = *cl.ResponsibleID
	}
	if asg.Source == pb.ResponsibleSource_RESPONSIBLE_SOURCE_PENDING_FIRST_RESPONDER {
		for _, id := range asg.CandidateEmployeeIds {
			pm.Candidates = append(pm.Candidates, ids.Value(id))
		}
	}
	ch := view.ch
	preview := notify.Preview(sit.content.Text, len(sit.content.Attachments))
	for _, p := range push.ForMessage(pm) {
		if p.Reason == push.GeneralChat {
			d.PostedToGeneralChat = true
		}
		out.pushes = append(out.pushes, notify.Decision{
			EmployeeID: p.EmployeeID, Reason: p.Reason, ChatID: rows.chat.ID, ContactID: cl.ID, ContactName: cl.Name,
			ChannelID: ch.ID, ChannelName: ch.Name, ChannelKind: string(ch.Kind), Preview: preview,
			Explanation: explainPush(p, cl.Name, ch.Name, asg),
		})
	}
	if changed {
		// A reassignment: whoever lost the client's chats hears so (SPEC
		// §6); the new responsible hears of it through the message's push.
		chats := sit.chats
		if chatOn(chats, ch.ID) == nil {
			chats = append(slices.Clone(chats), rows.chat)
			slices.SortFunc(chats, func(a, b *ent.Chat) int { return cmp.Compare(a.ID, b.ID) })
		}
		out.pushes = append(out.pushes, lostChats(sit.snap, &cl, chats, prev, rows.chat.ID)...)
	}
	d.Client = convert.Client(&cl)
	d.Chat = convert.Chat(rows.chat)
	if rows.deal != nil {
		d.Deal = convert.Deal(rows.deal)
	}
	return out
}

// lostChats is the CHAT_REVOKED pushes of a client handed from prev to its
// current responsible by an incoming message on chat msgChat: one per
// employee who lost a chat of the client (about msgChat if that is one).
func lostChats(snap *snapshot.Snapshot, cl *ent.Contact, chats []*ent.Chat, prev *int64, msgChat int64) []notify.Decision {
	var out []notify.Decision
	at := map[int64]int{} // employee → index in out
	for _, d := range handover(snap, cl, chats, prev, fmt.Sprintf("%s wrote again and was handed on", cl.Name)) {
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
	return out
}

// handover decides the pushes of a change of cl's responsible from prev to
// its current one (a claim, a transfer, a repeat client handed on), per
// chat of the client (chats, by id): CHAT_REVOKED to those who could view
// the chat before and cannot now, NEW_CLIENT_ASSIGNED to the new
// responsible (once, on the first chat it can view).
func handover(snap *snapshot.Snapshot, cl *ent.Contact, chats []*ent.Chat, prev *int64, what string) []notify.Decision {
	var next int64
	if cl.ResponsibleID != nil {
		next = *cl.ResponsibleID
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
		after, _ := view.viewers(cl.ResponsibleID)
		for _, p := range push.ForChange(before, after, next) {
			expl := fmt.Sprintf("%s: you can no longer see the chat on %s", what, ch.Name)
			if p.Reason == push.NewClientAssigned {
				if assigned {
					continue
				}
				assigned = true
				expl = fmt.Sprintf("%s: %s is now yours", what, cl.Name)
			}
			out = append(out, notify.Decision{
				EmployeeID: p.EmployeeID, Reason: p.Reason, ChatID: cht.ID, ContactID: cl.ID, ContactName: cl.Name,
				ChannelID: ch.ID, ChannelName: ch.Name, ChannelKind: string(ch.Kind), Explanation: expl,
			})
		}
	}
	return out
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

func sameEmployee(a, b *int64) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// nobody settles a new client nobody can take: none eligible (SPEC §5),
// or eligible members but none available now (§11): the client waits in
// the general chat.
func nobody(asg *pb.Assignment, view *channelView, present []distribution.Member) {
	for _, m := range present {
		if m.Eligible {
			asg.Source = pb.ResponsibleSource_RESPONSIBLE_SOURCE_NONE_AVAILABLE
			asg.Explanation = fmt.Sprintf("nobody on %s can take a new client now%s: the client waits in the general chat", view.ch.Name, skippedWords(asg.Skipped))
			return
		}
	}
	noneEligible(asg, view)
}

// skippedWords lists who was skipped and why: "; skipped: Tony Stark:
// outside working hours (…); Bruce Wayne: at capacity 20/20".
func skippedWords(skipped []*pb.SkippedMember) string {
	if len(skipped) == 0 {
		return ""
	}
	out := "; skipped: "
	for i, s := range skipped {
		if i > 0 {
			out += "; "
		}
		out += s.Explanation
	}
	return out
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
