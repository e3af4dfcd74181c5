package routing

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/accountsettings"
	"github.com/switchboardhq/switchboard/ent/contact"
	"github.com/switchboardhq/switchboard/server/bus"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/tenant"
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

	// answered and read count CheckAccess calls answered from memory and
	// those that read the database.
	answered, read atomic.Uint64

	mu    sync.Mutex
	chats map[int64]chatKey
	resp  map[int64]respEntry
	fresh map[int64]time.Time // account → when its snapshot was last confirmed current
	// epoch moves with every invalidation: what a query read while one
	// happened may already be stale, so it is not remembered.
	epoch uint64
	// dirEpoch moves with every directory invalidation only.
	dirEpoch uint64
	seq      uint64 // labels each respEntry written

	// Entries asked about within keep are read again in the background
	// once past half their ttl, many in one query, so that a working set
	// that one replica sees less often than every ttl stays in memory
	// instead of costing a query per entry per ttl.
	keep     time.Duration
	renewing bool
	recent   map[int64]time.Time // client → when last asked about
}

type chatKey struct {
	account, channel, client int64
}

type respEntry struct {
	account     int64
	responsible *int64
	at          time.Time
	seq         uint64
}

// cacheLimit bounds each map; past it a map starts over.
const cacheLimit = 200_000

func newAccessCache(ttl time.Duration) *accessCache {
	return &accessCache{ttl: ttl, keep: 15 * ttl, chats: map[int64]chatKey{}, resp: map[int64]respEntry{}, fresh: map[int64]time.Time{},
		recent: map[int64]time.Time{}}
}

// lookup returns what CheckAccess needs of a chat, if all of it is known
// and current. renew is true when the caller should start renewAccess.
func (c *accessCache) lookup(account, chatID int64, now time.Time) (channel int64, responsible *int64, ok, renew bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.chats[chatID]
	if !ok || k.account != account {
		return 0, nil, false, false
	}
	renew = c.used(k.client, now)
	r, ok := c.resp[k.client]
	if !ok || now.Sub(r.at) > c.ttl {
		return 0, nil, false, renew
	}
	if at, ok := c.fresh[account]; !ok || now.Sub(at) > c.ttl {
		return 0, nil, false, renew
	}
	return k.channel, r.responsible, true, renew
}

// used notes that a client was asked about; true when renewal must start.
func (c *accessCache) used(client int64, now time.Time) bool {
	c.recent[client] = now
	if c.renewing {
		return false
	}
	c.renewing = true
	return true
}

// renewal is what one renewal round reads again.
type renewal struct {
	clients  map[int64]uint64 // client → seq of the entry read again
	accounts []int64
	dirEpoch uint64
}

// takeRenewal returns what is due for renewal at now: entries asked about
// within keep and past half their ttl, and their accounts' snapshots. more
// is false, and renewing ends, once nothing was asked about within keep.
func (c *accessCache) takeRenewal(now time.Time) (due renewal, more bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	due = renewal{clients: map[int64]uint64{}, dirEpoch: c.dirEpoch}
	half := c.ttl / 2
	accounts := map[int64]bool{}
	for client, used := range c.recent {
		if now.Sub(used) > c.keep {
			delete(c.recent, client)
			continue
		}
		e, ok := c.resp[client]
		if !ok {
			continue
		}
		if now.Sub(e.at) > half {
			due.clients[client] = e.seq
		}
		if _, seen := accounts[e.account]; !seen {
			at, ok := c.fresh[e.account]
			accounts[e.account] = ok && now.Sub(at) > half
		}
	}
	for a, stale := range accounts {
		if stale {
			due.accounts = append(due.accounts, a)
		}
	}
	if len(c.recent) == 0 {
		c.renewing = false
		return due, false
	}
	return due, true
}

// renewed applies what a renewal begun at `at` read: each client's
// responsible, unless its entry changed or was forgotten meanwhile (an
// invalidation arrived, which the read may predate); each account whose
// snapshot is at least the version read is current, unless the directory
// was invalidated meanwhile.
func (c *accessCache) renewed(r renewal, responsibles map[int64]*int64, current []int64, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for client, resp := range responsibles {
		e, ok := c.resp[client]
		if !ok || e.seq != r.clients[client] {
			continue
		}
		c.seq++
		c.resp[client] = respEntry{account: e.account, responsible: resp, at: at, seq: c.seq}
	}
	if r.dirEpoch != c.dirEpoch {
		return
	}
	for _, a := range current {
		if prev, ok := c.fresh[a]; ok && prev.Before(at) {
			c.fresh[a] = at
		}
	}
}

