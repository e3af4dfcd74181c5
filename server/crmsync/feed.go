package crmsync

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/accountsettings"
	"github.com/switchboardhq/switchboard/ent/chat"
	"github.com/switchboardhq/switchboard/ent/message"
	"github.com/switchboardhq/switchboard/server/store"
)

// FeedEntry is one entry of a client's feed (SPEC §7).
type FeedEntry struct {
	ChatID, ChannelID int64
	ChannelName       string
	Start, End        time.Time
	Text              string
	Count             int
}

// feedWindow bounds the messages one page of a feed reads.
const feedWindow = 5000

// Feed is a client's chat log as its CRM's feed holds it, newest first, by
// the account's save_messages: one entry per message (EACH_MESSAGE); per
// chat and ended clock hour (HOURLY) or day in the account's time zone
// (DAILY); none (NONE). Entries start before before (zero: now); next is
// where the following page starts (zero: no more). An entry period is
// never split between pages.
func Feed(ctx context.Context, c *ent.Client, clientID int64, before time.Time, size int) (entries []FeedEntry, next time.Time, err error) {
	ct, err := c.Contact.Get(ctx, clientID)
	if err != nil {
		return nil, time.Time{}, store.NotFound(err, "client", clientID)
	}
	as, err := c.AccountSettings.Query().Only(ctx)
	if err != nil || as.SaveMessages == accountsettings.SaveMessagesNONE {
		return nil, time.Time{}, err
	}
	loc := location(as.TimeZone)
	now := time.Now()
	if before.IsZero() || before.After(now) {
		before = now
	}
	if as.SaveMessages != accountsettings.SaveMessagesEACH_MESSAGE {
		// Only periods that have ended are in the feed.
		if start, _ := Period(as.SaveMessages, now, loc); start.Before(before) {
			before = start
		}
	}
	chats, err := c.Chat.Query().Where(chat.ContactID(ct.ID)).All(ctx)
	if err != nil || len(chats) == 0 {
		return nil, time.Time{}, err
	}
	byID := map[int64]*ent.Chat{}
	channels := map[int64]*ent.Channel{}
	ids := make([]int64, len(chats))
	for i, ch := range chats {
		byID[ch.ID], ids[i] = ch, ch.ID
		if channels[ch.ChannelID], err = c.Channel.Get(ctx, ch.ChannelID); err != nil {
			return nil, time.Time{}, err
		}
	}
	msgs, err := c.Message.Query().Where(message.ChatIDIn(ids...), message.CreatedAtLT(before)).
		Order(ent.Desc(message.FieldCreatedAt), ent.Desc(message.FieldID)).Limit(feedWindow).All(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	names := map[int64]string{}
	who := func(m *ent.Message) string {
		if m.Direction == message.DirectionIN {
			return ct.Name
		}
		if m.EmployeeID == nil {
			return "us"
		}
		if n, ok := names[*m.EmployeeID]; ok {
			return n
		}
		n := "us"
		if e, err := c.Employee.Get(ctx, *m.EmployeeID); err == nil {
			n = e.Name
		}
		names[*m.EmployeeID] = n
		return n
	}
	type key struct {
		chat  int64
		start int64
	}
	groups := map[key]*FeedEntry{}
	var order []key
	for _, m := range msgs {
		ch := byID[m.ChatID]
		start, end := m.CreatedAt, m.CreatedAt
		if as.SaveMessages != accountsettings.SaveMessagesEACH_MESSAGE {
			start, end = Period(as.SaveMessages, m.CreatedAt, loc)
		}
		k := key{ch.ID, start.UnixNano()}
		if as.SaveMessages == accountsettings.SaveMessagesEACH_MESSAGE {
			k.start = m.ID // one entry per message
		}
		e := groups[k]
		if e == nil {
			e = &FeedEntry{ChatID: ch.ID, ChannelID: ch.ChannelID, ChannelName: channels[ch.ChannelID].Name, Start: start, End: end}
			groups[k] = e
			order = append(order, k)
		}
		e.Count++
		// Messages come newest first; an entry reads oldest first.
		e.Text = strings.TrimPrefix(line(m, channels[ch.ChannelID], who(m), loc)+"\n"+e.Text, "\n")
		e.Text = strings.TrimSuffix(e.Text, "\n")
	}
	for _, k := range order {
		entries = append(entries, *groups[k])
	}
	slices.SortStableFunc(entries, func(a, b FeedEntry) int { return b.Start.Compare(a.Start) })
	if len(entries) > size {
		cut := size
		for cut < len(entries) && entries[cut].Start.Equal(entries[size-1].Start) {
			cut++ // a period is never split between pages
		}
		if cut < len(entries) {
			next = entries[cut-1].Start
		}
		entries = entries[:cut]
	} else if len(msgs) == feedWindow && len(entries) > 0 {
		next = entries[len(entries)-1].Start
	}
	for i := range entries {
		if as.SaveMessages != accountsettings.SaveMessagesEACH_MESSAGE {
			entries[i].Text = fmt.Sprintf("Chat on %s, %s – %s\n%s", entries[i].ChannelName,
				entries[i].Start.In(loc).Format("2006-01-02 15:04"), entries[i].End.In(loc).Format("2006-01-02 15:04 MST"), entries[i].Text)
		}
	}
	return entries, next, nil
}
