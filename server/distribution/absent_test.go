package distribution

import (
	"reflect"
	"testing"
)

// absentRun distributes one client per step; absent[i] lists who is absent
// when client i+1 arrives.
func absentRun(t *testing.T, mode Mode, keep bool, ms []Member, absent [][]int64) []string {
	t.Helper()
	var got []string
	cur := Cursor{}
	for i, away := range absent {
		step := make([]Member, len(ms))
		copy(step, ms)
		for j := range step {
			for _, id := range away {
				if step[j].EmployeeID == id {
					step[j].Absent = true
				}
			}
		}
		var p Pick
		var ok bool
		if keep {
			p, ok = NextKeepingTurns(mode, step, cur)
		} else {
			p, ok = Next(mode, step, cur)
		}
		if !ok {
			got = append(got, "-")
			continue
		}
		if p.StandsIn != nil && p.Cursor != cur {
			t.Fatalf("client %d: a stand-in moved the cursor", i+1)
		}
		got = append(got, names[p.EmployeeID])
		cur = p.Cursor
	}
	return got
}

func TestAbsentMembers(t *testing.T) {
	spec := list(map[int64]int{tony: 2}, bruce, scrooge, tony, constantine)
	none := []int64{}
	tonyAway := []int64{tony}
	cases := []struct {
		name   string
		mode   Mode
		keep   bool
		absent [][]int64
		want   []string
	}{
		{"nobody absent is the spec's sequence, passing", Weighted, false,
			[][]int64{none, none, none, none, none, none},
			[]string{"Bruce", "Scrooge", "Tony", "Tony", "Constantine", "Bruce"}},
		{"nobody absent is the spec's sequence, keeping turns", Weighted, true,
			[][]int64{none, none, none, none, none, none},
			[]string{"Bruce", "Scrooge", "Tony", "Tony", "Constantine", "Bruce"}},
		// Tony is away for clients 3 and 4; passing, the cycle moves on
		// from Constantine and Tony's next turn comes in the next round.
		{"weighted, Tony passes his turn", Weighted, false,
			[][]int64{none, none, tonyAway, tonyAway, none, none, none, none},
			[]string{"Bruce", "Scrooge", "Constantine", "Bruce", "Scrooge", "Tony", "Tony", "Constantine"}},
		// Keeping it, Constantine stands in for clients 3 and 4 and the
		// spec's sequence continues exactly from Tony when he is back.
		{"weighted, Tony keeps his turn", Weighted, true,
			[][]int64{none, none, tonyAway, tonyAway, none, none, none, none, none},
			[]string{"Bruce", "Scrooge", "Constantine", "Constantine", "Tony", "Tony", "Constantine", "Bruce", "Scrooge"}},
		// Away in the middle of his two clients: he keeps the second.
		{"weighted, Tony keeps the rest of his streak", Weighted, true,
			[][]int64{none, none, none, tonyAway, none, none},
			[]string{"Bruce", "Scrooge", "Tony", "Constantine", "Tony", "Constantine"}},
		{"weighted, Tony's streak is cut when passing", Weighted, false,
			[][]int64{none, none, none, tonyAway, none, none},
			[]string{"Bruce", "Scrooge", "Tony", "Constantine", "Bruce", "Scrooge"}},
		{"round robin, passing", RoundRobin, false,
			[][]int64{none, {scrooge}, {scrooge}, none, none},
			[]string{"Bruce", "Tony", "Constantine", "Bruce", "Scrooge"}},
		{"round robin, keeping", RoundRobin, true,
			[][]int64{none, {scrooge}, {scrooge}, none, none},
			[]string{"Bruce", "Tony", "Tony", "Scrooge", "Tony"}},
		{"everyone absent: nobody, passing", RoundRobin, false,
			[][]int64{{bruce, scrooge, tony, constantine}, none},
			[]string{"-", "Bruce"}},
		{"everyone absent: nobody, keeping", RoundRobin, true,
			[][]int64{{bruce, scrooge, tony, constantine}, none},
			[]string{"-", "Bruce"}},
		{"the stand-in wraps round the list", RoundRobin, true,
			[][]int64{none, none, none, {constantine}, none},
			[]string{"Bruce", "Scrooge", "Tony", "Bruce", "Constantine"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := absentRun(t, c.mode, c.keep, spec, c.absent)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestAbsentAreNotCandidates(t *testing.T) {
	ms := list(nil, bruce, scrooge, tony)
	ms[1].Absent = true
	ms[2].Eligible = false
	if got := Candidates(ms); !reflect.DeepEqual(got, []int64{bruce}) {
		t.Fatalf("candidates %v, want only Bruce", got)
	}
}

func TestStandInExplained(t *testing.T) {
	ms := list(nil, bruce, scrooge)
	ms[0].Absent = true
	p, ok := NextKeepingTurns(RoundRobin, ms, Cursor{})
	if !ok || p.EmployeeID != scrooge || p.StandsIn == nil || p.StandsIn.EmployeeID != bruce {
		t.Fatalf("pick %+v", p)
	}
	want := "ROUND_ROBIN: Scrooge, member 2 of 2, stands in for Bruce, who is absent and keeps the turn"
	if got := p.Explain(RoundRobin, 2); got != want {
		t.Fatalf("explain %q", got)
	}
}
