package routing

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/channel"
	"github.com/switchboardhq/switchboard/ent/channelmember"
	"github.com/switchboardhq/switchboard/ent/chat"
	"github.com/switchboardhq/switchboard/ent/contact"
	"github.com/switchboardhq/switchboard/ent/message"
	"github.com/switchboardhq/switchboard/ent/predicate"
	"github.com/switchboardhq/switchboard/server/access"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/store"
)

// ChatRef names a chat by id, or by channel and client (a chat that may not
// exist yet).
type ChatRef struct {
	ChatID, ChannelID, ContactID int64
}

// CheckAccess answers the access table for one employee and chat.
func (r *Router) CheckAccess(ctx context.Context, employeeID int64, ref ChatRef) (access.Decision, error) {
	c := r.st.Ent
	chID, ctID := ref.ChannelID, ref.ContactID
	if ref.ChatID != 0 {
		cht, err := c.Chat.Get(ctx, ref.ChatID)
		if err != nil {
			return access.Decision{}, store.NotFound(err, "chat", ref.ChatID)
		}
		chID, ctID = cht.ChannelID, cht.ContactID
	} else if _, err := c.Channel.Get(ctx, chID); err != nil {
		return access.Decision{}, store.NotFound(err, "channel", chID)
	}
	ct, err := c.Contact.Get(ctx, ctID)
	if err != nil {
		return access.Decision{}, store.NotFound(err, "client", ctID)
	}
	return r.decideIn(ctx, c, employeeID, chID, ct.ResponsibleID)
}

// accessInput builds the access table's input from stored rows; m is nil
// for a non-member.
func accessInput(emp *ent.Employee, m *ent.ChannelMember, ch *ent.Channel, as *ent.AccountSettings, responsible *int64) access.Input {
	in := access.Input{
		Active:         emp.Active,
		ChatAdmin:      emp.ChatAdmin,
		Responsible:    responsibility(emp.ID, responsible),
		FirstResponder: ch.Distribution == channel.DistributionFIRST_RESPONDER,
		Visibility:     visibilityOf(as.GlobalChatVisibility),
	}
	if m != nil {
		in.Member = &access.Member{Role: roleOf(m.Role), Access: levelOf(m.Access), ReceivesNewClients: m.ReceivesNewClients}
	}
	return in
}

// VisibleChat is a chat an employee may view.
type VisibleChat struct {
	Chat    *ent.Chat
	Contact *ent.Contact
	Access  access.Decision
}

// ListVisibleChats pages through the chats an employee may view, newest
// activity first. The query is narrowed by access.ScopeOf per channel and
// every row is then decided by the access table itself.
func (r *Router) ListVisibleChats(ctx context.Context, employeeID, channelID int64, size int, token string) ([]VisibleChat, string, error) {
	c := r.st.Ent
	emp, err := c.Employee.Get(ctx, employeeID)
	if err != nil {
		return nil, "", store.NotFound(err, "employee", employeeID)
	}
	after, err := parseChatToken(token)
	if err != nil {
		return nil, "", err
	}
	as, err := c.AccountSettings.Query().Only(ctx)
	if err != nil {
		return nil, "", err
	}
	mq := c.ChannelMember.Query().Where(channelmember.EmployeeID(emp.ID)).WithChannel()
	if channelID != 0 {
		if _, err := c.Channel.Get(ctx, channelID); err != nil {
			return nil, "", store.NotFound(err, "channel", channelID)
		}
		mq = mq.Where(channelmember.ChannelID(channelID))
	}
	memberships, err := mq.All(ctx)
	if err != nil {
		return nil, "", err
	}
	type scoped struct {
		m  *ent.ChannelMember
		ch *ent.Channel
	}
	byChannel := map[int64]scoped{}
	var scopes []predicate.Chat
	for _, m := range memberships {
		ch := m.Edges.Channel
		s := access.ScopeOf(accessInput(emp, m, ch, as, nil))
		if p := scopePredicate(ch.ID, emp.ID, s); p != nil {
			scopes = append(scopes, p)
			byChannel[ch.ID] = scoped{m, ch}
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
		s := byChannel[cht.ChannelID]
		ct := cht.Edges.Contact
		d := access.Decide(accessInput(emp, s.m, s.ch, as, ct.ResponsibleID))
		if !d.View {
			continue // cannot happen while ScopeOf agrees with Decide; the table has the last word
		}
		out = append(out, VisibleChat{Chat: cht, Contact: ct, Access: d})
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
