package push

import (
	"reflect"
	"testing"

	"github.com/switchboardhq/switchboard/server/access"
)

const (
	rep1 = iota + 1
	rep2
	rep3
	mgr
	qc
	mgrBlind // a manager who somehow cannot view (deactivated)
)

func members() []Viewer {
	return []Viewer{
		{rep1, access.SalesRep, true},
		{rep2, access.SalesRep, true},
		{rep3, access.SalesRep, false},
		{mgr, access.Manager, true},
		{qc, access.QualityControl, true},
		{mgrBlind, access.Manager, false},
	}
}

// TestForMessage walks the SPEC §6 table.
func TestForMessage(t *testing.T) {
	g := Push{Reason: GeneralChat}
	tests := []struct {
		name string
		in   Message
		want []Push
	}{
		{"R set: push R only",
			Message{Responsible: rep1, Members: members()},
			[]Push{{rep1, Responsible}}},
		{"R newly assigned: NEW_CLIENT_ASSIGNED",
			Message{Responsible: rep1, Assigned: true, Members: members()},
			[]Push{{rep1, NewClientAssigned}}},
		{"R set, notify managers: R, managers who can view, general chat",
			Message{Responsible: rep1, NotifyManagersAll: true, Members: members()},
			[]Push{{rep1, Responsible}, {mgr, ManagerAllMessages}, g}},
		{"manager is R: one push, as responsible",
			Message{Responsible: mgr, NotifyManagersAll: true, Members: members()},
			[]Push{{mgr, Responsible}, g}},
		{"managers not notified unless R",
			Message{Responsible: rep2, Members: members()},
			[]Push{{rep2, Responsible}}},
		{"pending first responder: every candidate who can view",
			Message{Candidates: []int64{rep1, rep2, rep3}, Members: members()},
			[]Push{{rep1, NewClientCandidate}, {rep2, NewClientCandidate}}},
		{"pending, notify managers",
			Message{Candidates: []int64{rep1, mgr}, NotifyManagersAll: true, Members: members()},
			[]Push{{rep1, NewClientCandidate}, {mgr, NewClientCandidate}, g}},
		{"nobody eligible: general chat only",
			Message{Members: members()},
			[]Push{g}},
		{"nobody eligible, notify managers: managers and general chat",
			Message{NotifyManagersAll: true, Members: members()},
			[]Push{{mgr, ManagerAllMessages}, g}},
		{"R cannot view: not pushed, general chat instead",
			Message{Responsible: rep3, Members: members()},
			[]Push{g}},
		{"quality control is never pushed, even as R",
			Message{Responsible: qc, NotifyManagersAll: true, Members: members()},
			[]Push{{mgr, ManagerAllMessages}, g}},
		{"a non-member is never pushed",
			Message{Responsible: 99, Members: members()},
			[]Push{g}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ForMessage(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			seen := map[int64]bool{}
			for _, p := range got {
				if p.EmployeeID != 0 && seen[p.EmployeeID] {
					t.Fatalf("employee %d pushed twice", p.EmployeeID)
				}
				seen[p.EmployeeID] = true
			}
		})
	}
}

func TestForChange(t *testing.T) {
	before := []Viewer{{rep1, access.SalesRep, true}, {rep2, access.SalesRep, true}, {rep3, access.SalesRep, true}, {mgr, access.Manager, true}, {qc, access.QualityControl, true}}
	// rep1 claims; rep3 still sees (visibility ALL, say), rep2 loses it.
	after := []Viewer{{rep1, access.SalesRep, true}, {rep2, access.SalesRep, false}, {rep3, access.SalesRep, true}, {mgr, access.Manager, true}, {qc, access.QualityControl, true}}
	got := ForChange(before, after, rep1)
	want := []Push{{rep2, ChatRevoked}, {rep1, NewClientAssigned}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	// Someone who never saw the chat is not revoked.
	before[1].CanView = false
	if got := ForChange(before, after, rep1); !reflect.DeepEqual(got, []Push{{rep1, NewClientAssigned}}) {
		t.Fatalf("got %v", got)
	}
}
