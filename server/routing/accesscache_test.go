package routing

import (
	"testing"
	"time"
)

// What CheckAccess was asked about lately is renewed in the background
// once past half its ttl; an invalidation that arrives while the renewal
// reads wins over what it read.
func TestAccessCacheRenewal(t *testing.T) {
	const ttl = 2 * time.Second
	t0 := time.Unix(1_000_000, 0)
	rep, other := int64(7), int64(8)
	fill := func() *accessCache {
		c := newAccessCache(ttl)
		c.remember(c.begin(), 1, 100, 10, 1000, &rep, true, t0)
		c.remember(c.begin(), 1, 101, 10, 1001, &rep, true, t0)
		return c
	}

	t.Run("young entries are not read again", func(t *testing.T) {
		c := fill()
		if _, _, ok, renew := c.lookup(1, 100, t0.Add(ttl/4)); !ok || !renew {
			t.Fatalf("ok %v renew %v, want a hit that starts renewing", ok, renew)
		}
		due, more := c.takeRenewal(t0.Add(ttl / 4))
		if len(due.contacts) != 0 || len(due.accounts) != 0 || !more {
			t.Fatalf("due %+v more %v", due, more)
		}
	})

	t.Run("an old entry asked about is renewed, one not asked about is not", func(t *testing.T) {
		c := fill()
		at := t0.Add(ttl * 3 / 4)
		if _, _, ok, renew := c.lookup(1, 100, at); !ok || !renew {
			t.Fatalf("ok %v renew %v, want a hit that starts renewing", ok, renew)
		}
		if _, _, _, renew := c.lookup(1, 100, at); renew {
			t.Fatal("a second renewal started while one runs")
		}
		due, more := c.takeRenewal(at)
		if !more || len(due.contacts) != 1 || len(due.accounts) != 1 {
			t.Fatalf("due %+v more %v", due, more)
		}
		if _, ok := due.contacts[1000]; !ok {
			t.Fatalf("due %+v, want client 1000", due)
		}
		c.renewed(due, map[int64]*int64{1000: &other}, []int64{1}, at)
		// Past the first ttl, answered from the renewal.
		_, resp, ok, _ := c.lookup(1, 100, at.Add(ttl*3/8))
		if !ok || resp == nil || *resp != other {
			t.Fatalf("ok %v responsible %v, want the renewed %d", ok, resp, other)
		}
		if _, _, ok, _ := c.lookup(1, 101, at.Add(ttl*3/8)); ok {
			t.Fatal("an entry nobody asked about was kept past its ttl")
		}
	})

	t.Run("renewal ends when nothing was asked about within keep", func(t *testing.T) {
		c := fill()
		c.lookup(1, 100, t0)
		later := t0.Add(c.keep + time.Second)
		if _, more := c.takeRenewal(later); more {
			t.Fatal("renewing goes on with nothing asked about")
		}
		if _, _, _, renew := c.lookup(1, 100, later); !renew {
			t.Fatal("a new question does not start renewing again")
		}
	})

	t.Run("a responsible change during the read wins", func(t *testing.T) {
		c := fill()
		at := t0.Add(ttl * 3 / 4)
		c.lookup(1, 100, at)
		due, _ := c.takeRenewal(at)
		c.responsibleChanged(1000)
		c.renewed(due, map[int64]*int64{1000: &rep}, []int64{1}, at)
		if _, _, ok, _ := c.lookup(1, 100, at); ok {
			t.Fatal("the renewal brought back a forgotten responsible")
		}
	})

	t.Run("a client answered again meanwhile keeps the newer answer", func(t *testing.T) {
		c := fill()
		at := t0.Add(ttl * 3 / 4)
		c.lookup(1, 100, at)
		due, _ := c.takeRenewal(at)
		c.remember(c.begin(), 1, 100, 10, 1000, &other, true, at)
		c.renewed(due, map[int64]*int64{1000: &rep}, []int64{1}, at)
		if _, resp, ok, _ := c.lookup(1, 100, at); !ok || *resp != other {
			t.Fatalf("ok %v responsible %v, want %d", ok, resp, other)
		}
	})

	t.Run("a directory change during the read leaves the account stale", func(t *testing.T) {
		c := fill()
		at := t0.Add(ttl * 3 / 4)
		c.lookup(1, 100, at)
		due, _ := c.takeRenewal(at)
		c.directoryChanged(1)
		c.remember(c.begin(), 1, 101, 10, 1001, &rep, true, t0) // an older read makes it current again
		c.renewed(due, map[int64]*int64{1000: &rep}, []int64{1}, at)
		if _, _, ok, _ := c.lookup(1, 100, at.Add(ttl*3/8)); ok {
			t.Fatal("the renewal declared current a directory that changed while it read")
		}
	})

	t.Run("a failed renewal lets a later one start", func(t *testing.T) {
		c := fill()
		c.lookup(1, 100, t0)
		c.stopRenewing()
		if _, _, _, renew := c.lookup(1, 101, t0); !renew {
			t.Fatal("no renewal after a failed one")
		}
	})
}
