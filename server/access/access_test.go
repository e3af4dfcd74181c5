package access

import (
	"fmt"
	"strings"
	"testing"
)

func member(role Role, lvl Level, receives bool) *Member {
	return &Member{Role: role, Access: lvl, ReceivesNewClients: receives}
}

// TestDecide walks every row of the SPEC §3 table, first match wins.
func TestDecide(t *testing.T) {
	rw, ro := ReadWrite, ReadOnly
	type want struct {
		view, write, claims bool
		rule                Rule
	}
	tests := []struct {
		name string
		in   Input
		want want
	}{
		// Row 1: no member record, or deactivated.
		{"no member", Input{Active: true, Responsible: Self, Visibility: All}, want{rule: RuleNotAMember}},
		{"no member, chat admin", Input{Active: true, ChatAdmin: true, Visibility: All}, want{rule: RuleNotAMember}},
		{"deactivated responsible", Input{Member: member(SalesRep, rw, true), Responsible: Self, Visibility: All}, want{rule: RuleDeactivated}},
		{"deactivated manager", Input{Member: member(Manager, rw, false), Responsible: Other, Visibility: Own}, want{rule: RuleDeactivated}},
		// Row 2: quality control sees all, never writes (even "read-write").
		{"qc", Input{Member: member(QualityControl, ro, false), Active: true, Responsible: Other, Visibility: Own}, want{view: true, rule: RuleQualityControl}},
		{"qc read-write never writes", Input{Member: member(QualityControl, rw, true), Active: true, Responsible: Unassigned, FirstResponder: true, Visibility: All}, want{view: true, rule: RuleQualityControl}},
		{"qc chat admin", Input{Member: member(QualityControl, ro, false), Active: true, ChatAdmin: true, Responsible: Unassigned, Visibility: Own}, want{view: true, rule: RuleQualityControl}},
		// Row 3: manager sees all, writes with READ_WRITE.
		{"manager rw", Input{Member: member(Manager, rw, false), Active: true, Responsible: Other, Visibility: Own}, want{view: true, write: true, rule: RuleManager}},
		{"manager ro", Input{Member: member(Manager, ro, false), Active: true, Responsible: Other, Visibility: Own}, want{view: true, rule: RuleManager}},
		{"manager unassigned fr does not claim", Input{Member: member(Manager, rw, true), Active: true, Responsible: Unassigned, FirstResponder: true, Visibility: Own}, want{view: true, write: true, rule: RuleManager}},
		// Row 4: chat admin sees all; writes as its sales-rep rows allow.
		{"admin other's client", Input{Member: member(SalesRep, rw, false), Active: true, ChatAdmin: true, Responsible: Other, Visibility: Own}, want{view: true, rule: RuleChatAdmin}},
		{"admin own client rw", Input{Member: member(SalesRep, rw, false), Active: true, ChatAdmin: true, Responsible: Self, Visibility: Own}, want{view: true, write: true, rule: RuleChatAdmin}},
		{"admin own client ro", Input{Member: member(SalesRep, ro, false), Active: true, ChatAdmin: true, Responsible: Self, Visibility: Own}, want{view: true, rule: RuleChatAdmin}},
		{"admin candidate claims", Input{Member: member(SalesRep, rw, true), Active: true, ChatAdmin: true, Responsible: Unassigned, FirstResponder: true, Visibility: Own}, want{view: true, write: true, claims: true, rule: RuleChatAdmin}},
		{"admin unassigned OWN", Input{Member: member(SalesRep, rw, false), Active: true, ChatAdmin: true, Responsible: Unassigned, Visibility: Own}, want{view: true, rule: RuleChatAdmin}},
		{"admin unassigned OWN_AND_UNASSIGNED claims", Input{Member: member(SalesRep, rw, false), Active: true, ChatAdmin: true, Responsible: Unassigned, Visibility: OwnAndUnassigned}, want{view: true, write: true, claims: true, rule: RuleChatAdmin}},
		{"admin other's client ALL", Input{Member: member(SalesRep, rw, false), Active: true, ChatAdmin: true, Responsible: Other, Visibility: All}, want{view: true, rule: RuleChatAdmin}},
		// Row 5: sales rep responsible.
		{"responsible rw", Input{Member: member(SalesRep, rw, false), Active: true, Responsible: Self, Visibility: Own}, want{view: true, write: true, rule: RuleResponsible}},
		{"responsible ro", Input{Member: member(SalesRep, ro, false), Active: true, Responsible: Self, Visibility: Own}, want{view: true, rule: RuleResponsible}},
		// Row 6: first-responder candidate.
		{"candidate rw claims", Input{Member: member(SalesRep, rw, true), Active: true, Responsible: Unassigned, FirstResponder: true, Visibility: Own}, want{view: true, write: true, claims: true, rule: RuleFirstResponderCandidate}},
		{"candidate ro", Input{Member: member(SalesRep, ro, true), Active: true, Responsible: Unassigned, FirstResponder: true, Visibility: Own}, want{view: true, rule: RuleFirstResponderCandidate}},
		{"not receiving on fr, OWN", Input{Member: member(SalesRep, rw, false), Active: true, Responsible: Unassigned, FirstResponder: true, Visibility: Own}, want{rule: RuleNotVisible}},
		{"receiving but round robin, OWN", Input{Member: member(SalesRep, rw, true), Active: true, Responsible: Unassigned, Visibility: Own}, want{rule: RuleNotVisible}},
		// Row 7: unassigned seen by global visibility.
		{"unassigned OWN_AND_UNASSIGNED", Input{Member: member(SalesRep, rw, false), Active: true, Responsible: Unassigned, Visibility: OwnAndUnassigned}, want{view: true, write: true, claims: true, rule: RuleUnassignedVisible}},
		{"unassigned ALL", Input{Member: member(SalesRep, rw, false), Active: true, Responsible: Unassigned, Visibility: All}, want{view: true, write: true, claims: true, rule: RuleUnassignedVisible}},
		{"unassigned ALL ro", Input{Member: member(SalesRep, ro, false), Active: true, Responsible: Unassigned, Visibility: All}, want{view: true, rule: RuleUnassignedVisible}},
		// Row 8: another's client under ALL.
		{"other's ALL", Input{Member: member(SalesRep, rw, true), Active: true, Responsible: Other, FirstResponder: true, Visibility: All}, want{view: true, rule: RuleAllVisible}},
		// Row 9: otherwise.
		{"other's OWN", Input{Member: member(SalesRep, rw, true), Active: true, Responsible: Other, Visibility: Own}, want{rule: RuleNotVisible}},
		{"other's OWN_AND_UNASSIGNED", Input{Member: member(SalesRep, rw, true), Active: true, Responsible: Other, Visibility: OwnAndUnassigned}, want{rule: RuleNotVisible}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(tt.in)
			got := want{d.View, d.Write, d.Claims, d.Rule}
			if got != tt.want {
				t.Fatalf("Decide = %+v (%s); want %+v", got, d.Explanation, tt.want)
			}
			if d.Explanation == "" {
				t.Fatal("no explanation")
			}
		})
	}
}

