package snapshot

import (
	"context"
	"sync"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/channelmember"
	"github.com/switchboardhq/switchboard/ent/pipeline"
	"github.com/switchboardhq/switchboard/ent/stage"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// Member is an entry of a channel's member list.
type Member struct {
	EmployeeID int64
	Role       channelmember.Role
	Access     channelmember.Access
	Receives   bool
	Weight     int
	// Capacity: the most open clients (SPEC §11); 0 no limit.
	Capacity int
}

// Snapshot is one account's directory at one version. It is shared and
// must not be changed.
type Snapshot struct {
	Version   int64
	Settings  *ent.AccountSettings
	Channels  map[int64]*ent.Channel
	Employees map[int64]*ent.Employee
	// Members maps a channel to its member list, in list order.
	Members map[int64][]Member
	// FirstStage maps a pipeline to its first open stage; DefaultStage is the
	// first stage of the first pipeline (0: the account has none).
	FirstStage   map[int64]int64
	DefaultStage *ent.Stage
}

// Member returns an employee's member record on a channel, or nil.
func (s *Snapshot) Member(channelID, employeeID int64) *Member {
	for i, m := range s.Members[channelID] {
		if m.EmployeeID == employeeID {
			return &s.Members[channelID][i]
		}
	}
	return nil
}

// Cache holds the newest snapshot of each account seen by this replica.
type Cache struct {
	mu       sync.Mutex
	accounts map[int64]*entry
}

type entry struct {
	mu   sync.Mutex // one load per account at a time
	snap *Snapshot
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{accounts: map[int64]*entry{}} }

// Get returns the snapshot of the context's account at version, loading it
// with c (a transaction's client, to read in that transaction) when the
// cached one is older. The caller read version before calling, so what is
// loaded is at least that new.
func (c *Cache) Get(ctx context.Context, client *ent.Client, version int64) (*Snapshot, error) {
	acct, _ := tenant.FromContext(ctx)
	c.mu.Lock()
	e := c.accounts[acct]
	if e == nil {
		e = &entry{}
		c.accounts[acct] = e
	}
	c.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.snap != nil && e.snap.Version >= version {
		return e.snap, nil
	}
	s, err := load(ctx, client, version)
	if err != nil {
		return nil, err
	}
	e.snap = s
	return s, nil
}

// Peek returns the newest snapshot this replica has of an account, or nil,
// without checking that it is current.
func (c *Cache) Peek(account int64) *Snapshot {
	c.mu.Lock()
	e := c.accounts[account]
	c.mu.Unlock()
	if e == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.snap
}

// load reads an account's directory.
func load(ctx context.Context, c *ent.Client, version int64) (*Snapshot, error) {
	s := &Snapshot{Version: version, Channels: map[int64]*ent.Channel{}, Employees: map[int64]*ent.Employee{},
		Members: map[int64][]Member{}, FirstStage: map[int64]int64{}}
	var err error
	if s.Settings, err = c.AccountSettings.Query().Only(ctx); err != nil {
		return nil, err
	}
	chs, err := c.Channel.Query().All(ctx)
	if err != nil {
		return nil, err
	}
	for _, ch := range chs {
		s.Channels[ch.ID] = ch
	}
	es, err := c.Employee.Query().All(ctx)
	if err != nil {
		return nil, err
	}
	for _, e := range es {
		s.Employees[e.ID] = e
	}
	ms, err := c.ChannelMember.Query().
		Order(ent.Asc(channelmember.FieldChannelID), ent.Asc(channelmember.FieldPosition), ent.Asc(channelmember.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		s.Members[m.ChannelID] = append(s.Members[m.ChannelID], Member{
			EmployeeID: m.EmployeeID, Role: m.Role, Access: m.Access, Receives: m.ReceivesNewClients, Weight: m.Weight, Capacity: m.Capacity,
		})
	}
	stages, err := c.Stage.Query().
		Order(stage.ByPipelineField(pipeline.FieldPosition), ent.Asc(stage.FieldPipelineID), ent.Asc(stage.FieldPosition), ent.Asc(stage.FieldID)).
		All(ctx)
	if err != nil {
		return nil, err
	}
	for _, st := range stages {
		if st.Kind != stage.KindOPEN {
			continue // a new client's deal never starts in the inbox or closed
		}
		if _, ok := s.FirstStage[st.PipelineID]; !ok {
			s.FirstStage[st.PipelineID] = st.ID
		}
		if s.DefaultStage == nil {
			s.DefaultStage = st
		}
	}
	return s, nil
}
