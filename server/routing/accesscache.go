package routing

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/server/bus"
	"github.com/switchboardhq/switchboard/server/store"
)

// accessCache lets CheckAccess answer from memory: which channel and client
// a chat is (that never changes), each client's responsible, and whether
// the account's directory snapshot is known to be current. Changes made
// through this replica are applied when they commit; changes made through
// another replica arrive on the bus within milliseconds; an entry older
// than ttl is read again, which bounds staleness when a bus message is
// lost. Only CheckAccess reads it: writes and the other reads decide on
// what they read in their own transaction.
type accessCache struct {
	ttl time.Duration

	mu    sync.Mutex
	chats map[int64]chatKey
	resp  map[int64]respEntry
	fresh map[int64]time.Time // account → when its snapshot was last confirmed current
	// epoch moves with every invalidation: what a query read while one
	// happened may already be stale, so it is not remembered.
	epoch uint64
}

type chatKey struct {
	account, channel, contact int64
}

type respEntry struct {
	account     int64
	responsible *int64
	at          time.Time
}

// cacheLimit bounds each map; past it a map starts over.
const cacheLimit = 200_000

func newAccessCache(ttl time.Duration) *accessCache {
	return &accessCache{ttl: ttl, chats: map[int64]chatKey{}, resp: map[int64]respEntry{}, fresh: map[int64]time.Time{}}
}

// lookup returns what CheckAccess needs of a chat, if all of it is known
// and current.
func (c *accessCache) lookup(account, chatID int64, now time.Time) (channel int64, responsible *int64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.chats[chatID]
	if !ok || k.account != account {
		return 0, nil, false
	}
	r, ok := c.resp[k.contact]
	if !ok || now.Sub(r.at) > c.ttl {
		return 0, nil, false
	}
	if at, ok := c.fresh[account]; !ok || now.Sub(at) > c.ttl {
		return 0, nil, false
	}
	return k.channel, r.responsible, true
}

// begin returns the epoch to pass to remember, read before querying.
func (c *accessCache) begin() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// remember records what a query begun at epoch read at time at: the chat,
// its client's responsible, and that the snapshot at the version read is
// current.
func (c *accessCache) remember(epoch uint64, account, chatID, channel, contact int64, responsible *int64, snapshotCurrent bool, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch {
		return
	}
	if len(c.chats) > cacheLimit {
		c.chats = map[int64]chatKey{}
	}
	if len(c.resp) > cacheLimit {
		c.resp = map[int64]respEntry{}
	}
	if chatID != 0 {
		c.chats[chatID] = chatKey{account: account, channel: channel, contact: contact}
	}
	c.resp[contact] = respEntry{account: account, responsible: responsible, at: at}
	if snapshotCurrent {
		c.fresh[account] = at
	}
}

// directoryChanged forgets that an account's snapshot is current (0: every
// account's).
func (c *accessCache) directoryChanged(account int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	if account == 0 {
		clear(c.fresh)
		return
	}
	delete(c.fresh, account)
}

// responsibleChanged forgets a client's responsible.
func (c *accessCache) responsibleChanged(contact int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	delete(c.resp, contact)
}

// reset forgets everything that can change (after a lost bus connection).
func (c *accessCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	clear(c.resp)
	clear(c.fresh)
}

// watch keeps the cache current: directory changes committed through this
// replica, and what other replicas say on the bus.
func (c *accessCache) watch(st *store.Store, b *bus.Bus) {
	st.OnDirectoryChange(func(account int64) {
		c.directoryChanged(account)
		b.Publish(bus.Directory, strconv.FormatInt(account, 10))
	})
	b.Handle(bus.Directory, func(p string) {
		account, _ := strconv.ParseInt(p, 10, 64)
		c.directoryChanged(account)
	})
	b.Handle(bus.Responsible, func(p string) {
		_, contact, _ := strings.Cut(p, ":")
		id, _ := strconv.ParseInt(contact, 10, 64)
		c.responsibleChanged(id)
	})
	b.OnReconnect(c.reset)
}

// handsChanged arranges, once tx commits, for every replica to forget the
// responsible of clients that existed before tx (a client created in tx was
// in nobody's cache).
func (r *Router) handsChanged(tx *ent.Tx, account int64, contacts ...int64) {
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			if err == nil {
				for _, id := range contacts {
					r.access.responsibleChanged(id)
					r.bus.Publish(bus.Responsible, strconv.FormatInt(account, 10)+":"+strconv.FormatInt(id, 10))
				}
			}
			return err
		})
	})
}
