package routing

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/assignmentevent"
	"github.com/switchboardhq/switchboard/ent/message"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/access"
	"github.com/switchboardhq/switchboard/server/distribution"
	"github.com/switchboardhq/switchboard/server/notify"
	"github.com/switchboardhq/switchboard/server/outbox"
	"github.com/switchboardhq/switchboard/server/push"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/supervise"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// The reply deadline (SPEC §11). A client that distribution gives to a
// member of a channel with reply_deadline_minutes > 0 gets a durable
// River job, inserted in the assignment's own transaction, due that many
// minutes later. When it runs, under the channel's cursor lock and the
// client's row lock: if the client still has the responsible the deadline
// was set for, nothing else changed its hands since (the client's latest
// history entry is the one the deadline was set after), and nobody wrote
// on the chat since, the client passes to the next available member by
// the channel's mode (the current responsible skipped), with a new
// deadline; after max_passes passes, or when nobody else can take it, the
// channel's managers are told (MANAGER_ESCALATION) and the client keeps
// its responsible. The checks in the transaction make a stale or repeated
// job do nothing, whichever replica runs it and however often.
//
// On a FIRST_RESPONDER channel a new client's deadline is the candidates'
// window: if nobody claimed it (it still has no responsible) and nobody
// wrote on the chat in time, the channel's managers are told the same way.

// Jobs inserts outbox jobs in a transaction (outbox.Outbox).
type Jobs interface {
	Enqueue(ctx context.Context, tx *ent.Tx, args outbox.Args, opts *river.InsertOpts) (int64, error)
}

// SetJobs gives the router the outbox its reply deadlines are scheduled
// in. Without it no deadline is scheduled.
func (r *Router) SetJobs(j Jobs) { r.jobs = j }

// DeadlineArgs is one reply deadline.
type DeadlineArgs struct {
	outbox.Account
	ClientID    int64 `json:"client_id"`
	ChatID      int64 `json:"chat_id"`
	ChannelID   int64 `json:"channel_id"`
	Responsible int64 `json:"responsible"`
	// Due is when the deadline runs out, by the router's clock.
	Due time.Time `json:"due"`
	// AfterMessage is the chat's last message when the deadline was set:
	// an outgoing message after it is an answer.
	AfterMessage int64 `json:"after_message"`
	// AfterEvent is the client's last history entry when the deadline was
	// set: any later one (a transfer, a claim, a pass) makes it stale.
	AfterEvent int64 `json:"after_event"`
	// Pass is how many times the client passed before this deadline.
	Pass int `json:"pass"`
}

// Kind implements river.JobArgs.
func (DeadlineArgs) Kind() string { return "reply_deadline" }

// DeadlineWorker works DeadlineArgs with the router set once it exists.
type DeadlineWorker struct {
	river.WorkerDefaults[DeadlineArgs]
	Router *Router
}

// Work implements river.Worker. A job run before its deadline by the
// router's clock waits the rest.
func (w *DeadlineWorker) Work(ctx context.Context, job *river.Job[DeadlineArgs]) error {
	wait, err := w.Router.ReplyDeadline(ctx, job.Args)
	if err != nil {
		return err
	}
	if wait > 0 {
		return river.JobSnooze(wait)
	}
	return nil
}

// scheduleDeadline inserts the reply deadline of a client just given to
// responsible on chatID at (the router's clock), after the assignment's
// history entry is written. Nothing when the channel has no deadline.
func (r *Router) scheduleDeadline(ctx context.Context, tx *ent.Tx, ch *ent.Channel, accountID, clientID, chatID, responsible int64, at time.Time, pass int) error {
	// On a first-responder channel the deadline is the candidates' window
	// (responsible 0): nobody is responsible yet.
	if r.jobs == nil || ch.ReplyDeadlineMinutes <= 0 || (modeOf(ch.Distribution) == distribution.FirstResponder) != (responsible == 0) {
		return nil
	}
	c := tx.Client()
	lastMsg, err := c.Message.Query().Where(message.ChatID(chatID)).Order(ent.Desc(message.FieldID)).FirstID(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return err
	}
	lastEv, err := lastEvent(ctx, c, clientID)
	if err != nil {
		return err
	}
	due, _ := r.deadlineDue(ch, at)
	args := DeadlineArgs{Account: outbox.Account{AccountID: accountID}, ClientID: clientID, ChatID: chatID, ChannelID: ch.ID,
		Responsible: responsible, Due: due, AfterMessage: lastMsg, AfterEvent: lastEv, Pass: pass}
	// River runs jobs by the wall clock; the job checks the router's.
	_, err = r.jobs.Enqueue(ctx, tx, args, &river.InsertOpts{ScheduledAt: time.Now().Add(due.Sub(r.clock())), Queue: outbox.QueueDefault})
	return err
}

