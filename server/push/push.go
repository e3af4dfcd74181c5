package push

import "github.com/switchboardhq/switchboard/server/access"

// Reason is why an employee is pushed.
type Reason int

// Reasons.
const (
	Responsible Reason = iota + 1
	NewClientAssigned
	NewClientCandidate
	ManagerAllMessages
	GeneralChat
	ChatRevoked
	// ManagerEscalation: a reply deadline ran out with no pass left (SPEC
	// §11); the channel's managers are told.
	ManagerEscalation
)

func (r Reason) String() string {
	switch r {
	case Responsible:
		return "RESPONSIBLE"
	case NewClientAssigned:
		return "NEW_CLIENT_ASSIGNED"
	case NewClientCandidate:
		return "NEW_CLIENT_CANDIDATE"
	case ManagerAllMessages:
		return "MANAGER_ALL_MESSAGES"
	case GeneralChat:
		return "GENERAL_CHAT"
	case ChatRevoked:
		return "CHAT_REVOKED"
	case ManagerEscalation:
		return "MANAGER_ESCALATION"
	}
	return "UNKNOWN"
}

// Push is one decision; EmployeeID 0 is the general chat.
type Push struct {
	EmployeeID int64
	Reason     Reason
}

// Viewer is a member of the chat's channel with its access to the chat.
type Viewer struct {
	EmployeeID int64
	Role       access.Role
	CanView    bool
}

// Message describes an incoming message's chat after routing.
type Message struct {
	// Responsible is the client's responsible; 0 for none.
	Responsible int64
	// Assigned is true when Responsible was chosen by this message.
	Assigned bool
	// Candidates compete for the client under FIRST_RESPONDER (no
	// responsible yet).
	Candidates []int64
	// NotifyManagersAll is the account setting.
	NotifyManagersAll bool
	// Members are the channel's members, in list order.
	Members []Viewer
}

// ForMessage decides the pushes for an incoming message, in order: the
// responsible (or the candidates), then managers. Nobody who cannot view the
// chat is pushed, quality control never is, and nobody twice. The general
// chat gets the message when the account notifies managers of all messages,
// and whenever no responsible or candidate was pushed: a message nobody is in
// charge of must land somewhere everybody can see.
func ForMessage(m Message) []Push {
	canView := make(map[int64]bool, len(m.Members))
	role := make(map[int64]access.Role, len(m.Members))
	for _, v := range m.Members {
		canView[v.EmployeeID] = v.CanView
		role[v.EmployeeID] = v.Role
	}
	var out []Push
	seen := map[int64]bool{}
	add := func(id int64, r Reason) bool {
		if id == 0 || seen[id] || !canView[id] || role[id] == access.QualityControl {
			return false
		}
		seen[id] = true
		out = append(out, Push{EmployeeID: id, Reason: r})
		return true
	}
	inCharge := false
	if m.Responsible != 0 {
		r := Responsible
		if m.Assigned {
			r = NewClientAssigned
		}
		inCharge = add(m.Responsible, r)
	} else {
		for _, c := range m.Candidates {
			inCharge = add(c, NewClientCandidate) || inCharge
		}
	}
	if m.NotifyManagersAll {
		for _, v := range m.Members {
			if v.Role == access.Manager {
				add(v.EmployeeID, ManagerAllMessages)
			}
		}
	}
	if m.NotifyManagersAll || !inCharge {
		out = append(out, Push{Reason: GeneralChat})
	}
	return out
}

// ForChange decides the pushes for a claim or a transfer: CHAT_REVOKED to
// everyone who could view the chat before and cannot after, and
// NEW_CLIENT_ASSIGNED to the new responsible.
func ForChange(before, after []Viewer, newResponsible int64) []Push {
	sees := map[int64]bool{}
	for _, v := range after {
		if v.CanView {
			sees[v.EmployeeID] = true
		}
	}
	var out []Push
	for _, v := range before {
		if v.CanView && !sees[v.EmployeeID] && v.Role != access.QualityControl && v.EmployeeID != newResponsible {
			out = append(out, Push{EmployeeID: v.EmployeeID, Reason: ChatRevoked})
		}
	}
	if newResponsible != 0 && sees[newResponsible] {
		out = append(out, Push{EmployeeID: newResponsible, Reason: NewClientAssigned})
	}
	return out
}
