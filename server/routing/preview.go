package routing

import (
	"context"
	"slices"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/accountsettings"
	"github.com/switchboardhq/switchboard/ent/channel"
	"github.com/switchboardhq/switchboard/ent/chat"
	"github.com/switchboardhq/switchboard/ent/distributioncursor"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/access"
	"github.com/switchboardhq/switchboard/server/directory/snapshot"
	"github.com/switchboardhq/switchboard/server/distribution"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/push"
)

// Outlook is what the rules say, under one directory, about some chats and
// the channels' next new clients: a preview compares the outlook of the
// stored settings with that of a proposal, both read in one transaction
// (the proposal saved in it and rolled back). It uses the very functions
// routing decides with.
type Outlook struct {
	chats []*ent.Chat
	// access: chat → employee → what the employee may do (only those who
	// see it).
	access map[int64]map[int64]access.Decision
	// pushes: chat → the pushes its last message would make.
	pushes map[int64][]push.Push
	// next: channel → the responsible of each next new client (0: none);
	// candidates: channel → FIRST_RESPONDER's candidates.
	next       map[int64][]int64
	candidates map[int64][]int64
	channels   []int64
}

// RecentChats reads the account's n most recently active chats with their
// clients.
func RecentChats(ctx context.Context, c *ent.Client, n int) ([]*ent.Chat, error) {
	return c.Chat.Query().WithContact().Order(ent.Desc(chat.FieldLastMessageAt), ent.Desc(chat.FieldID)).Limit(n).All(ctx)
}

// Look reads the directory as c's transaction sees it now (never from the
// replica's cache: it may be a proposal about to be rolled back) and
// applies the rules to chats and to the next k new clients of each channel
// in the integration, from its cursor.
func Look(ctx context.Context, c *ent.Client, chats []*ent.Chat, k int) (*Outlook, error) {
	as, err := c.AccountSettings.Query().Select(accountsettings.FieldDirectoryVersion).Only(ctx)
	if err != nil {
		return nil, err
	}
	snap, err := snapshot.NewCache().Get(ctx, c, as.DirectoryVersion)
	if err != nil {
		return nil, err
	}
	out := &Outlook{chats: chats, access: map[int64]map[int64]access.Decision{}, pushes: map[int64][]push.Push{},
		next: map[int64][]int64{}, candidates: map[int64][]int64{}}
	views := map[int64]*channelView{}
	viewOf := func(id int64) *channelView {
		if v, ok := views[id]; ok {
			return v
		}
		ch := snap.Channels[id]
		var v *channelView
		if ch != nil {
			v = &channelView{ch: ch, settings: snap.Settings, members: membersFrom(snap, id)}
		}
		views[id] = v
		return v
	}
	for _, cht := range chats {
		v := viewOf(cht.ChannelID)
		if v == nil {
			continue
		}
		var responsible *int64
		if cl := cht.Edges.Contact; cl != nil {
			responsible = cl.ResponsibleID
		}
		seen := map[int64]access.Decision{}
		for _, e := range snap.Employees {
			if d := v.decideFor(e, responsible); d.View {
				seen[e.ID] = d
			}
		}
		out.access[cht.ID] = seen
		viewers, _ := v.viewers(responsible)
		m := push.Message{NotifyManagersAll: snap.Settings.NotifyManagersAllMessages, Members: viewers}
		if responsible != nil {
			m.Responsible = *responsible
		} else if v.ch.Distribution == channel.DistributionFIRST_RESPONDER {
			m.Candidates = eligibleOf(v)
		}
		out.pushes[cht.ID] = push.ForMessage(m)
	}
	for id, ch := range snap.Channels {
		if !ch.InIntegration {
			continue
		}
		out.channels = append(out.channels, id)
		v := viewOf(id)
		if ch.Distribution == channel.DistributionFIRST_RESPONDER {
			out.candidates[id] = eligibleOf(v)
			out.next[id] = make([]int64, k)
			continue
		}
		var cur distribution.Cursor
		row, err := c.DistributionCursor.Query().Where(distributioncursor.ChannelID(id)).Only(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return nil, err
		}
		if row != nil {
			cur = cursorOf(row)
		}
		mode, members := modeOf(ch.Distribution), v.distribution()
		next := make([]int64, k)
		for i := range next {
			pick, ok := distribution.Next(mode, members, cur)
			if !ok {
				break
			}
			next[i], cur = pick.EmployeeID, pick.Cursor
		}
		out.next[id] = next
	}
	return out, nil
}

// eligibleOf is a channel's members who take part in distribution (SPEC
// §5): under FIRST_RESPONDER, the candidates.
func eligibleOf(v *channelView) []int64 {
	var out []int64
	for _, m := range v.distribution() {
		if m.Eligible {
			out = append(out, m.EmployeeID)
		}
	}
	return out
}

func levelPB(d access.Decision) pb.AccessLevel {
	switch {
	case d.Write:
		return pb.AccessLevel_ACCESS_LEVEL_WRITE
	case d.View:
		return pb.AccessLevel_ACCESS_LEVEL_VIEW
	}
	return pb.AccessLevel_ACCESS_LEVEL_NONE
}

// Compare says what changes from before to after: access to each chat
// (only differences, by chat then employee id), the next new clients of
// every channel, and the pushes of the chats whose access changes.
func Compare(before, after *Outlook) *pb.PreviewSettingsResponse {
	out := &pb.PreviewSettingsResponse{ChatsCompared: int32(len(before.chats))}
	for _, cht := range before.chats {
		b, a := before.access[cht.ID], after.access[cht.ID]
		emps := map[int64]bool{}
		for id := range b {
			emps[id] = true
		}
		for id := range a {
			emps[id] = true
		}
		changed := false
		for _, id := range sortedIDs(emps) {
			lb, la := levelPB(b[id]), levelPB(a[id])
			if lb == la {
				continue
			}
			changed = true
			out.AccessChanges = append(out.AccessChanges, &pb.AccessChange{ChatId: ids.Format(cht.ID),
				ChannelId: ids.Format(cht.ChannelID), ClientId: ids.Format(cht.ContactID), EmployeeId: ids.Format(id),
				Before: lb, After: la})
		}
		if changed {
			out.Pushes = append(out.Pushes, &pb.PushPreview{ChatId: ids.Format(cht.ID),
				Before: pushesPB(before.pushes[cht.ID]), After: pushesPB(after.pushes[cht.ID])})
		}
	}
	chans := map[int64]bool{}
	for _, id := range before.channels {
		chans[id] = true
	}
	for _, id := range after.channels {
		chans[id] = true
	}
	for _, id := range sortedIDs(chans) {
		out.NextClients = append(out.NextClients, &pb.NextClients{ChannelId: ids.Format(id),
			BeforeEmployeeIds: idsPB(before.next[id]), AfterEmployeeIds: idsPB(after.next[id]),
			BeforeCandidateIds: idsPB(before.candidates[id]), AfterCandidateIds: idsPB(after.candidates[id])})
	}
	return out
}

func pushesPB(ps []push.Push) []*pb.PushTarget {
	out := make([]*pb.PushTarget, len(ps))
	for i, p := range ps {
		out[i] = &pb.PushTarget{Reason: pb.NotificationReason(pb.NotificationReason_value["NOTIFICATION_REASON_"+p.Reason.String()])}
		if p.EmployeeID != 0 {
			out[i].EmployeeId = ids.Format(p.EmployeeID)
		}
	}
	return out
}

func idsPB(xs []int64) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		if x != 0 {
			out[i] = ids.Format(x)
		}
	}
	return out
}

func sortedIDs(m map[int64]bool) []int64 {
	out := make([]int64, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}