// deadlineDue is when a reply deadline started at at falls on ch; ok
// false when the channel has none (or the server runs no jobs).
func (r *Router) deadlineDue(ch *ent.Channel, at time.Time) (time.Time, bool) {
	if r.jobs == nil || ch.ReplyDeadlineMinutes <= 0 {
		return time.Time{}, false
	}
	return at.Add(time.Duration(ch.ReplyDeadlineMinutes) * time.Minute), true
}

// lastEvent is the id of the client's latest history entry (0: none).
func lastEvent(ctx context.Context, c *ent.Client, clientID int64) (int64, error) {
	id, err := c.AssignmentEvent.Query().Where(assignmentevent.ContactID(clientID)).
		Order(ent.Desc(assignmentevent.FieldID)).FirstID(ctx)
	if ent.IsNotFound(err) {
		return 0, nil
	}
	return id, err
}

// ReplyDeadline runs a reply deadline. Before its time by the router's
// clock it does nothing and returns how long is left.
func (r *Router) ReplyDeadline(ctx context.Context, a DeadlineArgs) (time.Duration, error) {
	ctx = tenant.NewContext(ctx, a.AccountID)
	if now := r.clock(); now.Before(a.Due) {
		return a.Due.Sub(now), nil
	}
	var told []*pb.NotificationDecision
	var moved bool
	err := r.st.Tx(ctx, func(tx *ent.Tx) error {
		var err error
		if told, moved, err = r.replyDeadline(ctx, tx, a); err != nil {
			return err
		}
		return r.faultAt(ctx, tx, "deadline")
	})
	if err != nil {
		return 0, err
	}
	if err := r.faultAt(ctx, nil, "deadline committed"); err != nil {
		return 0, err
	}
	r.told(ctx, told)
	if moved {
		r.chatsMoved(ctx)
	}
	return 0, nil
}

