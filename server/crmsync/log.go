package crmsync

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/accountsettings"
	"github.com/switchboardhq/switchboard/ent/chat"
	"github.com/switchboardhq/switchboard/ent/message"
	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/outbox"
)

// Saving chats to the CRM (SPEC §7).
//
// EACH_MESSAGE: every routed message enqueues a flush of its chat; the
// flush writes the chat's messages not yet in the CRM, in order, one note
// each, marked so that a retry after a lost answer finds it instead of
// writing it twice, and advances the chat's cursor after each. One flush
// of a chat runs at a time (a lease on the chat); another waits a second.
//
// HOURLY and DAILY: the first message of a chat in a period (a clock hour,
// or a day, in the account's time zone) enqueues one job scheduled at the
// period's end, unique by chat and period; it writes the period's messages
// as one note, marked by chat and period.

// ErrNotLinked: the chat's client is not in the CRM yet (its new-client
// job has not run); the note waits, retried with backoff.
var ErrNotLinked = errors.New("crmsync: the client's deal is not in the CRM yet")

// Period is the clock period of mode ("HOURLY" or "DAILY") that holds t in
// loc: [from, to). An hour is the zone's clock hour (Asia/Kolkata's start
// at :30 UTC); a day runs from midnight to midnight and has 23 or 25 hours
// when the clocks change.
func Period(mode accountsettings.SaveMessages, t time.Time, loc *time.Location) (from, to time.Time) {
	lt := t.In(loc)
	if mode == accountsettings.SaveMessagesDAILY {
		y, m, d := lt.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, loc), time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	}
	_, off := lt.Zone()
	shift := time.Duration(off) * time.Second
	from = t.Add(shift).Truncate(time.Hour).Add(-shift)
	return from, from.Add(time.Hour)
}

// FlushArgs is the job writing a chat's next messages (EACH_MESSAGE).
type FlushArgs struct {
	outbox.Account
	ChatID int64 `json:"chat_id"`
}

// Kind implements river.JobArgs.
func (FlushArgs) Kind() string { return "crm_chat_flush" }

// ChatLogArgs is the job writing one period of a chat (HOURLY, DAILY).
type ChatLogArgs struct {
	outbox.Account
	ChatID int64 `json:"chat_id"`
	From   int64 `json:"from"` // Unix seconds
	To     int64 `json:"to"`
}

// Kind implements river.JobArgs.
func (ChatLogArgs) Kind() string { return "crm_chat_log" }

// Logged enqueues what the account's save_messages asks for a message of
// chatID at, in the message's transaction.
func (e Enqueuer) Logged(ctx context.Context, tx *ent.Tx, as *ent.AccountSettings, chatID int64, at time.Time) error {
	acct := outbox.Account{AccountID: as.AccountID}
	queue := queueOf(string(as.CrmKind))
	switch as.SaveMessages {
	case accountsettings.SaveMessagesEACH_MESSAGE:
		// One flush per message; a flush finding its chat's messages
		// written already does nothing (River cannot leave a job unique
		// against a running one, which would miss a message that arrives
		// while the chat is being written).
		_, err := e.Out.Enqueue(ctx, tx, FlushArgs{Account: acct, ChatID: chatID}, &river.InsertOpts{Queue: queue})
		return err
	case accountsettings.SaveMessagesHOURLY, accountsettings.SaveMessagesDAILY:
		loc := location(as.TimeZone)
		from, to := Period(as.SaveMessages, at, loc)
		_, err := e.Out.Enqueue(ctx, tx, ChatLogArgs{Account: acct, ChatID: chatID, From: from.Unix(), To: to.Unix()},
			&river.InsertOpts{Queue: queue, ScheduledAt: to, UniqueOpts: river.UniqueOpts{ByArgs: true}})
		return err
	}
	return nil
}

