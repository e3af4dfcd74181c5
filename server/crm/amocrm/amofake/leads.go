package amofake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// leadJSON renders l; withContacts adds "_embedded.contacts". Callers hold s.mu.
func (s *Server) leadJSON(l *Lead, base string, withContacts bool) map[string]any {
	var closed any
	if l.ClosedAt != 0 {
		closed = l.ClosedAt
	}
	emb := map[string]any{"tags": []any{}, "companies": []any{}}
	if withContacts {
		cs := []any{}
		for i, id := range l.ContactIDs {
			cs = append(cs, map[string]any{"id": id, "is_main": i == 0,
				"_links": map[string]any{"self": link(fmt.Sprintf("%s/api/v4/contacts/%d", base, id))}})
		}
		emb["contacts"] = cs
	}
	return map[string]any{
		"id": l.ID, "name": l.Name, "price": l.Price, "responsible_user_id": l.ResponsibleUserID, "group_id": 0,
		"status_id": l.StatusID, "pipeline_id": l.PipelineID, "loss_reason_id": nil, "created_by": 0, "updated_by": 0,
		"created_at": l.CreatedAt, "updated_at": l.UpdatedAt, "closed_at": closed, "closest_task_at": nil,
		"is_deleted": false, "custom_fields_values": nil, "score": nil, "account_id": s.accountID,
		"_links":    map[string]any{"self": link(fmt.Sprintf("%s/api/v4/leads/%d", base, l.ID))},
		"_embedded": emb,
	}
}

// listLeads answers GET /api/v4/leads, every lead or those whose name
// holds query (case-insensitive: the CRM's full-text search over filled
// fields, of which the fake keeps the name), with=contacts adding their
// contacts; 204 when none.
func (s *Server) listLeads(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, limit := paging(q)
	query := strings.ToLower(strings.TrimSpace(q.Get("query")))
	withContacts := strings.Contains(","+q.Get("with")+",", ",contacts,")
	s.mu.Lock()
	defer s.mu.Unlock()
	var found []*Lead
	for _, l := range s.leads {
		if query == "" || strings.Contains(strings.ToLower(l.Name), query) {
			found = append(found, l)
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].ID < found[j].ID })
	from, to, more := pageOf(len(found), page, limit)
	if from == to {
		noContent(w)
		return
	}
	items := make([]any, 0, to-from)
	for _, l := range found[from:to] {
		items = append(items, s.leadJSON(l, baseURL(r), withContacts))
	}
	writeHAL(w, http.StatusOK, map[string]any{
		"_page": page, "_links": pageLinks(r, page, more), "_embedded": map[string]any{"leads": items},
	})
}

// getLead answers a missing lead with 204, like getContact.
func (s *Server) getLead(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	withContacts := strings.Contains(","+r.URL.Query().Get("with")+",", ",contacts,")
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.leads[id]
	if l == nil {
		noContent(w)
		return
	}
	writeHAL(w, http.StatusOK, s.leadJSON(l, baseURL(r), withContacts))
}

// pipeline returns the pipeline with id, or the main one for 0. Callers
// hold s.mu.
func (s *Server) pipeline(id int64) (Pipeline, bool) {
	for _, p := range s.pipelines {
		if (id == 0 && p.Main) || (id != 0 && p.ID == id) {
			return p, true
		}
	}
	return Pipeline{}, false
}

// firstWorking is the first status of p that is neither incoming nor
// closed: where a lead created without a status lands.
func firstWorking(p Pipeline) int64 {
	for _, st := range p.Statuses {
		if st.Type != 1 && st.ID != StatusWon && st.ID != StatusLost {
			return st.ID
		}
	}
	return 0
}

func hasStatus(p Pipeline, id int64) bool {
	for _, st := range p.Statuses {
		if st.ID == id {
			return true
		}
	}
	return false
}

