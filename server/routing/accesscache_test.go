package routing

import (
	"testing"
	"time"
)

// An entry asked about past half its ttl is renewed in the background; an
// invalidation that arrives while the renewal reads wins over what it read.
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

	t.Run("young entries are not renewed", func(t *testing.T) {
		c := fill()
		if _, _, ok, renew := c.lookup(1, 100, t0.Add(ttl/4)); !ok || renew {
			t.Fatalf("ok %v renew %v, want a hit without renewal", ok, renew)
		}
		if _, due := c.takeRenewal(); due {
			t.Fatal("something is due")
		}
	})

	t.Run("an old entry in use is renewed once", func(t *testing.T) {
		c := fill()
		at := t0.Add(ttl * 3 / 4)
		if _, _, ok, renew := c.lookup(1, 100, at); !ok || !renew {
			t.Fatalf("ok %v renew %v, want a hit that starts a renewal", ok, renew)
		}
		if _, _, _, renew := c.lookup(1, 101, at); renew {
			t.Fatal("a second renewal started while one runs")
		}
		due, ok := c.takeRenewal()
		if !ok || len(due.contacts) != 2 || len(due.accounts) != 1 {
			t.Fatalf("due %+v", due)
		}
		c.renewed(due, map[int64]*int64{1000: &other, 1001: &rep}, []int64{1}, at)
		// Past the first ttl, answered from the renewal.
		_, resp, ok, _ := c.lookup(1, 100, at.Add(ttl*3/8))
		if !ok || resp == nil || *resp != other {
			t.Fatalf("ok %v responsible %v, want the renewed %d", ok, resp, other)
		}
		if _, more := c.takeRenewal(); more {
			t.Fatal("still due after renewal")
		}
		// The round ended: the next old entry starts another.
		if _, _, _, renew := c.lookup(1, 100, at.Add(ttl*3/4)); !renew {
			t.Fatal("no renewal after the first ended")
		}
	})

	t.Run("an unused entry ages out", func(t *testing.T) {
		c := fill()
		if _, _, ok, _ := c.lookup(1, 100, t0.Add(ttl+time.Millisecond)); ok {
			t.Fatal("hit past ttl")
		}
	})

	t.Run("a responsible change during the read wins", func(t *testing.T) {
		c := fill()
		at := t0.Add(ttl * 3 / 4)
		c.lookup(1, 100, at)
		due, _ := c.takeRenewal()
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
		due, _ := c.takeRenewal()
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
		due, _ := c.takeRenewal()
		c.directoryChanged(1)
		c.remember(c.begin(), 1, 101, 10, 1001, &rep, true, t0) // an older read makes it current again
		c.renewed(due, map[int64]*int64{1000: &rep, 1001: &rep}, []int64{1}, at)
		if _, _, ok, _ := c.lookup(1, 100, t0.Add(ttl*3/2)); ok {
			t.Fatal("the renewal declared current a directory that changed while it read")
		}
	})

	t.Run("a failed renewal lets a later one start", func(t *testing.T) {
		c := fill()
		at := t0.Add(ttl * 3 / 4)
		c.lookup(1, 100, at)
		c.takeRenewal()
		c.stopRenewing()
		if _, _, _, renew := c.lookup(1, 101, at); !renew {
			t.Fatal("no renewal after a failed one")
		}
	})
}