func location(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// ref is where a chat's notes go: its deal in the CRM, else its contact.
// Both are read in one snapshot: a new client's deal and contact are
// linked in one transaction, and reading them apart could see the contact
// linked and the deal not yet, sending the deal's notes to the contact.
func (s *Syncer) ref(ctx context.Context, c *ent.Chat) (crm.ClientRef, error) {
	var ref crm.ClientRef
	err := s.st.ReadTx(ctx, func(tx *ent.Tx) error {
		if c.DealID != nil {
			d, err := tx.Deal.Get(ctx, *c.DealID)
			if err != nil && !ent.IsNotFound(err) {
				return err
			}
			if d != nil && d.CrmID != nil {
				ref.DealID = *d.CrmID
			}
		}
		ct, err := tx.Contact.Get(ctx, c.ContactID)
		if err != nil {
			return err
		}
		if ct.CrmID != nil {
			ref.ContactID = *ct.CrmID
		}
		return nil
	})
	if err != nil {
		return ref, err
	}
	if ref.DealID == "" && ref.ContactID == "" {
		return ref, ErrNotLinked
	}
	return ref, nil
}

// line is a message as a note shows it: time, who, text and media links.
func line(m *ent.Message, ch *ent.Channel, who string, loc *time.Location) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", m.CreatedAt.In(loc).Format("2006-01-02 15:04"), who)
	if m.Text != "" {
		b.WriteString(": " + m.Text)
	}
	for _, a := range m.Attachments {
		b.WriteString("\n" + a.URL)
	}
	_ = ch
	return b.String()
}

// author names who wrote a message: the client, or the employee.
func (s *Syncer) author(ctx context.Context, m *ent.Message, client string) string {
	if m.Direction == message.DirectionIN {
		return client
	}
	if m.EmployeeID != nil {
		if e, err := s.st.Ent.Employee.Get(ctx, *m.EmployeeID); err == nil {
			return e.Name
		}
	}
	return "us"
}

// DefaultLease is how long one run may hold its chat or deal: more than
// an attempt may last, so a live run never loses it.
const DefaultLease = 2 * time.Minute

func (s *Syncer) lease() time.Duration {
	if s.o.Lease > 0 {
		return s.o.Lease
	}
	return DefaultLease
}

// DefaultSettle is how long a write whose outcome is unknown keeps its
// chat or deal by default.
const DefaultSettle = 10 * time.Second

// settleHold is how long a write whose outcome is unknown keeps its chat
// or deal: a request the CRM still works on after the call gave up lands
// meanwhile, so the next run, which looks for it, finds it.
func (s *Syncer) settleHold() time.Duration {
	if s.o.Settle > 0 {
		return min(s.lease(), s.o.Settle)
	}
	return min(s.lease(), DefaultSettle)
}

// release ends a run's lease: at once, or, after a write whose outcome is
// unknown, only once that write had time to land.
func (s *Syncer) release(err error, clear, hold func(time.Time) error) {
	if err != nil && crm.Ambiguous(err) {
		_ = hold(time.Now().Add(s.settleHold()))
		return
	}
	_ = clear(time.Time{})
}

// ErrBusy: another flush holds the chat; this one waits briefly.
var ErrBusy = errors.New("crmsync: another run is writing this chat or deal")

// Flush writes the chat's messages that are not in the CRM yet, in order,
// one note each (EACH_MESSAGE). Messages from before the CRM was connected
// are not written.
func (s *Syncer) Flush(ctx context.Context, chatID int64) (err error) {
	c := s.st.Ent
	now := time.Now()
	n, err := c.Chat.Update().Where(chat.ID(chatID), chat.Or(chat.CrmFlushUntilIsNil(), chat.CrmFlushUntilLT(now))).
		SetCrmFlushUntil(now.Add(s.lease())).Save(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		if _, err := c.Chat.Get(ctx, chatID); ent.IsNotFound(err) {
			return nil
		}
		return ErrBusy
	}
	defer func() {
		bg := context.WithoutCancel(ctx)
		s.release(err,
			func(time.Time) error { return c.Chat.UpdateOneID(chatID).ClearCrmFlushUntil().Exec(bg) },
			func(until time.Time) error { return c.Chat.UpdateOneID(chatID).SetCrmFlushUntil(until).Exec(bg) })
	}()
	ch, err := c.Chat.Get(ctx, chatID)
	if err != nil {
		return err
	}
	cc, err := c.CrmConnection.Query().Only(ctx)
	if err != nil {
		return err
	}
	var w *chatWriter
	for first := true; ; first = false {
		msgs, err := c.Message.Query().Where(message.ChatID(chatID), message.IDGT(ch.CrmLoggedMessageID),
			message.CreatedAtGTE(cc.CreatedAt)).Order(ent.Asc(message.FieldID)).Limit(100).All(ctx)
		if err != nil || len(msgs) == 0 {
			return err
		}
		if w == nil {
			if w, err = s.writer(ctx, ch); err != nil {
				return err
			}
		}
		for i, m := range msgs {
			text := fmt.Sprintf("[%s] %s", w.channel.Name, w.line(ctx, s, m))
			// A marker per message. Only the first one's note may be there
			// already (an earlier flush wrote it, then failed or died
			// before moving the cursor): the connector looks for it first.
			if err := w.conn.AddNote(ctx, w.ref, text, "#sbm"+strconv.FormatInt(m.ID, 10), first && i == 0); err != nil {
				return err
			}
			if err := c.Chat.Update().Where(chat.ID(chatID), chat.CrmLoggedMessageIDLT(m.ID)).SetCrmLoggedMessageID(m.ID).Exec(ctx); err != nil {
				return err
			}
			ch.CrmLoggedMessageID = m.ID
		}
		if len(msgs) < 100 {
			return nil
		}
	}
}

