package routing

import (
	"context"

	"encoding/base64"
	"entgo.io/ent/dialect/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/chat"
	"github.com/switchboardhq/switchboard/ent/contact"
	"github.com/switchboardhq/switchboard/ent/message"
	"github.com/switchboardhq/switchboard/ent/predicate"
	"github.com/switchboardhq/switchboard/server/access"
	"github.com/switchboardhq/switchboard/server/directory/snapshot"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// ChatRef names a chat by id, or by channel and client (a chat that may not
// exist yet).
type ChatRef struct {
	ChatID, ChannelID, ClientID int64
}

// CheckAccess answers the access table for one employee and chat. It
// answers from this replica's access cache when that knows the chat (see
// accessCache); otherwise one query reads what changes with every message
// (the client's responsible) with the directory's version, and the rest
// comes from the directory snapshot.
func (r *Router) CheckAccess(ctx context.Context, employeeID int64, ref ChatRef) (access.Decision, error) {
	account, _ := tenant.FromContext(ctx)
	now := time.Now()
	if ref.ChatID != 0 {
		channel, responsible, ok, renew := r.access.lookup(account, ref.ChatID, now)
		if renew {
			go r.renewAccess()
		}
		if ok {
			if snap := r.dir.Peek(account); snap != nil {
				r.access.answered.Add(1)
				return decideIn(snap, employeeID, channel, responsible)
			}
		}
	}
	r.access.read.Add(1)
	epoch := r.access.begin()
	c := r.st.Ent
	var rows []struct {
		ChannelID   int64  `json:"channel_id"`
		ClientID    int64  `json:"contact_id"`
		Responsible *int64 `json:"responsible_id"`
		Version     int64  `json:"directory_version"`
	}
	if ref.ChatID != 0 {
		err := c.Chat.Query().Where(chat.ID(ref.ChatID)).Modify(func(s *sql.Selector) {
			cl := sql.Table(contact.Table)
			s.Join(cl).On(s.C(chat.FieldContactID), cl.C(contact.FieldID))
			s.Select(s.C(chat.FieldChannelID), s.C(chat.FieldContactID), cl.C(contact.FieldResponsibleID))
			s.AppendSelectExprAs(directoryVersion(s.C(chat.FieldAccountID)), "directory_version")
		}).Scan(ctx, &rows)
		if err != nil {
			return access.Decision{}, err
		}
		if len(rows) == 0 {
			return access.Decision{}, errs.NotFound("chat", ref.ChatID)
		}
	} else {
		err := c.Contact.Query().Where(contact.ID(ref.ClientID)).Modify(func(s *sql.Selector) {
			s.Select(s.C(contact.FieldResponsibleID))
			s.AppendSelectExprAs(sql.Expr(s.C(contact.FieldID)), "contact_id")
			s.AppendSelectExprAs(sql.Expr(strconv.FormatInt(ref.ChannelID, 10)), "channel_id")
			s.AppendSelectExprAs(directoryVersion(s.C(contact.FieldAccountID)), "directory_version")
		}).Scan(ctx, &rows)
		if err != nil {
			return access.Decision{}, err
		}
		if len(rows) == 0 {
			return access.Decision{}, errs.NotFound("client", ref.ClientID)
		}
	}
	row := rows[0]
	snap, err := r.dir.Get(ctx, c, row.Version)
	if err != nil {
		return access.Decision{}, err
	}
	if r.access.remember(epoch, account, ref.ChatID, row.ChannelID, row.ClientID, row.Responsible, snap.Version >= row.Version, now) {
		go r.renewAccess()
	}
	return decideIn(snap, employeeID, row.ChannelID, row.Responsible)
}

// directoryVersion selects the account's directory version next to a row
// of one of its tables.
func directoryVersion(accountColumn string) sql.Querier {
	return sql.Expr("(SELECT directory_version FROM account_settings WHERE account_settings.account_id = " + accountColumn + ")")
}

// decideIn applies the access table to an employee on a channel.
func decideIn(snap *snapshot.Snapshot, employeeID, channelID int64, responsible *int64) (access.Decision, error) {
	emp := snap.Employees[employeeID]
	if emp == nil {
		return access.Decision{}, errs.NotFound("employee", employeeID)
	}
	ch := snap.Channels[channelID]
	if ch == nil {
		return access.Decision{}, errs.NotFound("channel", channelID)
	}
	return access.Decide(inputFor(snap, emp, ch, responsible)), nil
}

// VisibleChat is a chat an employee may view.
type VisibleChat struct {
	Chat   *ent.Chat
	Client *ent.Contact
	Access access.Decision
}

// ListVisibleChats pages through the chats an employee may view, newest
// activity first. The query is narrowed by access.ScopeOf per channel and
// every row is then decided by the access table itself.
func (r *Router) ListVisibleChats(ctx context.Context, employeeID, channelID int64, size int, token string) ([]VisibleChat, string, error) {
	c := r.st.Ent
	after, err := parseChatToken(token)
	if err != nil {
		return nil, "", err
	}
	snap, err := r.current(ctx, c)
	if err != nil {
		return nil, "", err
	}
	emp := snap.Employees[employeeID]
	if emp == nil {
		return nil, "", errs.NotFound("employee", employeeID)
	}
	if channelID != 0 && snap.Channels[channelID] == nil {
		return nil, "", errs.NotFound("channel", channelID)
	}
	var scopes []predicate.Chat
	for id, ch := range snap.Channels {
		if (channelID != 0 && id != channelID) || snap.Member(id, emp.ID) == nil {
			continue
		}
		if p := scopePredicate(id, emp.ID, access.ScopeOf(inputFor(snap, emp, ch, nil))); p != nil {
			scopes = append(scopes, p)
		}
	}
	if len(scopes) == 0 {
		return nil, "", nil
	}
	q := c.Chat.Query().Where(chat.Or(scopes...)).WithContact()
	if after != nil {
		q = q.Where(chat.Or(chat.LastMessageAtLT(after.t), chat.And(chat.LastMessageAt(after.t), chat.IDLT(after.id))))
	}
	rows, err := q.Order(ent.Desc(chat.FieldLastMessageAt), ent.Desc(chat.FieldID)).Limit(size + 1).All(ctx)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > size {
		rows = rows[:size]
		last := rows[len(rows)-1]
		next = chatToken(last.LastMessageAt, last.ID)
	}
	out := make([]VisibleChat, 0, len(rows))
	for _, cht := range rows {
		cl := cht.Edges.Contact
		d := access.Decide(inputFor(snap, emp, snap.Channels[cht.ChannelID], cl.ResponsibleID))
		if !d.View {
			continue // cannot happen while ScopeOf agrees with Decide; the table has the last word
		}
		out = append(out, VisibleChat{Chat: cht, Client: cl, Access: d})
	}
	return out, next, nil
}

// scopePredicate turns an access scope on one channel into a query filter.
func scopePredicate(channelID, employeeID int64, s access.Scope) predicate.Chat {
	on := chat.ChannelID(channelID)
	if s.All {
		return on
	}
	var who []predicate.Contact
	if s.Own {
		who = append(who, contact.ResponsibleID(employeeID))
	}
	if s.Unassigned {
		who = append(who, contact.ResponsibleIDIsNil())
	}
	if s.Others {
		who = append(who, contact.And(contact.ResponsibleIDNotNil(), contact.ResponsibleIDNEQ(employeeID)))
	}
	if len(who) == 0 {
		return nil
	}
	return chat.And(on, chat.HasContactWith(contact.Or(who...)))
}

type chatPos struct {
	t  time.Time
	id int64
}

func chatToken(t time.Time, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%d.%d", t.UnixNano(), id)))
}

func parseChatToken(s string) (*chatPos, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		ns, id, ok := strings.Cut(string(b), ".")
		n, err1 := strconv.ParseInt(ns, 10, 64)
		i, err2 := strconv.ParseInt(id, 10, 64)
		if ok && err1 == nil && err2 == nil {
			return &chatPos{t: time.Unix(0, n).UTC(), id: i}, nil
		}
	}
	return nil, errs.Invalid("page_token", "is not a token this list gave out")
}

