package routing

import (
	"context"
	"fmt"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/assignmentevent"
	"github.com/switchboardhq/switchboard/ent/chat"
	"github.com/switchboardhq/switchboard/ent/contact"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/distribution"
	"github.com/switchboardhq/switchboard/server/notify"
	"github.com/switchboardhq/switchboard/server/push"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/supervise"
)

// The waiting line (SPEC §11). A new client nobody on a ROUND_ROBIN or
// WEIGHTED channel could take is marked waiting on its chat
// (chats.waiting_since, the time it first wrote so). When someone may have
// become available — presence back ONLINE, settings saved, a deal closed —
// AssignWaiting hands the channel's waiting clients out, oldest first, by
// the channel's mode, as if each had just written: under the channel's
// cursor lock, each client taken only while it still has no responsible,
// so replicas draining at once never give one client twice or skip a
// turn.

// waitingBatch bounds the clients one transaction hands out.
const waitingBatch = 100

// AssignWaitingAll hands out the waiting clients of every channel of the
// context's account that has some. It returns how many were assigned.
func (r *Router) AssignWaitingAll(ctx context.Context) (int, error) {
	chs, err := r.st.Ent.Chat.Query().Where(chat.WaitingSinceNotNil()).Unique(true).Select(chat.FieldChannelID).Ints(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, ch := range chs {
		n, err := r.AssignWaiting(ctx, int64(ch))
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// AssignWaiting hands out a channel's waiting clients, oldest first, while
// someone can take them. It returns how many were assigned.
func (r *Router) AssignWaiting(ctx context.Context, channelID int64) (int, error) {
	total := 0
	for {
		var n int
		var more bool
		var told []*pb.NotificationDecision
		err := r.st.Tx(ctx, func(tx *ent.Tx) error {
			var err error
			if n, more, told, err = r.assignWaiting(ctx, tx, channelID); err != nil || n == 0 {
				return err
			}
			return r.faultAt(ctx, tx, "waiting")
		})
		if err != nil {
			return total, err
		}
		if n > 0 {
			if err := r.faultAt(ctx, nil, "waiting committed"); err != nil {
				return total, err
			}
		}
		r.told(ctx, told)
		if n > 0 {
			r.chatsMoved(ctx) // the waiting chats changed hands: counters move
		}
		total += n
		if !more {
			return total, nil
		}
	}
}

// assignWaiting hands out one batch; more reports a full batch assigned.
func (r *Router) assignWaiting(ctx context.Context, tx *ent.Tx, channelID int64) (int, bool, []*pb.NotificationDecision, error) {
	c := tx.Client()
	snap, err := r.current(ctx, c)
	if err != nil {
		return 0, false, nil, err
	}
	ch := snap.Channels[channelID]
	if ch == nil || !ch.InIntegration || modeOf(ch.Distribution) == distribution.FirstResponder {
		return 0, false, nil, nil
	}
	// Most calls find nobody waiting: say so without taking the lock.
	if any, err := c.Chat.Query().Where(chat.ChannelID(channelID), chat.WaitingSinceNotNil()).Exist(ctx); err != nil || !any {
		return 0, false, nil, err
	}
	cur, version, err := lockCursorVersioned(ctx, tx, channelID)
	if err != nil {
		return 0, false, nil, err
	}
	if version != snap.Version {
		return 0, false, nil, fmt.Errorf("directory version %d, read %d: %w", version, snap.Version, store.ErrRetry)
	}
	// Markers of clients someone took meanwhile (a claim, a transfer, a
	// message distributed) are dropped.
	if err := tx.Chat.Update().Where(chat.ChannelID(channelID), chat.WaitingSinceNotNil(),
		chat.HasContactWith(contact.ResponsibleIDNotNil())).ClearWaitingSince().Exec(ctx); err != nil {
		return 0, false, nil, err
	}
	waiting, err := c.Chat.Query().Where(chat.ChannelID(channelID), chat.WaitingSinceNotNil()).
		Order(ent.Asc(chat.FieldWaitingSince), ent.Asc(chat.FieldID)).Limit(waitingBatch).All(ctx)
	if err != nil || len(waiting) == 0 {
		return 0, false, nil, err
	}
	sit := &incomingSituation{settings: snap.Settings, snap: snap, channel: ch, now: r.clock(), external: r.external(snap.Settings)}
	if err := r.loadAvailability(ctx, tx, sit); err != nil {
		return 0, false, nil, err
	}
	view := &channelView{ch: ch, settings: snap.Settings, members: membersFrom(snap, ch.ID)}
	mode := modeOf(ch.Distribution)
	pickNext := distribution.Next
	if ch.AbsentKeepTurn {
		pickNext = distribution.NextKeepingTurns
	}
	at := cursorOf(cur)
	assigned := 0
	var pushes []notify.Decision
	for _, w := range waiting {
		present, skipped := view.present(sit.now, sit.loc, sit.open)
		pick, ok := pickNext(mode, present, at)
		if !ok {
			break
		}
		cl, err := lockClient(ctx, c, w.ContactID)
		if err != nil {
			return 0, false, nil, err
		}
		if cl.ResponsibleID != nil {
			continue // taken meanwhile; its marker goes next time
		}
		if err := tx.Contact.UpdateOneID(cl.ID).SetResponsibleID(pick.EmployeeID).ClearClaimedAt().Exec(ctx); err != nil {
			return 0, false, nil, err
		}
		if err := tx.Chat.UpdateOneID(w.ID).ClearWaitingSince().Exec(ctx); err != nil {
			return 0, false, nil, err
		}
		r.handsChanged(tx, cl.AccountID, cl.ID)
		if sit.external && !cl.IsTest {
			if err := r.crm.Responsible(ctx, tx, string(snap.Settings.CrmKind), cl.AccountID, cl.ID); err != nil {
				return 0, false, nil, err
			}
		}
		chats, err := chatsOf(ctx, c, cl.ID)
		if err != nil {
			return 0, false, nil, err
		}
		cl.ResponsibleID = &pick.EmployeeID
		why := pick.Explain(mode, len(view.members)) + skippedWords(skipped)
		to := pick.EmployeeID
		loc := sit.loc
		if loc == nil { // no working hours read: the account's zone was not needed
			loc = zone(snap.Settings.TimeZone)
		}
		if err := supervise.Record(ctx, tx, supervise.Event{Cause: assignmentevent.CauseDISTRIBUTION, ClientID: &cl.ID,
			ChannelID: &ch.ID, To: &to, Mode: string(ch.Distribution), Position: pick.Position, Actor: supervise.System,
			Explanation: fmt.Sprintf("%s waited since %s and was given to %s (%s)", cl.Name,
				w.WaitingSince.In(loc).Format("Mon 15:04 MST"), pick.Name, why)}); err != nil {
			return 0, false, nil, err
		}
		if err := r.scheduleDeadline(ctx, tx, ch, cl.AccountID, cl.ID, w.ID, to, sit.now, 0); err != nil {
			return 0, false, nil, err
		}
		// Whoever saw the unassigned chat and no longer does hears so; the
		// new responsible hears of this chat.
		for _, d := range handover(snap, cl, chats, nil, fmt.Sprintf("%s waited and was given to %s", cl.Name, pick.Name)) {
			if d.Reason == push.ChatRevoked {
				pushes = append(pushes, d)
			}
		}
		pushes = append(pushes, notify.Decision{EmployeeID: pick.EmployeeID, Reason: push.NewClientAssigned, ChatID: w.ID,
			ContactID: cl.ID, ContactName: cl.Name, ChannelID: ch.ID, ChannelName: ch.Name, ChannelKind: string(ch.Kind),
			Explanation: fmt.Sprintf("waiting client %s on %s is yours (%s)", cl.Name, ch.Name, why)})
		at = pick.Cursor
		if sit.open != nil {
			// The database counted the hand-out (a client whose deal closed
			// while it waited takes no place): read the counts again for
			// the next client.
			if sit.open, err = openClients(ctx, tx, sit.settings.AccountID, ch.ID); err != nil {
				return 0, false, nil, err
			}
		}
		assigned++
	}
	if assigned > 0 {
		if err := moveCursor(ctx, tx, cur.ID, at, assigned); err != nil {
			return 0, false, nil, err
		}
	}
	told, err := notify.Record(ctx, r.st, tx, pushes)
	if err != nil {
		return 0, false, nil, err
	}
	return assigned, assigned == waitingBatch, told, nil
}
