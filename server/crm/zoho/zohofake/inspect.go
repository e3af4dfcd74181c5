package zohofake

import (
	"errors"
	"sort"
)

// Inspection and changes for tests: copies of the fake's state, in id
// order, and what a CRM user would do in the CRM's own pages.

// Users returns the org's users.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]User(nil), s.users...)
}

// SetUser adds a user, or replaces the one with its id.
func (s *Server) SetUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.users {
		if s.users[i].ID == u.ID {
			s.users[i] = u
			return
		}
	}
	s.users = append(s.users, u)
}

// Pipelines returns the Deals pipelines.
func (s *Server) Pipelines() []Pipeline {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Pipeline(nil), s.pipelines...)
}

// AddContact stores a contact (its id is made when empty) and returns its
// id.
func (s *Server) AddContact(c Contact) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.ID == "" {
		c.ID = s.id()
	}
	if c.OwnerID == "" {
		c.OwnerID = UserAdmin
	}
	s.contacts[c.ID] = &c
	return c.ID
}

// Contacts returns every contact.
func (s *Server) Contacts() []Contact {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Contact, 0, len(s.contacts))
	for _, c := range s.contacts {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Contact returns one contact.
func (s *Server) Contact(id string) (Contact, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.contacts[id]; c != nil {
		return *c, true
	}
	return Contact{}, false
}

// Deals returns every deal.
func (s *Server) Deals() []Deal {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Deal, 0, len(s.deals))
	for _, d := range s.deals {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Deal returns one deal.
func (s *Server) Deal(id string) (Deal, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.deals[id]; d != nil {
		return *d, true
	}
	return Deal{}, false
}

// Notes returns the notes of a record of module ("Deals", "Contacts").
func (s *Server) Notes(module, id string) []Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Note
	for _, n := range s.notes {
		if n.Module == module && n.ParentID == id {
			out = append(out, *n)
		}
	}
	return out
}

// CloseDeal moves a deal to its pipeline's won (or lost) stage, as a CRM
// user would.
func (s *Server) CloseDeal(id string, won bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.deals[id]
	if d == nil {
		return errors.New("zohofake: no such deal")
	}
	p, _ := s.pipeline(d.PipelineID)
	want := "Closed Lost"
	if won {
		want = "Closed Won"
	}
	for _, st := range p.Stages {
		if st.ForecastType == want {
			d.Stage = st.Value
			return nil
		}
	}
	return errors.New("zohofake: the deal's pipeline has no such stage")
}

// SetDealOwner changes a deal's owner, as a CRM user would.
func (s *Server) SetDealOwner(id, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.deals[id]
	if d == nil {
		return errors.New("zohofake: no such deal")
	}
	d.OwnerID = userID
	return nil
}
