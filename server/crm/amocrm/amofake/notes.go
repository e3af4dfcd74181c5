package amofake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
)

type noteIn struct {
	EntityID int64  `json:"entity_id"`
	NoteType string `json:"note_type"`
	Params   struct {
		Text    string `json:"text"`
		Service string `json:"service"`
	} `json:"params"`
	RequestID json.RawMessage `json:"request_id"`
}

// exists reports whether entity id exists. Callers hold s.mu.
func (s *Server) exists(entity string, id int64) bool {
	if entity == "leads" {
		return s.leads[id] != nil
	}
	return s.contacts[id] != nil
}

// addNotes adds notes in bulk (POST /api/v4/{entity}/notes with entity_id)
// or to one entity (POST /api/v4/{entity}/{id}/notes). request_id is
// echoed, not stored. A request with any invalid note writes nothing.
func (s *Server) addNotes(entity string, inPath bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var pathEntity int64
		if inPath {
			id, ok := pathID(w, r)
			if !ok {
				return
			}
			pathEntity = id
		}
		var in []noteIn
		if !decode(w, r, &in) {
			return
		}
		if len(in) == 0 || len(in) > maxLimit {
			writeProblem(w, http.StatusBadRequest, "Bad Request", fmt.Sprintf("Expected 1 to %d notes", maxLimit), nil)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		var errs []ValidationError
		for i := range in {
			n := &in[i]
			if inPath {
				n.EntityID = pathEntity
			}
			rid := reqID(n.RequestID, i)
			if !s.exists(entity, n.EntityID) {
				errs = append(errs, ValidationError{RequestID: rid, Code: "NotFound", Path: "entity_id", Detail: "Entity not found."})
			}
			if !noteTypes[n.NoteType] {
				errs = append(errs, ValidationError{RequestID: rid, Code: "NotSupportedChoice", Path: "note_type", Detail: "The value you selected is not a valid choice."})
				continue
			}
			switch n.NoteType {
			case "common", "service_message", "extended_service_message", "sms_in", "sms_out":
				if n.Params.Text == "" {
					errs = append(errs, ValidationError{RequestID: rid, Code: "NotBlank", Path: "params.text", Detail: "This value should not be blank."})
				}
			}
			if (n.NoteType == "service_message" || n.NoteType == "extended_service_message") && n.Params.Service == "" {
				errs = append(errs, ValidationError{RequestID: rid, Code: "NotBlank", Path: "params.service", Detail: "This value should not be blank."})
			}
		}
		if len(errs) > 0 {
			writeValidation(w, errs)
			return
		}
		base := baseURL(r)
		items := make([]any, 0, len(in))
		for i, n := range in {
			note := &Note{ID: s.id(), Entity: entity, EntityID: n.EntityID, Type: n.NoteType,
				Text: n.Params.Text, Service: n.Params.Service, CreatedAt: now()}
			s.notes = append(s.notes, note)
			items = append(items, map[string]any{
				"id": note.ID, "entity_id": note.EntityID, "request_id": reqID(n.RequestID, i),
				"_links": map[string]any{"self": link(fmt.Sprintf("%s/api/v4/%s/%d/notes/%d", base, entity, note.EntityID, note.ID))},
			})
		}
		writeHAL(w, http.StatusOK, map[string]any{
			"_links":    map[string]any{"self": link(fmt.Sprintf("%s/api/v4/%s/notes", base, entity))},
			"_embedded": map[string]any{"notes": items},
		})
	}
}

// notesOf returns entity id's notes in id order. Callers hold s.mu.
func (s *Server) notesOf(entity string, id int64) []Note {
	var out []Note
	for _, n := range s.notes {
		if n.Entity == entity && n.EntityID == id {
			out = append(out, *n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// listNotes lists one entity's notes, paged; none is 204.
func (s *Server) listNotes(entity string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := pathID(w, r)
		if !ok {
			return
		}
		page, limit := paging(r.URL.Query())
		s.mu.Lock()
		notes := s.notesOf(entity, id)
		account := s.accountID
		s.mu.Unlock()
		from, to, more := pageOf(len(notes), page, limit)
		if from == to {
			noContent(w)
			return
		}
		base := baseURL(r)
		items := make([]any, 0, to-from)
		for _, n := range notes[from:to] {
			params := map[string]any{"text": n.Text}
			if n.Service != "" {
				params["service"] = n.Service
			}
			items = append(items, map[string]any{
				"id": n.ID, "entity_id": n.EntityID, "created_by": 0, "updated_by": 0,
				"created_at": n.CreatedAt, "updated_at": n.CreatedAt, "responsible_user_id": 0, "group_id": 0,
				"note_type": n.Type, "params": params, "account_id": account,
				"_links": map[string]any{"self": link(fmt.Sprintf("%s/api/v4/%s/%d/notes/%d", base, entity, n.EntityID, n.ID))},
			})
		}
		writeHAL(w, http.StatusOK, map[string]any{
			"_page": page, "_links": pageLinks(r, page, more), "_embedded": map[string]any{"notes": items},
		})
	}
}