// chatWriter is what writing a chat's notes needs: the CRM, where the
// notes go, and how a message reads.
type chatWriter struct {
	conn    crm.Connector
	ref     crm.ClientRef
	client  string
	channel *ent.Channel
	loc     *time.Location
}

func (s *Syncer) writer(ctx context.Context, ch *ent.Chat) (*chatWriter, error) {
	c := s.st.Ent
	ref, err := s.ref(ctx, ch)
	if err != nil {
		return nil, err
	}
	conn, _, err := Open(ctx, c, s.o)
	if err != nil {
		return nil, err
	}
	ct, err := c.Contact.Get(ctx, ch.ContactID)
	if err != nil {
		return nil, err
	}
	channel, err := c.Channel.Get(ctx, ch.ChannelID)
	if err != nil {
		return nil, err
	}
	as, err := c.AccountSettings.Query().Only(ctx)
	if err != nil {
		return nil, err
	}
	return &chatWriter{conn: conn, ref: ref, client: ct.Name, channel: channel, loc: location(as.TimeZone)}, nil
}

func (w *chatWriter) line(ctx context.Context, s *Syncer, m *ent.Message) string {
	return line(m, w.channel, s.author(ctx, m, w.client), w.loc)
}

// ChatLog writes one period of a chat as one note (HOURLY, DAILY).
func (s *Syncer) ChatLog(ctx context.Context, chatID int64, from, to time.Time) error {
	c := s.st.Ent
	ch, err := c.Chat.Get(ctx, chatID)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	msgs, err := c.Message.Query().Where(message.ChatID(chatID), message.CreatedAtGTE(from), message.CreatedAtLT(to)).
		Order(ent.Asc(message.FieldID)).All(ctx)
	if err != nil || len(msgs) == 0 {
		return err
	}
	w, err := s.writer(ctx, ch)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Chat on %s, %s – %s", w.channel.Name, from.In(w.loc).Format("2006-01-02 15:04"), to.In(w.loc).Format("2006-01-02 15:04 MST"))
	for _, m := range msgs {
		b.WriteString("\n" + w.line(ctx, s, m))
	}
	return w.conn.AddNote(ctx, w.ref, b.String(), fmt.Sprintf("#sbl%d-%d", chatID, from.Unix()), true)
}

type flushWorker struct {
	river.WorkerDefaults[FlushArgs]
	w *Workers
}

func (k *flushWorker) Work(ctx context.Context, job *river.Job[FlushArgs]) error {
	err := k.w.Syncer.Flush(ctx, job.Args.ChatID)
	if errors.Is(err, ErrBusy) {
		return outbox.RetryAfter(time.Second, err)
	}
	return outcome(err)
}

type chatLogWorker struct {
	river.WorkerDefaults[ChatLogArgs]
	w *Workers
}

func (k *chatLogWorker) Work(ctx context.Context, job *river.Job[ChatLogArgs]) error {
	return outcome(k.w.Syncer.ChatLog(ctx, job.Args.ChatID, time.Unix(job.Args.From, 0), time.Unix(job.Args.To, 0)))
}