// allInputs enumerates every combination the table distinguishes.
func allInputs() []Input {
	var out []Input
	members := []*Member{nil}
	for _, r := range []Role{SalesRep, Manager, QualityControl} {
		for _, l := range []Level{ReadOnly, ReadWrite} {
			for _, recv := range []bool{false, true} {
				members = append(members, member(r, l, recv))
			}
		}
	}
	for _, m := range members {
		for _, active := range []bool{false, true} {
			for _, admin := range []bool{false, true} {
				for _, resp := range []Responsibility{Unassigned, Self, Other} {
					for _, fr := range []bool{false, true} {
						for _, vis := range []Visibility{Own, OwnAndUnassigned, All} {
							out = append(out, Input{m, active, admin, resp, fr, vis})
						}
					}
				}
			}
		}
	}
	return out
}

// TestDecideInvariants checks what must hold for every input: writing needs
// viewing, quality control never writes, claims only unassigned clients with
// write access, and every decision explains itself.
func TestDecideInvariants(t *testing.T) {
	for _, in := range allInputs() {
		d := Decide(in)
		name := fmt.Sprintf("%+v member=%+v", in, in.Member)
		if d.Write && !d.View {
			t.Errorf("%s: writes without viewing", name)
		}
		if in.Member != nil && in.Member.Role == QualityControl && d.Write {
			t.Errorf("%s: quality control writes", name)
		}
		if d.Claims && (in.Responsible != Unassigned || !d.Write) {
			t.Errorf("%s: claims %+v", name, d)
		}
		if (in.Member == nil || !in.Active) && d.View {
			t.Errorf("%s: non-member or deactivated views", name)
		}
		if d.View == strings.Contains(d.Explanation, "cannot view") {
			t.Errorf("%s: explanation %q disagrees with view=%v", name, d.Explanation, d.View)
		}
	}
}

// TestScopeAgreesWithDecide: ListVisibleChats' filter shows a chat exactly
// when Decide lets the employee view it.
func TestScopeAgreesWithDecide(t *testing.T) {
	for _, in := range allInputs() {
		s := ScopeOf(in)
		if got, want := s.Shows(in.Responsible), Decide(in).View; got != want {
			t.Errorf("%+v member=%+v: scope %+v shows=%v, Decide view=%v", in, in.Member, s, got, want)
		}
	}
}
