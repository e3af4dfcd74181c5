package access

import "fmt"

// Role is an employee's role on a channel.
type Role int

// Roles.
const (
	SalesRep Role = iota + 1
	Manager
	QualityControl
)

func (r Role) String() string {
	switch r {
	case SalesRep:
		return "sales rep"
	case Manager:
		return "manager"
	case QualityControl:
		return "quality control"
	}
	return "unknown role"
}

// Level is a member's access on a channel.
type Level int

// Levels.
const (
	ReadOnly Level = iota + 1
	ReadWrite
)

// Visibility is the account's global chat visibility.
type Visibility int

// Visibilities.
const (
	Own Visibility = iota + 1
	OwnAndUnassigned
	All
)

func (v Visibility) String() string {
	switch v {
	case Own:
		return "OWN"
	case OwnAndUnassigned:
		return "OWN_AND_UNASSIGNED"
	case All:
		return "ALL"
	}
	return "unknown"
}

// Responsibility is the chat's client's responsible, seen from the employee.
type Responsibility int

// Responsibilities.
const (
	Unassigned Responsibility = iota + 1
	Self
	Other
)

// Member is an employee's member record on the chat's channel.
type Member struct {
	Role               Role
	Access             Level
	ReceivesNewClients bool
}

// Input is everything the decision depends on.
type Input struct {
	// Member is nil when the employee is not a member of the channel.
	Member *Member
	// Active is false for a deactivated employee.
	Active bool
	// ChatAdmin is the account-wide chat admin flag of the employee.
	ChatAdmin bool
	// Responsible is who the client belongs to.
	Responsible Responsibility
	// FirstResponder is true when the channel distributes by FIRST_RESPONDER.
	FirstResponder bool
	// Visibility is the account's global chat visibility.
	Visibility Visibility
}

// Rule names the row of the table that decided.
type Rule int

// Rules, in the table's order.
const (
	RuleNotAMember Rule = iota + 1
	RuleDeactivated
	RuleQualityControl
	RuleManager
	RuleChatAdmin
	RuleResponsible
	RuleFirstResponderCandidate
	RuleUnassignedVisible
	RuleAllVisible
	RuleNotVisible
)

// Decision is the answer for one employee and one chat.
type Decision struct {
	View bool
	// Write implies View.
	Write bool
	// Claims is true when writing would make the employee responsible for
	// the unassigned client.
	Claims bool
	Rule   Rule
	// Explanation says why, in words a support person can read.
	Explanation string
}

// Decide applies the access table of SPEC §3: the first matching row wins.
func Decide(in Input) Decision {
	m := in.Member
	switch {
	case m == nil:
		return Decision{Rule: RuleNotAMember, Explanation: "not a member of the channel: cannot view or write"}
	case !in.Active:
		return Decision{Rule: RuleDeactivated, Explanation: "employee is deactivated: cannot view or write"}
	case m.Role == QualityControl:
		return Decision{View: true, Rule: RuleQualityControl,
			Explanation: "quality control: views every chat of the channel, never writes"}
	case m.Role == Manager:
		d := Decision{View: true, Write: m.Access == ReadWrite, Rule: RuleManager}
		d.Explanation = "manager: views every chat of the channel; " + writeWords(d.Write)
		return d
	case in.ChatAdmin:
		rep := salesRep(in)
		d := Decision{View: true, Write: rep.Write, Claims: rep.Claims, Rule: RuleChatAdmin}
		d.Explanation = "chat admin: views every chat of the channel; as a sales rep " + repContext(in, rep) + ": " + writeOutcome(d, m.Access == ReadWrite)
		return d
	}
	return salesRep(in)
}

// salesRep decides the SALES_REP rows of the table.
func salesRep(in Input) Decision {
	m := in.Member
	rw := m.Access == ReadWrite
	switch {
	case in.Responsible == Self:
		return Decision{View: true, Write: rw, Rule: RuleResponsible,
			Explanation: "sales rep, responsible for the client: can view; " + writeWords(rw)}
	case in.Responsible == Unassigned && in.FirstResponder && m.ReceivesNewClients:
		return Decision{View: true, Write: rw, Claims: rw, Rule: RuleFirstResponderCandidate,
			Explanation: "sales rep, first-responder candidate for an unassigned client: can view; " + claimWords(rw)}
	case in.Responsible == Unassigned && (in.Visibility == OwnAndUnassigned || in.Visibility == All):
		return Decision{View: true, Write: rw, Claims: rw, Rule: RuleUnassignedVisible,
			Explanation: fmt.Sprintf("sales rep, unassigned client, global visibility %s: can view; %s", in.Visibility, claimWords(rw))}
	case in.Responsible == Other && in.Visibility == All:
		return Decision{View: true, Rule: RuleAllVisible,
			Explanation: "sales rep, another employee's client, global visibility ALL: can view, cannot write"}
	}
	who := "not responsible"
	if in.Responsible == Unassigned {
		who = "unassigned client, not a first-responder candidate"
	}
	return Decision{Rule: RuleNotVisible,
		Explanation: fmt.Sprintf("sales rep, %s, global visibility %s: cannot view", who, in.Visibility)}
}

// repContext names the sales-rep situation behind a decision, for the chat
// admin's explanation.
func repContext(in Input, rep Decision) string {
	switch rep.Rule {
	case RuleResponsible:
		return "responsible for the client"
	case RuleFirstResponderCandidate:
		return "and first-responder candidate"
	case RuleUnassignedVisible:
		return "with an unassigned client under global visibility " + in.Visibility.String()
	case RuleAllVisible:
		return "with another employee's client"
	}
	if in.Responsible == Unassigned {
		return "with an unassigned client it cannot claim"
	}
	return "not responsible for the client"
}

func writeOutcome(d Decision, rw bool) string {
	switch {
	case d.Claims:
		return "can write, and writing claims the client"
	case d.Write:
		return "can write"
	case !rw:
		return "cannot write (read-only access)"
	}
	return "cannot write"
}

func writeWords(write bool) string {
	if write {
		return "can write (read-write access)"
	}
	return "cannot write (read-only access)"
}

func claimWords(write bool) string {
	if write {
		return "can write, and writing claims the client"
	}
	return "cannot write (read-only access)"
}
