package settings

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/assignmentevent"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/supervise"
)

// RecordAccessChanges writes to the assignment history, in tx, what the
// transaction changed of who may see or write chats since before (the
// settings as the transaction first read them), by the request's caller.
// Nothing is written when no such setting changed.
func RecordAccessChanges(ctx context.Context, tx *ent.Tx, before *pb.IntegrationSettings) error {
	c := tx.Client()
	after, err := Load(ctx, c)
	if err != nil {
		return err
	}
	names, err := Names(ctx, c)
	if err != nil {
		return err
	}
	changes := AccessChanges(before, after, names)
	if len(changes) == 0 {
		return nil
	}
	actor, err := supervise.CallerActor(ctx, c)
	if err != nil {
		return err
	}
	by := actor.Name
	if actor.Kind == "API_KEY" {
		by = fmt.Sprintf("API key %q", actor.Name)
	}
	return supervise.Record(ctx, tx, supervise.Event{Cause: assignmentevent.CauseSETTINGS_EDIT, Actor: actor,
		Explanation: fmt.Sprintf("%s changed who may see or write chats (%d changes)", by, len(changes)), Changes: changes})
}

// Names names employees and channels by API id, for words about settings.
func Names(ctx context.Context, c *ent.Client) (func(id string) string, error) {
	emps, err := c.Employee.Query().All(ctx)
	if err != nil {
		return nil, err
	}
	chs, err := c.Channel.Query().All(ctx)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, e := range emps {
		m["e"+ids.Format(e.ID)] = e.Name
	}
	for _, ch := range chs {
		m["c"+ids.Format(ch.ID)] = ch.Name
	}
	return func(id string) string {
		if n, ok := m[id]; ok {
			return n
		}
		return id[1:]
	}, nil
}

func enumWord(s fmt.Stringer, prefix string) string {
	return strings.ReplaceAll(strings.TrimPrefix(s.String(), prefix), "_", " ")
}

// AccessChanges says, one line each, what changed from before to after of
// the settings that decide who may see or write chats (SPEC §3) and who
// gets new clients (§5): members and their role, access and
// receives_new_clients, a channel's distribution, global chat visibility
// and the chat admins. names names "e"+employee id and "c"+channel id.
func AccessChanges(before, after *pb.IntegrationSettings, names func(string) string) []string {
	var out []string
	emp := func(id string) string { return names("e" + id) }
	prev := map[string]*pb.ChannelSettings{}
	for _, cs := range before.GetChannels() {
		prev[cs.ChannelId] = cs
	}
	for _, cs := range after.GetChannels() {
		old := prev[cs.ChannelId]
		if old == nil {
			old = &pb.ChannelSettings{}
		}
		ch := names("c" + cs.ChannelId)
		if old.Distribution != cs.Distribution && old.ChannelId != "" {
			out = append(out, fmt.Sprintf("%s: distribution %s → %s", ch,
				enumWord(old.Distribution, "DISTRIBUTION_MODE_"), enumWord(cs.Distribution, "DISTRIBUTION_MODE_")))
		}
		was := map[string]*pb.ChannelMember{}
		for _, m := range old.Members {
			was[m.EmployeeId] = m
		}
		for _, m := range cs.Members {
			o := was[m.EmployeeId]
			delete(was, m.EmployeeId)
			if o == nil {
				out = append(out, fmt.Sprintf("%s: %s added as %s", ch, emp(m.EmployeeId), memberWords(m)))
				continue
			}
			if o.Role != m.Role || o.Access != m.Access || o.ReceivesNewClients != m.ReceivesNewClients {
				out = append(out, fmt.Sprintf("%s: %s %s → %s", ch, emp(m.EmployeeId), memberWords(o), memberWords(m)))
			}
		}
		gone := make([]string, 0, len(was))
		for id := range was {
			gone = append(gone, id)
		}
		slices.Sort(gone)
		for _, id := range gone {
			out = append(out, fmt.Sprintf("%s: %s removed (was %s)", ch, emp(id), memberWords(was[id])))
		}
	}
	ba, aa := before.GetAccount(), after.GetAccount()
	if ba.GetGlobalChatVisibility() != aa.GetGlobalChatVisibility() {
		out = append(out, fmt.Sprintf("global chat visibility %s → %s",
			enumWord(ba.GetGlobalChatVisibility(), "GLOBAL_CHAT_VISIBILITY_"), enumWord(aa.GetGlobalChatVisibility(), "GLOBAL_CHAT_VISIBILITY_")))
	}
	for _, id := range aa.GetChatAdminEmployeeIds() {
		if !slices.Contains(ba.GetChatAdminEmployeeIds(), id) {
			out = append(out, fmt.Sprintf("%s made a chat admin", emp(id)))
		}
	}
	for _, id := range ba.GetChatAdminEmployeeIds() {
		if !slices.Contains(aa.GetChatAdminEmployeeIds(), id) {
			out = append(out, fmt.Sprintf("%s no longer a chat admin", emp(id)))
		}
	}
	return out
}

func memberWords(m *pb.ChannelMember) string {
	s := enumWord(m.Role, "EMPLOYEE_ROLE_") + ", " + enumWord(m.Access, "CHANNEL_ACCESS_")
	if m.ReceivesNewClients {
		s += ", receives new clients"
	}
	return s
}