// place resolves a lead's pipeline and status. current is the pipeline
// the lead is in (0 for a new lead). 142 and 143 need an explicit
// pipeline_id, since every pipeline has them. Callers hold s.mu.
func (s *Server) place(pipelineID, statusID, current int64, rid string) (int64, int64, []ValidationError) {
	bad := func(path string) []ValidationError {
		return []ValidationError{{RequestID: rid, Code: "NotSupportedChoice", Path: path, Detail: "The value you selected is not a valid choice."}}
	}
	if (statusID == StatusWon || statusID == StatusLost) && pipelineID == 0 {
		return 0, 0, []ValidationError{{RequestID: rid, Code: "NotBlank", Path: "pipeline_id", Detail: "This value should not be blank."}}
	}
	if pipelineID == 0 && statusID != 0 {
		if p, ok := s.pipeline(current); ok && current != 0 && hasStatus(p, statusID) {
			return p.ID, statusID, nil
		}
		for _, p := range s.pipelines {
			if hasStatus(p, statusID) {
				return p.ID, statusID, nil
			}
		}
		return 0, 0, bad("status_id")
	}
	if pipelineID == 0 && current != 0 {
		pipelineID = current
	}
	p, ok := s.pipeline(pipelineID)
	if !ok {
		return 0, 0, bad("pipeline_id")
	}
	if statusID == 0 {
		return p.ID, firstWorking(p), nil
	}
	if !hasStatus(p, statusID) {
		return 0, 0, bad("status_id")
	}
	return p.ID, statusID, nil
}

type complexIn struct {
	Name              string          `json:"name"`
	Price             int64           `json:"price"`
	StatusID          int64           `json:"status_id"`
	PipelineID        int64           `json:"pipeline_id"`
	ResponsibleUserID *int64          `json:"responsible_user_id"`
	RequestID         json.RawMessage `json:"request_id"`
	Embedded          struct {
		Contacts  []contactIn       `json:"contacts"`
		Companies []json.RawMessage `json:"companies"`
	} `json:"_embedded"`
}

