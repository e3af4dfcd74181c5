package distribution

import (
	"reflect"
	"testing"
)

const (
	bruce = iota + 1
	scrooge
	tony
	constantine
	alfred
)

var names = map[int64]string{bruce: "Bruce", scrooge: "Scrooge", tony: "Tony", constantine: "Constantine", alfred: "Alfred"}

func run(t *testing.T, mode Mode, members []Member, cur Cursor, n int) ([]string, Cursor) {
	t.Helper()
	var got []string
	for i := 0; i < n; i++ {
		p, ok := Next(mode, members, cur)
		if !ok {
			t.Fatalf("client %d: nobody eligible", i+1)
		}
		got = append(got, names[p.EmployeeID])
		cur = p.Cursor
	}
	return got, cur
}

func list(weights map[int64]int, order ...int64) []Member {
	var ms []Member
	for _, id := range order {
		w := weights[id]
		if w == 0 {
			w = 1
		}
		ms = append(ms, Member{EmployeeID: id, Name: names[id], Weight: w, Eligible: true})
	}
	return ms
}

// The spec's example: weights Bruce 1, Scrooge 1, Tony 2, Constantine 1.
func TestWeightedSpecExample(t *testing.T) {
	ms := list(map[int64]int{tony: 2}, bruce, scrooge, tony, constantine)
	got, _ := run(t, Weighted, ms, Cursor{}, 10)
	want := []string{"Bruce", "Scrooge", "Tony", "Tony", "Constantine", "Bruce", "Scrooge", "Tony", "Tony", "Constantine"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestRoundRobinIgnoresWeights(t *testing.T) {
	ms := list(map[int64]int{tony: 2}, bruce, scrooge, tony, constantine)
	got, _ := run(t, RoundRobin, ms, Cursor{}, 6)
	want := []string{"Bruce", "Scrooge", "Tony", "Constantine", "Bruce", "Scrooge"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestSkipsIneligible(t *testing.T) {
	ms := list(nil, bruce, scrooge, tony)
	ms[1].Eligible = false
	got, _ := run(t, RoundRobin, ms, Cursor{}, 4)
	if want := []string{"Bruce", "Tony", "Bruce", "Tony"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range ms {
		ms[i].Eligible = false
	}
	if _, ok := Next(RoundRobin, ms, Cursor{}); ok {
		t.Fatal("picked with nobody eligible")
	}
	if _, ok := Next(RoundRobin, nil, Cursor{}); ok {
		t.Fatal("picked from an empty list")
	}
}

func TestOnlyOneEligibleKeepsGetting(t *testing.T) {
	ms := list(map[int64]int{tony: 3}, tony)
	got, cur := run(t, Weighted, ms, Cursor{}, 5)
	if want := []string{"Tony", "Tony", "Tony", "Tony", "Tony"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v", got)
	}
	if cur.Streak != 2 { // 3, then a new turn of 1, 2
		t.Fatalf("streak %d", cur.Streak)
	}
}

// Edits to the member list keep the cursor on the last assignee.
func TestMemberListEdits(t *testing.T) {
	before := []int64{bruce, scrooge, tony, constantine}
	ms := list(nil, bruce, scrooge, tony, constantine)
	_, cur := run(t, RoundRobin, ms, Cursor{}, 2) // Bruce, Scrooge
	if cur.Last != scrooge {
		t.Fatalf("cursor %+v", cur)
	}

	// Reorder and add: the next is whoever follows Scrooge in the new list.
	after := []int64{alfred, scrooge, bruce, constantine, tony}
	cur = Rebase(before, after, cur)
	got, _ := run(t, RoundRobin, list(nil, alfred, scrooge, bruce, constantine, tony), cur, 3)
	if want := []string{"Bruce", "Constantine", "Tony"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after reorder: got %v, want %v", got, want)
	}

	// Remove the last assignee: the next is who followed it.
	cur = Cursor{Last: scrooge, Streak: 1}
	after = []int64{bruce, tony, constantine}
	cur = Rebase(before, after, cur)
	got, _ = run(t, RoundRobin, list(nil, bruce, tony, constantine), cur, 3)
	if want := []string{"Tony", "Constantine", "Bruce"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after removing the last assignee: got %v, want %v", got, want)
	}

	// Remove the first member while it was the last assignee: wrap around.
	cur = Rebase(before, []int64{scrooge, tony, constantine}, Cursor{Last: bruce, Streak: 1})
	got, _ = run(t, Weighted, list(map[int64]int{constantine: 3}, scrooge, tony, constantine), cur, 2)
	if want := []string{"Scrooge", "Tony"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after removing the first member: got %v, want %v", got, want)
	}

	// Everyone removed: start over.
	if c := Rebase(before, nil, Cursor{Last: tony, Streak: 1}); c != (Cursor{}) {
		t.Fatalf("cursor %+v", c)
	}
}

// A weight lowered below the streak ends the turn.
func TestWeightLowered(t *testing.T) {
	ms := list(map[int64]int{tony: 3}, bruce, tony)
	got, _ := run(t, Weighted, ms, Cursor{Last: tony, Streak: 2}, 1)
	if got[0] != "Tony" {
		t.Fatalf("got %v", got)
	}
	ms[1].Weight = 1
	got, _ = run(t, Weighted, ms, Cursor{Last: tony, Streak: 2}, 1)
	if got[0] != "Bruce" {
		t.Fatalf("got %v", got)
	}
}

func TestCandidates(t *testing.T) {
	ms := list(nil, bruce, scrooge, tony)
	ms[0].Eligible = false
	if got := Candidates(ms); !reflect.DeepEqual(got, []int64{scrooge, tony}) {
		t.Fatalf("got %v", got)
	}
}
