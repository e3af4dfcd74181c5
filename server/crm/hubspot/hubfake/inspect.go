package hubfake

import (
	"sort"
	"strings"
	"time"
)

// Inspection for tests: copies of the fake's state, in id order.

// Owners returns the account's owners, archived ones included.
func (s *Server) Owners() []Owner {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Owner(nil), s.owners...)
}

// SetOwner adds an owner, or replaces the one with its id (renamed,
// archived or restored).
func (s *Server) SetOwner(o Owner) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.owners {
		if s.owners[i].ID == o.ID {
			s.owners[i] = o
			return
		}
	}
	s.owners = append(s.owners, o)
}

// Add stores a record as a CRM user would (its id given when empty),
// indexed for search at once, and returns its id.
func (s *Server) Add(r Record) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.ID == "" {
		r.ID = s.newID()
	}
	rec := s.put(r.Type, r.ID, r.Props, time.Now())
	rec.indexed = rec.created
	return r.ID
}

// Link associates two records (the inverse is implied).
func (s *Server) Link(l Link) {
	s.mu.Lock()
	s.links = append(s.links, l)
	s.mu.Unlock()
}

// Get returns a copy of one record.
func (s *Server) Get(typ, id string) (Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.records[typ+"/"+id]
	if rec == nil {
		return Record{}, false
	}
	return copyRecord(rec), true
}

func copyRecord(rec *record) Record {
	r := Record{ID: rec.ID, Type: rec.Type, Props: map[string]string{}}
	for k, v := range rec.Props {
		r.Props[k] = v
	}
	return r
}

// Records returns every record of typ.
func (s *Server) Records(typ string) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Record
	for _, rec := range s.records {
		if rec.Type == typ {
			out = append(out, copyRecord(rec))
		}
	}
	sort.Slice(out, func(i, j int) bool { return idLess(out[i].ID, out[j].ID) })
	return out
}

// Associated returns the records of toType associated with typ/id.
func (s *Server) Associated(typ, id, toType string) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids, _ := s.linked(typ, id, toType)
	var out []Record
	for _, x := range ids {
		if rec := s.records[toType+"/"+x]; rec != nil {
			out = append(out, copyRecord(rec))
		}
	}
	return out
}

// NotesOf returns the bodies of the notes associated with typ/id.
func (s *Server) NotesOf(typ, id string) []string {
	var out []string
	for _, n := range s.Associated(typ, id, "notes") {
		out = append(out, n.Props["hs_note_body"])
	}
	return out
}

// DealsNamed counts the deals whose dealname contains text.
func (s *Server) DealsNamed(text string) int {
	n := 0
	for _, d := range s.Records("deals") {
		if strings.Contains(d.Props["dealname"], text) {
			n++
		}
	}
	return n
}

// SetPortalID makes the fake answer as another portal from now on, as the
// same address reached with another portal's token would.
func (s *Server) SetPortalID(id int64) {
	s.mu.Lock()
	s.portalID = id
	s.mu.Unlock()
}
