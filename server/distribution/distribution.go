package distribution

import "fmt"

// Mode is a channel's distribution mode.
type Mode int

// Modes.
const (
	RoundRobin Mode = iota + 1
	Weighted
	FirstResponder
)

func (m Mode) String() string {
	switch m {
	case RoundRobin:
		return "ROUND_ROBIN"
	case Weighted:
		return "WEIGHTED"
	case FirstResponder:
		return "FIRST_RESPONDER"
	}
	return "unknown"
}

// Member is one entry of a channel's member list, in list order.
type Member struct {
	EmployeeID int64
	Name       string
	Weight     int
	// Eligible: receives new clients, SALES_REP or MANAGER, READ_WRITE,
	// active.
	Eligible bool
	// Absent: eligible, but cannot take a client right now (outside its
	// working hours, not online, at capacity; package availability). False
	// for everyone while availability is unused, which leaves every
	// sequence as it was.
	Absent bool
}

// takes reports whether the member can be given a client now.
func (m Member) takes() bool { return m.Eligible && !m.Absent }

// Cursor is where a channel's distribution stands.
type Cursor struct {
	// Last got the previous new client; 0 before the first.
	Last int64
	// Streak counts the consecutive clients Last got.
	Streak int
}

// spent is a streak no weight reaches: the next client goes to the member
// after Last whatever Last's weight.
const spent = 1 << 20

// Pick is a distribution result.
type Pick struct {
	EmployeeID int64
	Name       string
	// Position is the 1-based position of the member in the list.
	Position int
	// Turn is which of its Weight consecutive clients this is (1-based).
	Turn   int
	Weight int
	// Cursor is the channel's cursor after this pick.
	Cursor Cursor
	// StandsIn is set when the member whose turn it was is absent and keeps
	// its turn (NextKeepingTurns): this member takes the client and the
	// cursor does not move. It names the absent member.
	StandsIn *Member
}

// Explain says the pick in words.
func (p Pick) Explain(mode Mode, members int) string {
	if a := p.StandsIn; a != nil {
		return fmt.Sprintf("%s: %s, member %d of %d, stands in for %s, who is absent and keeps the turn", mode, p.Name, p.Position, members, a.Name)
	}
	if mode == Weighted {
		return fmt.Sprintf("WEIGHTED: %s, member %d of %d, client %d of weight %d", p.Name, p.Position, members, p.Turn, p.Weight)
	}
	return fmt.Sprintf("%s: %s, member %d of %d, next after the previous assignee", mode, p.Name, p.Position, members)
}

// Next chooses the responsible for a new client under ROUND_ROBIN or
// WEIGHTED: the last assignee again while its weight allows, else the next
// eligible member after it in list order, wrapping. Absent members pass
// their turn: they are skipped as if not eligible, and the cycle moves on
// from whoever takes the client. ok is false when nobody eligible is
// present.
func Next(mode Mode, members []Member, cur Cursor) (p Pick, ok bool) {
	return next(mode, members, cur, Member.takes)
}

// NextKeepingTurns is Next for a channel whose absent members keep their
// turn: the cycle runs as if everyone eligible were present; when the pick
// falls on an absent member, the next present eligible member after it
// (wrapping) takes the client in its stead and the cursor stays where it
// was, so once the absent member is back the sequence goes on exactly where
// it stood. With nobody absent it is Next.
func NextKeepingTurns(mode Mode, members []Member, cur Cursor) (Pick, bool) {
	p, ok := next(mode, members, cur, func(m Member) bool { return m.Eligible })
	if !ok {
		return p, false
	}
	held := members[p.Position-1]
	if !held.Absent {
		return p, true
	}
	n := len(members)
	for k := 1; k < n; k++ {
		i := (p.Position - 1 + k) % n
		if m := members[i]; m.takes() {
			w := 1
			if mode == Weighted && m.Weight > 1 {
				w = m.Weight
			}
			return Pick{EmployeeID: m.EmployeeID, Name: m.Name, Position: i + 1, Turn: 1, Weight: w, Cursor: cur, StandsIn: &held}, true
		}
	}
	return Pick{}, false
}

func next(mode Mode, members []Member, cur Cursor, takes func(Member) bool) (p Pick, ok bool) {
	weight := func(i int) int {
		if mode != Weighted || members[i].Weight < 1 {
			return 1
		}
		return members[i].Weight
	}
	pick := func(i, turn int) Pick {
		m := members[i]
		return Pick{EmployeeID: m.EmployeeID, Name: m.Name, Position: i + 1, Turn: turn, Weight: weight(i),
			Cursor: Cursor{Last: m.EmployeeID, Streak: turn}}
	}
	last := -1
	for i, m := range members {
		if cur.Last != 0 && m.EmployeeID == cur.Last {
			last = i
			break
		}
	}
	if last >= 0 && takes(members[last]) && cur.Streak < weight(last) {
		return pick(last, cur.Streak+1), true
	}
	n := len(members)
	for k := 0; k < n; k++ {
		i := (last + 1 + k) % n
		if takes(members[i]) {
			return pick(i, 1), true
		}
	}
	return Pick{}, false
}

// Candidates lists the eligible members' employees in list order, but the
// absent ones: under FIRST_RESPONDER, the ones who compete for a new
// client.
func Candidates(members []Member) []int64 {
	var out []int64
	for _, m := range members {
		if m.takes() {
			out = append(out, m.EmployeeID)
		}
	}
	return out
}

// Rebase keeps the cursor on the last assignee across an edit of the member
// list (before → after, employee ids in list order). When the last assignee
// was removed, the cursor moves to the nearest member before it that
// remains, with its turn spent, so the next client goes to whoever followed
// the removed member.
func Rebase(before, after []int64, cur Cursor) Cursor {
	if cur.Last == 0 {
		return cur
	}
	remains := make(map[int64]bool, len(after))
	for _, id := range after {
		remains[id] = true
	}
	if remains[cur.Last] {
		return cur
	}
	at := -1
	for i, id := range before {
		if id == cur.Last {
			at = i
			break
		}
	}
	if at < 0 {
		return Cursor{}
	}
	n := len(before)
	for k := 1; k < n; k++ {
		if id := before[(at-k+n)%n]; remains[id] {
			return Cursor{Last: id, Streak: spent}
		}
	}
	return Cursor{}
}