// begin returns the epoch to pass to remember, read before querying.
func (c *accessCache) begin() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// remember records what a query begun at epoch read at time at: the chat,
// its client's responsible, and that the snapshot at the version read is
// current. renew is as for lookup.
func (c *accessCache) remember(epoch uint64, account, chatID, channel, client int64, responsible *int64, snapshotCurrent bool, at time.Time) (renew bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch {
		return false
	}
	renew = c.used(client, at)
	if len(c.chats) > cacheLimit {
		c.chats = map[int64]chatKey{}
	}
	if len(c.resp) > cacheLimit {
		c.resp = map[int64]respEntry{}
	}
	if chatID != 0 {
		c.chats[chatID] = chatKey{account: account, channel: channel, client: client}
	}
	c.seq++
	c.resp[client] = respEntry{account: account, responsible: responsible, at: at, seq: c.seq}
	if len(c.recent) > cacheLimit {
		c.recent = map[int64]time.Time{}
	}
	if snapshotCurrent {
		c.fresh[account] = at
	}
	return renew
}

// directoryChanged forgets that an account's snapshot is current (0: every
// account's).
func (c *accessCache) directoryChanged(account int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	c.dirEpoch++
	if account == 0 {
		clear(c.fresh)
		return
	}
	delete(c.fresh, account)
}

// responsibleChanged forgets a client's responsible.
func (c *accessCache) responsibleChanged(client int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	delete(c.resp, client)
}

// reset forgets everything that can change (after a lost bus connection).
func (c *accessCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	c.dirEpoch++
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
		_, client, _ := strings.Cut(p, ":")
		id, _ := strconv.ParseInt(client, 10, 64)
		c.responsibleChanged(id)
	})
	b.OnReconnect(c.reset)
}

// handsChanged arranges, once tx commits, for every replica to forget the
// responsible of clients that existed before tx (a client created in tx was
// in nobody's cache).
func (r *Router) handsChanged(tx *ent.Tx, account int64, clients ...int64) {
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			if err == nil {
				for _, id := range clients {
					r.access.responsibleChanged(id)
					r.bus.Publish(bus.Responsible, strconv.FormatInt(account, 10)+":"+strconv.FormatInt(id, 10))
				}
				if r.chatsChanged != nil && len(clients) > 0 {
					r.chatsChanged(account)
				}
			}
			return err
		})
	})
}

// stopRenewing ends a renewal that failed; what was due ages out as
// before, and a later lookup starts another.
func (c *accessCache) stopRenewing() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.renewing = false
}

// renewChunk bounds the ids of one renewal query.
const renewChunk = 500

// renewAccess reads again, a few queries per round, what CheckAccess was
// asked about lately, every quarter ttl until nothing was asked about
// within keep.
func (r *Router) renewAccess() {
	for {
		time.Sleep(r.access.ttl / 4)
		now := time.Now()
		due, more := r.access.takeRenewal(now)
		if len(due.clients) > 0 || len(due.accounts) > 0 {
			ctx, cancel := context.WithTimeout(tenant.System(context.Background()), r.access.ttl)
			resp, current, err := r.readRenewal(ctx, due)
			cancel()
			if err != nil {
				r.access.stopRenewing()
				return
			}
			r.access.renewed(due, resp, current, now)
		}
		if !more {
			return
		}
	}
}

// readRenewal reads the responsibles of due's clients and which of its
// accounts' snapshots are current.
func (r *Router) readRenewal(ctx context.Context, due renewal) (map[int64]*int64, []int64, error) {
	c := r.st.Ent
	ids := make([]int64, 0, len(due.clients))
	for id := range due.clients {
		ids = append(ids, id)
	}
	resp := make(map[int64]*int64, len(ids))
	for len(ids) > 0 {
		n := min(renewChunk, len(ids))
		rows, err := c.Contact.Query().Where(contact.IDIn(ids[:n]...)).Select(contact.FieldID, contact.FieldResponsibleID).All(ctx)
		if err != nil {
			return nil, nil, err
		}
		for _, ct := range rows {
			resp[ct.ID] = ct.ResponsibleID
		}
		ids = ids[n:]
	}
	var current []int64
	if len(due.accounts) > 0 {
		rows, err := c.AccountSettings.Query().Where(accountsettings.AccountIDIn(due.accounts...)).
			Select(accountsettings.FieldAccountID, accountsettings.FieldDirectoryVersion).All(ctx)
		if err != nil {
			return nil, nil, err
		}
		for _, as := range rows {
			if snap := r.dir.Peek(as.AccountID); snap != nil && snap.Version >= as.DirectoryVersion {
				current = append(current, as.AccountID)
			}
		}
	}
	return resp, current, nil
}

// AccessCacheStats says how many CheckAccess calls this router answered
// from memory and how many read the database.
func (r *Router) AccessCacheStats() (answered, read uint64) {
	return r.access.answered.Load(), r.access.read.Load()
}
