package pdfake

// Inspection for tests: copies of the fake's state, in id order.

// Users returns the account's users.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]User(nil), s.users...)
}

// SetUser adds a user, or replaces the one with its id (renamed,
// deactivated or taken back).
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

// AddPipeline adds a pipeline with stages (named in order; ids given) and
// returns the pipeline's id.
func (s *Server) AddPipeline(name string, stages ...string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	order := 0
	for _, p := range s.pipelines {
		order = max(order, p.OrderNr+1)
	}
	p := Pipeline{ID: s.id(), Name: name, OrderNr: order}
	s.pipelines = append(s.pipelines, p)
	for i, n := range stages {
		s.stages = append(s.stages, Stage{ID: s.id(), PipelineID: p.ID, Name: n, OrderNr: i + 1})
	}
	return p.ID
}

// Pipelines returns the pipelines, deleted ones included.
func (s *Server) Pipelines() []Pipeline {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Pipeline(nil), s.pipelines...)
}

// Stages returns every stage.
func (s *Server) Stages() []Stage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Stage(nil), s.stages...)
}

// AddPerson stores a person as a user would (its id given when zero) and
// returns its id.
func (s *Server) AddPerson(p Person) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.ID == 0 {
		p.ID = s.id()
	}
	p.Phones = append([]Phone(nil), p.Phones...)
	s.persons[p.ID] = &p
	s.bump(p.ID)
	return p.ID
}

// Persons returns every person.
func (s *Server) Persons() []Person {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Person
	for _, p := range s.sortedPersons() {
		cp := *p
		cp.Phones = append([]Phone(nil), p.Phones...)
		out = append(out, cp)
	}
	return out
}

// Person returns one person.
func (s *Server) Person(id int64) (Person, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.persons[id]
	if p == nil {
		return Person{}, false
	}
	cp := *p
	cp.Phones = append([]Phone(nil), p.Phones...)
	return cp, true
}

// Deals returns every deal.
func (s *Server) Deals() []Deal {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Deal
	for _, d := range s.sortedDeals() {
		out = append(out, *d)
	}
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
	return *d, true
}

// Notes returns the notes of a deal (dealID ≠ 0) else of a person, oldest
// first.
func (s *Server) Notes(dealID, personID int64) []Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Note
	for _, n := range s.notes {
		if dealID != 0 && n.DealID == dealID || dealID == 0 && n.PersonID == personID {
			out = append(out, *n)
		}
	}
	return out
}
