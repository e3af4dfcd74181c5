package amofake

import "sort"

// Inspection for tests: copies of the fake's state, in id order.

// AccountID is the fake account's id (account[id] in webhooks).
func (s *Server) AccountID() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accountID
}

// Users returns the account's users.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]User(nil), s.users...)
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

// Leads returns every lead.
func (s *Server) Leads() []Lead {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Lead, 0, len(s.leads))
	for _, l := range s.leads {
		cp := *l
		cp.ContactIDs = append([]int64(nil), l.ContactIDs...)
		out = append(out, cp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Lead returns one lead.
func (s *Server) Lead(id int64) (Lead, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.leads[id]
	if l == nil {
		return Lead{}, false
	}
	cp := *l
	cp.ContactIDs = append([]int64(nil), l.ContactIDs...)
	return cp, true
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

// Notes returns the notes of one lead or contact (entity "leads" or
// "contacts").
func (s *Server) Notes(entity string, id int64) []Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notesOf(entity, id)
}

// Webhooks returns the registered webhooks.
func (s *Server) Webhooks() []Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Webhook, 0, len(s.webhooks))
	for _, h := range s.webhooks {
		cp := *h
		cp.Settings = append([]string(nil), h.Settings...)
		out = append(out, cp)
	}
	return out
}

// Deliveries returns every outgoing webhook POST made so far.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

// SetUser adds a user, or replaces the one with its id (a user renamed,
// deactivated or reactivated in the CRM).
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

// RemoveUser removes a user from the account.
func (s *Server) RemoveUser(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.users {
		if s.users[i].ID == id {
			s.users = append(s.users[:i], s.users[i+1:]...)
			return
		}
	}
}

// AddWebhook registers destination for settings ("status_lead",
// "responsible_lead", …) as an admin does in the account's settings, or
// replaces the settings of one registered already.
func (s *Server) AddWebhook(destination string, settings ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range s.webhooks {
		if h.Destination == destination {
			h.Settings, h.Disabled = append([]string(nil), settings...), false
			return
		}
	}
	s.webhooks = append(s.webhooks, &Webhook{ID: s.id(), Destination: destination,
		Settings: append([]string(nil), settings...), CreatedAt: now()})
}

// AddContact stores a contact as a CRM user would (its id is made when
// zero) and returns its id.
func (s *Server) AddContact(c Contact) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.ID == 0 {
		c.ID = s.id()
	}
	s.bump(c.ID)
	c.Phones = append([]Phone(nil), c.Phones...)
	if c.CreatedAt == 0 {
		c.CreatedAt, c.UpdatedAt = now(), now()
	}
	s.contacts[c.ID] = &c
	return c.ID
}
