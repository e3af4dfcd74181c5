package outbox_test

import (
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/server/testenv"
)

// TestPaceAcrossReplicas counts the requests that reach a CRM endpoint
// from every replica together: in no one-second window more than the
// CRM's limit (amoCRM, 7 per second per account).
func TestPaceAcrossReplicas(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := setup(t, b)
		o := f.start(f.st, &deliver{replica: "a", paced: true})
		if b.Name == "postgres" {
			f.start(testenv.OpenStore(t, f.url), &deliver{replica: "b", paced: true})
		}
		const jobs = 28
		ids := f.enqueueMany(o, jobs, 4)
		waitFor(t, 30*time.Second, "every job's effect", func() bool { return f.sink.effectCount() >= len(ids) })
		f.checkExactlyOnce(ids)

		f.sink.mu.Lock()
		defer f.sink.mu.Unlock()
		at := f.sink.arrivals
		limit := int(amoCRMLimit.PerSecond)
		most := 0
		for i := range at {
			n := 0
			for j := i; j < len(at) && at[j].Sub(at[i]) < time.Second; j++ {
				n++
			}
			most = max(most, n)
		}
		span := at[len(at)-1].Sub(at[0])
		rate := float64(len(at)-1) / span.Seconds()
		t.Logf("%d requests in %v (%.2f/s; at most %d in one second); by replica %v", len(at), span.Round(time.Millisecond), rate, most, f.sink.byServer)
		if most > limit {
			t.Errorf("%d requests in one second, limit %d", most, limit)
		}
		if rate > amoCRMLimit.PerSecond {
			t.Errorf("%.2f requests per second, limit %v", rate, amoCRMLimit.PerSecond)
		}
		if b.Name == "postgres" && (f.sink.byServer["a"] == 0 || f.sink.byServer["b"] == 0) {
			t.Errorf("requests by replica %v: want both to have worked", f.sink.byServer)
		}
	})
}