// createComplex adds leads with their contact. Duplicate control is not
// modelled: every answer has merged false. A request with any invalid
// lead writes nothing.
func (s *Server) createComplex(w http.ResponseWriter, r *http.Request) {
	var in []complexIn
	if !decode(w, r, &in) {
		return
	}
	if len(in) == 0 || len(in) > maxComplexLeads {
		writeProblem(w, http.StatusBadRequest, "Bad Request", fmt.Sprintf("Expected 1 to %d leads", maxComplexLeads), nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	type placed struct{ pipeline, status int64 }
	places := make([]placed, len(in))
	var errs []ValidationError
	for i, l := range in {
		rid := reqID(l.RequestID, i)
		pid, sid, verrs := s.place(l.PipelineID, l.StatusID, 0, rid)
		errs = append(errs, verrs...)
		places[i] = placed{pid, sid}
		if l.ResponsibleUserID != nil && !s.userExists(*l.ResponsibleUserID) {
			errs = append(errs, ValidationError{RequestID: rid, Code: "NotSupportedChoice", Path: "responsible_user_id", Detail: "The value you selected is not a valid choice."})
		}
		if len(l.Embedded.Contacts) > 1 {
			errs = append(errs, ValidationError{RequestID: rid, Code: "CountConstraint", Path: "_embedded.contacts", Detail: "This collection should contain 1 element or less."})
		}
		if len(l.Embedded.Companies) > 1 {
			errs = append(errs, ValidationError{RequestID: rid, Code: "CountConstraint", Path: "_embedded.companies", Detail: "This collection should contain 1 element or less."})
		}
		for _, c := range l.Embedded.Contacts {
			if c.ID != 0 {
				if s.contacts[c.ID] == nil {
					errs = append(errs, ValidationError{RequestID: rid, Code: "NotSupportedChoice", Path: "_embedded.contacts.0.id", Detail: "The value you selected is not a valid choice."})
				}
				continue
			}
			errs = append(errs, s.checkContact(c, rid, "_embedded.contacts.0.")...)
		}
	}
	if len(errs) > 0 {
		writeValidation(w, errs)
		return
	}
	out := make([]any, 0, len(in))
	for i, li := range in {
		t := now()
		l := &Lead{ID: s.id(), Name: li.Name, Price: li.Price, PipelineID: places[i].pipeline, StatusID: places[i].status,
			ResponsibleUserID: s.defaultUser(), CreatedAt: t, UpdatedAt: t}
		if li.ResponsibleUserID != nil {
			l.ResponsibleUserID = *li.ResponsibleUserID
		}
		if l.Name == "" {
			l.Name = fmt.Sprintf("Lead #%d", l.ID)
		}
		if l.StatusID == StatusWon || l.StatusID == StatusLost {
			l.ClosedAt = t
		}
		var contactID any
		if len(li.Embedded.Contacts) == 1 {
			ci := li.Embedded.Contacts[0]
			id := ci.ID
			if id == 0 {
				if ci.ResponsibleUserID == nil {
					ru := l.ResponsibleUserID
					ci.ResponsibleUserID = &ru
				}
				id = s.newContact(ci).ID
			}
			l.ContactIDs = []int64{id}
			contactID = id
		}
		s.leads[l.ID] = l
		out = append(out, map[string]any{
			"id": l.ID, "contact_id": contactID, "company_id": nil,
			"request_id": []string{reqID(li.RequestID, i)}, "merged": false,
		})
	}
	writeHAL(w, http.StatusOK, out)
}

type leadPatch struct {
	ID                int64           `json:"id"`
	Name              string          `json:"name"`
	Price             *int64          `json:"price"`
	StatusID          int64           `json:"status_id"`
	PipelineID        int64           `json:"pipeline_id"`
	ResponsibleUserID *int64          `json:"responsible_user_id"`
	RequestID         json.RawMessage `json:"request_id"`
}

// checkPatch validates p against the lead it changes. Callers hold s.mu.
func (s *Server) checkPatch(p leadPatch, rid string) []ValidationError {
	l := s.leads[p.ID]
	if l == nil {
		return []ValidationError{{RequestID: rid, Code: "NotFound", Path: "id", Detail: "Entity not found."}}
	}
	var errs []ValidationError
	if p.StatusID != 0 || p.PipelineID != 0 {
		_, _, errs = s.place(p.PipelineID, p.StatusID, l.PipelineID, rid)
	}
	if p.ResponsibleUserID != nil && !s.userExists(*p.ResponsibleUserID) {
		errs = append(errs, ValidationError{RequestID: rid, Code: "NotSupportedChoice", Path: "responsible_user_id", Detail: "The value you selected is not a valid choice."})
	}
	return errs
}

// applyPatch changes a validated lead. Callers hold s.mu.
func (s *Server) applyPatch(p leadPatch) *Lead {
	l := s.leads[p.ID]
	if p.StatusID != 0 || p.PipelineID != 0 {
		l.PipelineID, l.StatusID, _ = s.place(p.PipelineID, p.StatusID, l.PipelineID, "")
		if l.StatusID == StatusWon || l.StatusID == StatusLost {
			l.ClosedAt = now()
		} else {
			l.ClosedAt = 0
		}
	}
	if p.ResponsibleUserID != nil {
		l.ResponsibleUserID = *p.ResponsibleUserID
	}
	if p.Name != "" {
		l.Name = p.Name
	}
	if p.Price != nil {
		l.Price = *p.Price
	}
	l.UpdatedAt = now()
	return l
}

func (s *Server) patchLead(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var p leadPatch
	if !decode(w, r, &p) {
		return
	}
	p.ID = id
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.leads[id] == nil {
		writeProblem(w, http.StatusNotFound, "Not Found", "Lead not found", nil)
		return
	}
	if errs := s.checkPatch(p, "0"); len(errs) > 0 {
		writeValidation(w, errs)
		return
	}
	old := *s.leads[id]
	l := s.applyPatch(p)
	s.echo(s.leadEvents(old, l))
	writeHAL(w, http.StatusOK, map[string]any{
		"id": l.ID, "updated_at": l.UpdatedAt,
		"_links": map[string]any{"self": link(fmt.Sprintf("%s/api/v4/leads/%d", baseURL(r), l.ID))},
	})
}

func (s *Server) patchLeads(w http.ResponseWriter, r *http.Request) {
	var in []leadPatch
	if !decode(w, r, &in) {
		return
	}
	if len(in) == 0 || len(in) > maxLimit {
		writeProblem(w, http.StatusBadRequest, "Bad Request", fmt.Sprintf("Expected 1 to %d leads", maxLimit), nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []ValidationError
	for i, p := range in {
		errs = append(errs, s.checkPatch(p, reqID(p.RequestID, i))...)
	}
	if len(errs) > 0 {
		writeValidation(w, errs)
		return
	}
	base := baseURL(r)
	items := make([]any, 0, len(in))
	for i, p := range in {
		old := *s.leads[p.ID]
		l := s.applyPatch(p)
		s.echo(s.leadEvents(old, l))
		items = append(items, map[string]any{
			"id": l.ID, "updated_at": l.UpdatedAt, "request_id": reqID(p.RequestID, i),
			"_links": map[string]any{"self": link(fmt.Sprintf("%s/api/v4/leads/%d", base, l.ID))},
		})
	}
	writeHAL(w, http.StatusOK, map[string]any{
		"_links": map[string]any{"self": link(base + "/api/v4/leads")}, "_embedded": map[string]any{"leads": items},
	})
}