// ListChatMessages pages through a chat's messages, newest first, if the
// employee (0: the account itself) may view the chat.
func (r *Router) ListChatMessages(ctx context.Context, employeeID, chatID int64, size int, token string) ([]*ent.Message, string, error) {
	if employeeID != 0 {
		d, err := r.CheckAccess(ctx, employeeID, ChatRef{ChatID: chatID})
		if err != nil {
			return nil, "", err
		}
		if !d.View {
			return nil, "", errs.Forbidden("the employee may not view this chat: %s", d.Explanation)
		}
	} else if _, err := r.st.Ent.Chat.Get(ctx, chatID); err != nil {
		return nil, "", store.NotFound(err, "chat", chatID)
	}
	q := r.st.Ent.Message.Query().Where(message.ChatID(chatID))
	if token != "" {
		before, err := strconv.ParseInt(token, 10, 64)
		if err != nil || before <= 0 {
			return nil, "", errs.Invalid("page_token", "is not a token this list gave out")
		}
		q = q.Where(message.IDLT(before))
	}
	rows, err := q.Order(ent.Desc(message.FieldID)).Limit(size + 1).All(ctx)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > size {
		rows = rows[:size]
		next = strconv.FormatInt(rows[len(rows)-1].ID, 10)
	}
	return rows, next, nil
}
