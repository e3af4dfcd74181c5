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
		// The first answer starts renewing; the second finds it running.
		if !c.remember(c.begin(), 1, 100, 10, 1000, &rep, true, t0) {
			t.Fatal("the first answer does not start renewing")
		}
		if c.remember(c.begin(), 1, 101, 10, 1001, &rep, true, t0) {
			t.Fatal("a second renewal started while one runs")
		}
		return c
	}

	t.Run("young entries are not read again", func(t *testing.T) {
		c := fill()
		if _, _, ok, renew := c.lookup(1, 100, t0.Add(ttl/4)); !ok || renew {
			t.Fatalf("ok %v renew %v, want a hit", ok, renew)
		}
		due, more := c.takeRenewal(t0.Add(ttl / 4))
		if len(due.clients) != 0 || len(due.accounts) != 0 || !more {
			t.Fatalf("due %+v more %v", due, more)
		}
	})

	t.Run("old entries asked about are renewed", func(t *testing.T) {
		c := fill()
		at := t0.Add(ttl * 3 / 4)
		if _, _, ok, renew := c.lookup(1, 100, at); !ok || renew {
			t.Fatalf("ok %v renew %v, want a hit", ok, renew)
		}
		due, more := c.takeRenewal(at)
		if !more || len(due.clients) != 2 || len(due.accounts) != 1 {
			t.Fatalf("due %+v more %v", due, more)
		}
		c.renewed(due, map[int64]*int64{1000: &other, 1001: &rep}, []int64{1}, at)
		// Past the first ttl, answered from the renewal.
		_, resp, ok, _ := c.lookup(1, 100, at.Add(ttl*3/8))
		if !ok || resp == nil || *resp != other {
			t.Fatalf("ok %v responsible %v, want the renewed %d", ok, resp, other)
		}
	})

	t.Run("an entry not asked about within keep is not renewed", func(t *testing.T) {
		c := fill()
		later := t0.Add(c.keep / 2)
		c.lookup(1, 100, later)
		due, _ := c.takeRenewal(t0.Add(c.keep + time.Millisecond))
		if _, ok := due.clients[1001]; ok || len(due.clients) != 1 {
			t.Fatalf("due %+v, want client 1000 only", due)
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