func (r *Router) replyDeadline(ctx context.Context, tx *ent.Tx, a DeadlineArgs) ([]*pb.NotificationDecision, bool, error) {
	c := tx.Client()
	snap, err := r.current(ctx, c)
	if err != nil {
		return nil, false, err
	}
	ch := snap.Channels[a.ChannelID]
	if ch == nil || ch.ReplyDeadlineMinutes <= 0 || (modeOf(ch.Distribution) == distribution.FirstResponder) != (a.Responsible == 0) {
		return nil, false, nil // turned off or the mode changed since
	}
	cur, version, err := lockCursorVersioned(ctx, tx, ch.ID)
	if err != nil {
		return nil, false, err
	}
	if version != snap.Version {
		return nil, false, fmt.Errorf("directory version %d, read %d: %w", version, snap.Version, store.ErrRetry)
	}
	cl, err := lockClient(ctx, c, a.ClientID)
	if ent.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if (cl.ResponsibleID == nil) != (a.Responsible == 0) || (cl.ResponsibleID != nil && *cl.ResponsibleID != a.Responsible) {
		return nil, false, nil // changed hands (or was claimed) since
	}
	if last, err := lastEvent(ctx, c, cl.ID); err != nil || last != a.AfterEvent {
		return nil, false, err // changed hands (and back), or this ran already
	}
	answered, err := c.Message.Query().Where(message.ChatID(a.ChatID), message.DirectionEQ(message.DirectionOUT),
		message.IDGT(a.AfterMessage)).Exist(ctx)
	if err != nil || answered {
		return nil, false, err
	}
	cht, err := c.Chat.Get(ctx, a.ChatID)
	if err != nil {
		return nil, false, err
	}
	sit := &incomingSituation{settings: snap.Settings, snap: snap, channel: ch, now: r.clock(), external: r.external(snap.Settings)}
	if err := r.loadAvailability(ctx, tx, sit); err != nil {
		return nil, false, err
	}
	view := &channelView{ch: ch, settings: snap.Settings, members: membersFrom(snap, ch.ID)}
	old := view.name(a.Responsible)
	if e := snap.Employees[a.Responsible]; old == "" && e != nil {
		old = e.Name
	}
	mode := modeOf(ch.Distribution)
	prev := a.Responsible
	base := fmt.Sprintf("%s did not answer within %d min", old, ch.ReplyDeadlineMinutes)
	var pushes []notify.Decision
	why := ""
	if a.Responsible == 0 {
		base = fmt.Sprintf("nobody claimed %s within %d min", cl.Name, ch.ReplyDeadlineMinutes)
	}
	if a.Responsible != 0 && a.Pass < ch.MaxPasses {
		present, skipped := view.present(sit.now, sit.loc, sit.open)
		for i := range present {
			if present[i].EmployeeID == prev {
				present[i].Absent = true
			}
		}
		pickNext := distribution.Next
		if ch.AbsentKeepTurn {
			pickNext = distribution.NextKeepingTurns
		}
		if pick, ok := pickNext(mode, present, cursorOf(cur)); ok {
			to := pick.EmployeeID
			why = fmt.Sprintf("%s; passed to %s (pass %d of %d)", base, pick.Name, a.Pass+1, ch.MaxPasses)
			if err := tx.Contact.UpdateOneID(cl.ID).SetResponsibleID(to).ClearClaimedAt().Exec(ctx); err != nil {
				return nil, false, err
			}
			r.handsChanged(tx, cl.AccountID, cl.ID)
			if sit.external && !cl.IsTest {
				if err := r.crm.Responsible(ctx, tx, string(snap.Settings.CrmKind), cl.AccountID, cl.ID); err != nil {
					return nil, false, err
				}
			}
			at := pick.Cursor
			if err := moveCursor(ctx, tx, cur.ID, at, 1); err != nil {
				return nil, false, err
			}
			if err := supervise.Record(ctx, tx, supervise.Event{Cause: assignmentevent.CauseREPLY_DEADLINE, ClientID: &cl.ID,
				ChannelID: &ch.ID, From: &prev, To: &to, Mode: string(ch.Distribution), Position: pick.Position,
				Actor: supervise.System, Explanation: why + skippedWords(skipped)}); err != nil {
				return nil, false, err
			}
			chats, err := chatsOf(ctx, c, cl.ID)
			if err != nil {
				return nil, false, err
			}
			cl.ResponsibleID = &to
			for _, d := range handover(snap, cl, chats, &prev, why) {
				if d.Reason == push.ChatRevoked {
					pushes = append(pushes, d)
				}
			}
			pushes = append(pushes, notify.Decision{EmployeeID: to, Reason: push.NewClientAssigned, ChatID: cht.ID,
				ContactID: cl.ID, ContactName: cl.Name, ChannelID: ch.ID, ChannelName: ch.Name, ChannelKind: string(ch.Kind),
				Explanation: fmt.Sprintf("%s on %s is yours: %s", cl.Name, ch.Name, why)})
			if err := r.scheduleDeadline(ctx, tx, ch, cl.AccountID, cl.ID, cht.ID, to, sit.now, a.Pass+1); err != nil {
				return nil, false, err
			}
			told, err := notify.Record(ctx, r.st, tx, pushes)
			return told, true, err
		}
	}
	// Escalation: the managers are told; the client keeps its responsible.
	var managers []int64
	var names []string
	for _, m := range view.members {
		if m.Role == access.Manager && m.Active {
			managers = append(managers, m.EmployeeID)
			names = append(names, m.Name)
		}
	}
	switch {
	case a.Responsible == 0:
		why = base + " on " + ch.Name
	case ch.MaxPasses == 0:
		why = base + "; the channel allows no passes"
	case a.Pass >= ch.MaxPasses:
		why = fmt.Sprintf("%s; passed %d of %d times already", base, a.Pass, ch.MaxPasses)
	default:
		why = base + "; nobody else could take the client"
	}
	if len(names) > 0 {
		why += "; managers told: " + joinNames(names)
	} else {
		why += "; the channel has no manager to tell"
	}
	ev := supervise.Event{Cause: assignmentevent.CauseREPLY_DEADLINE, ClientID: &cl.ID, ChannelID: &ch.ID,
		Mode: string(ch.Distribution), Actor: supervise.System, Explanation: why}
	if prev != 0 {
		ev.From, ev.To = &prev, &prev
	}
	if err := supervise.Record(ctx, tx, ev); err != nil {
		return nil, false, err
	}
	for _, id := range managers {
		pushes = append(pushes, notify.Decision{EmployeeID: id, Reason: push.ManagerEscalation, ChatID: cht.ID,
			ContactID: cl.ID, ContactName: cl.Name, ChannelID: ch.ID, ChannelName: ch.Name, ChannelKind: string(ch.Kind),
			Explanation: fmt.Sprintf("%s on %s: %s", cl.Name, ch.Name, why)})
	}
	told, err := notify.Record(ctx, r.st, tx, pushes)
	return told, false, err
}
