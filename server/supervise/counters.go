package supervise

import (
	"cmp"
	"context"
	"slices"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/chat"
	"github.com/switchboardhq/switchboard/ent/contact"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/ids"
)

// Count is a number of chats waiting for an answer and the oldest wait.
type Count struct {
	Chats  int
	Oldest time.Time // zero when Chats is 0
}

func (c *Count) add(since time.Time) {
	c.Chats++
	if c.Oldest.IsZero() || since.Before(c.Oldest) {
		c.Oldest = since
	}
}

// Counters are an account's chats waiting for an answer: those whose last
// message is the client's.
type Counters struct {
	// Employees: by responsible employee.
	Employees map[int64]Count
	// Channels: by channel; Unassigned of them have no responsible.
	Channels   map[int64]Count
	Unassigned map[int64]int
	// NoResponsible: every waiting chat whose client has no responsible.
	NoResponsible Count
	Total         Count
}

// waiting is one chat waiting for an answer.
type waiting struct {
	ChannelID     int64     `json:"channel_id"`
	ResponsibleID *int64    `json:"responsible_id"`
	Since         time.Time `json:"unanswered_since"`
}

// Read counts the context's account's waiting chats, or only those of
// clients employee is responsible for (employee != 0).
func Read(ctx context.Context, c *ent.Client, employee int64) (*Counters, error) {
	rows, err := load(ctx, c, employee)
	if err != nil {
		return nil, err
	}
	return count(rows, employee), nil
}

// load reads the waiting chats (of employee's clients when not 0) in one
// query over those chats alone (a partial index holds just them), joined to
// their clients' responsible.
func load(ctx context.Context, c *ent.Client, employee int64) ([]waiting, error) {
	var rows []waiting
	q := c.Chat.Query().Where(chat.UnansweredSinceNotNil())
	if employee != 0 {
		q = q.Where(chat.HasContactWith(contact.ResponsibleID(employee)))
	}
	err := q.Modify(func(s *entsql.Selector) {
		t := entsql.Table(contact.Table)
		s.Join(t).On(s.C(chat.FieldContactID), t.C(contact.FieldID))
		s.Select(s.C(chat.FieldChannelID), entsql.As(t.C(contact.FieldResponsibleID), "responsible_id"),
			s.C(chat.FieldUnansweredSince))
	}).Scan(ctx, &rows)
	return rows, err
}

// count adds the waiting chats up; employee != 0 keeps only its clients'.
func count(rows []waiting, employee int64) *Counters {
	out := &Counters{Employees: map[int64]Count{}, Channels: map[int64]Count{}, Unassigned: map[int64]int{}}
	for _, r := range rows {
		if employee != 0 && (r.ResponsibleID == nil || *r.ResponsibleID != employee) {
			continue
		}
		ch := out.Channels[r.ChannelID]
		ch.add(r.Since)
		out.Channels[r.ChannelID] = ch
		if r.ResponsibleID == nil {
			out.Unassigned[r.ChannelID]++
			out.NoResponsible.add(r.Since)
		} else {
			e := out.Employees[*r.ResponsibleID]
			e.add(r.Since)
			out.Employees[*r.ResponsibleID] = e
		}
		out.Total.add(r.Since)
	}
	if employee != 0 {
		if _, ok := out.Employees[employee]; !ok {
			out.Employees[employee] = Count{}
		}
	}
	return out
}

// PB is the counters as the API shows them, waits measured at now.
func (c *Counters) PB(now time.Time) *pb.UnansweredCounters {
	out := &pb.UnansweredCounters{Total: countPB(c.Total, now), Unassigned: countPB(c.NoResponsible, now),
		ComputeTime: timestamppb.New(now)}
	for _, id := range sortedKeys(c.Employees) {
		out.Employees = append(out.Employees, &pb.EmployeeUnanswered{EmployeeId: ids.Format(id), Count: countPB(c.Employees[id], now)})
	}
	for _, id := range sortedKeys(c.Channels) {
		out.Channels = append(out.Channels, &pb.ChannelUnanswered{ChannelId: ids.Format(id),
			Count: countPB(c.Channels[id], now), UnassignedChats: int32(c.Unassigned[id])})
	}
	return out
}

func countPB(c Count, now time.Time) *pb.UnansweredCount {
	out := &pb.UnansweredCount{Chats: int32(c.Chats)}
	if c.Chats > 0 {
		out.OldestTime = timestamppb.New(c.Oldest)
		out.OldestWaitSeconds = max(0, int64(now.Sub(c.Oldest)/time.Second))
	}
	return out
}

func sortedKeys[V any](m map[int64]V) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp.Compare)
	return keys
}
