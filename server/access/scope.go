package access

// Scope is which chats of one channel an employee may view, as a filter a
// query can apply: every chat, or chats by their client's responsible.
type Scope struct {
	// All: every chat of the channel.
	All bool
	// Own: chats of clients the employee is responsible for.
	Own bool
	// Unassigned: chats of clients nobody is responsible for.
	Unassigned bool
	// Others: chats of clients another employee is responsible for.
	Others bool
}

// Shows reports whether the scope includes a chat whose client has
// responsibility r.
func (s Scope) Shows(r Responsibility) bool {
	switch {
	case s.All:
		return true
	case r == Self:
		return s.Own
	case r == Unassigned:
		return s.Unassigned
	default:
		return s.Others
	}
}

// ScopeOf derives the employee's viewing scope on a channel from Decide, so
// the two cannot disagree: a chat is in the scope exactly when Decide lets
// the employee view it.
func ScopeOf(in Input) Scope {
	view := func(r Responsibility) bool {
		in.Responsible = r
		return Decide(in).View
	}
	s := Scope{Own: view(Self), Unassigned: view(Unassigned), Others: view(Other)}
	if s.Own && s.Unassigned && s.Others {
		return Scope{All: true}
	}
	return s
}
