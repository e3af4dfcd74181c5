package hubspot

import (
	"net/http"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/server/crm"
)

func TestRateLimitWait(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 40, 30, 0, time.UTC)
	h := http.Header{}
	c := rateLimitClock{now: now, window: DefaultWindow}
	if d := c.wait(PolicySecondly, h); d != 10*time.Second {
		t.Errorf("secondly without headers: %v, want the 10 s window", d)
	}
	h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", "2500")
	if d := c.wait(PolicySecondly, h); d != 2500*time.Millisecond {
		t.Errorf("secondly with the interval header: %v", d)
	}
	h.Set("Retry-After", "7")
	if d := c.wait(PolicySecondly, h); d != 7*time.Second {
		t.Errorf("Retry-After: %v", d)
	}
	if d := c.wait(PolicyDaily, http.Header{}); d != 19*time.Minute+31*time.Second {
		t.Errorf("daily without a zone: %v, want until 10:00 UTC (and a second)", d)
	}
	c.loc = time.FixedZone("UTC+3", 3*3600)
	if d := c.wait(PolicyDaily, http.Header{}); d != 11*time.Hour+19*time.Minute+31*time.Second {
		t.Errorf("daily in UTC+3: %v, want until its midnight (21:00 UTC)", d)
	}
}

// windowLimiter never lets more than n requests into any window.
func TestWindowLimiterBound(t *testing.T) {
	for _, n := range []int{5, 100, 190} {
		l := windowLimiter(n, 10*time.Second)
		start := time.Unix(0, 0)
		admitted := 0
		// Ask every 10 ms for 10 s: the burst, then the refill.
		for ms := 0; ms < 10000; ms += 10 {
			if l.AllowN(start.Add(time.Duration(ms)*time.Millisecond), 1) {
				admitted++
			}
		}
		if admitted > n {
			t.Errorf("n=%d: %d admitted in one window", n, admitted)
		}
		if admitted < n*8/10 {
			t.Errorf("n=%d: only %d admitted in one window", n, admitted)
		}
	}
}

func TestPhoneSpellings(t *testing.T) {
	exact, national := phoneSpellings("+79161234567")
	if len(exact) != 3 || exact[0] != "+79161234567" || exact[1] != "79161234567" || exact[2] != "89161234567" {
		t.Errorf("exact %q", exact)
	}
	if national[0] != "9161234567" {
		t.Errorf("national %q", national)
	}
	_, national = phoneSpellings("+442071234567")
	if len(national) != 3 || national[0] != "2071234567" || national[1] != "071234567" || national[2] != "442071234567" {
		t.Errorf("national for +44: %q", national)
	}
	if e, n := phoneSpellings("12"); e != nil || n != nil {
		t.Errorf("a short number: %q %q", e, n)
	}
}

func TestRegisteredRate(t *testing.T) {
	r, ok := crm.RateOf(crm.HubSpot)
	if !ok || r.PerSecond != 9 || r.Burst != 10 {
		t.Errorf("registered rate %+v, %v; want 9 a second after a burst of 10 (100 in any 10 s)", r, ok)
	}
	if crm.AddressHint(crm.HubSpot) == "" {
		t.Error("no address hint")
	}
}
