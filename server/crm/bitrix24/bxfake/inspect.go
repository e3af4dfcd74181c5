package bxfake

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// Inspection for tests: copies of the fake's state, in id order.

// ApplicationToken is the token outgoing events carry.
func (s *Server) ApplicationToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appToken
}

// Users returns the portal's users.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]User(nil), s.users...)
}

// SetUser adds a user, or replaces the one with its id (renamed,
// dismissed or taken back).
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
	s.bump(u.ID)
}

// Categories returns the deal pipelines, the default one (0) included.
func (s *Server) Categories() []Category {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Category, len(s.categories))
	for i, c := range s.categories {
		c.Stages = append([]Stage(nil), c.Stages...)
		out[i] = c
	}
	return out
}

// AddContact stores a contact as a portal user would (its ID and phone
// ids are given when zero) and returns its id.
func (s *Server) AddContact(c Contact) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.ID == 0 {
		c.ID = s.id()
	}
	c.Phones = append([]Phone(nil), c.Phones...)
	for i := range c.Phones {
		if c.Phones[i].ID == 0 {
			c.Phones[i].ID = s.id()
		}
		if c.Phones[i].ValueType == "" {
			c.Phones[i].ValueType = "WORK"
		}
	}
	s.contacts[c.ID] = &c
	s.bump(c.ID)
	return c.ID
}

// Contacts returns every contact.
func (s *Server) Contacts() []Contact {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Contact, 0, len(s.contacts))
	for _, c := range s.contacts {
		cp := *c
		cp.Phones = append([]Phone(nil), c.Phones...)
		out = append(out, cp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Contact returns one contact.
func (s *Server) Contact(id int64) (Contact, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.contacts[id]
	if c == nil {
		return Contact{}, false
	}
	cp := *c
	cp.Phones = append([]Phone(nil), c.Phones...)
	return cp, true
}

// Deals returns every deal.
func (s *Server) Deals() []Deal {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Deal, 0, len(s.deals))
	for _, d := range s.deals {
		cp := *d
		cp.ContactIDs = append([]int64(nil), d.ContactIDs...)
		out = append(out, cp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Deal returns one deal.
func (s *Server) Deal(id int64) (Deal, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.deals[id]
	if d == nil {
		return Deal{}, false
	}
	cp := *d
	cp.ContactIDs = append([]int64(nil), d.ContactIDs...)
	return cp, true
}

// DealSemantic is a deal's STAGE_SEMANTIC_ID ("S", "F" or "P"), "" when
// there is no such deal.
func (s *Server) DealSemantic(id int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.deals[id]
	if d == nil {
		return ""
	}
	return s.semantic(d)
}

// Comments returns the timeline comments of a deal or contact (owner
// "deal" or "contact"), oldest first.
func (s *Server) Comments(owner string, id int64) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commentsOf(strings.ToLower(owner), id)
}

// Deliveries returns every outgoing event POST made so far.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

func newFormRequest(ctx context.Context, dest string, form url.Values) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, dest, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}
