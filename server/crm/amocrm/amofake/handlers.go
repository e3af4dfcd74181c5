package amofake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Limits of the API the fake enforces.
const (
	maxLimit        = 250 // page size and batch size
	defaultLimit    = 50
	maxComplexLeads = 50
	maxBody         = 4 << 20
)

// phoneFieldID is the id the fake gives the contacts' PHONE field.
const phoneFieldID = 264911

// phoneEnums are the PHONE field's enum ids by code.
var phoneEnums = map[string]int64{"WORK": 1, "WORKDD": 2, "MOB": 3, "FAX": 4, "HOME": 5, "OTHER": 6}

// noteTypes are the note types the API accepts
// (https://developers.kommo.com/reference/notes-types).
var noteTypes = map[string]bool{
	"common": true, "service_message": true, "extended_service_message": true,
	"call_in": true, "call_out": true, "sms_in": true, "sms_out": true,
	"geolocation": true, "attachment": true,
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /api/v4/users", s.listUsers)
	m.HandleFunc("GET /api/v4/leads/pipelines", s.listPipelines)
	m.HandleFunc("GET /api/v4/contacts", s.listContacts)
	m.HandleFunc("POST /api/v4/contacts", s.createContacts)
	m.HandleFunc("GET /api/v4/contacts/{id}", s.getContact)
	m.HandleFunc("PATCH /api/v4/contacts/{id}", s.patchContact)
	m.HandleFunc("GET /api/v4/leads", s.listLeads)
	m.HandleFunc("POST /api/v4/leads/complex", s.createComplex)
	m.HandleFunc("GET /api/v4/leads/{id}", s.getLead)
	m.HandleFunc("PATCH /api/v4/leads/{id}", s.patchLead)
	m.HandleFunc("PATCH /api/v4/leads", s.patchLeads)
	for _, e := range []string{"leads", "contacts"} {
		m.HandleFunc("POST /api/v4/"+e+"/notes", s.addNotes(e, false))
		m.HandleFunc("POST /api/v4/"+e+"/{id}/notes", s.addNotes(e, true))
		m.HandleFunc("GET /api/v4/"+e+"/{id}/notes", s.listNotes(e))
	}
	m.HandleFunc("GET /api/v4/webhooks", s.listWebhooks)
	m.HandleFunc("POST /api/v4/webhooks", s.addWebhook)
	m.HandleFunc("DELETE /api/v4/webhooks", s.deleteWebhook)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusNotFound, "Not Found", "No such method", nil)
	})
	s.mux = m
}

// --- helpers ---

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func link(href string) map[string]any { return map[string]any{"href": href} }

// paging reads page (from 1) and limit (default 50, at most 250).
func paging(q url.Values) (page, limit int) {
	page, _ = strconv.Atoi(q.Get("page"))
	if page < 1 {
		page = 1
	}
	limit, _ = strconv.Atoi(q.Get("limit"))
	if limit < 1 {
		limit = defaultLimit
	}
	if limit > maxLimit {
		limit = maxLimit
	}
	return page, limit
}

// pageOf returns the bounds of page in n items and whether more follow.
func pageOf(n, page, limit int) (from, to int, more bool) {
	from = (page - 1) * limit
	if from > n {
		from = n
	}
	to = from + limit
	if to > n {
		to = n
	}
	return from, to, to < n
}

// pageLinks builds "_links" with self and, when more follow, next.
func pageLinks(r *http.Request, page int, more bool) map[string]any {
	self := *r.URL
	links := map[string]any{"self": link(baseURL(r) + self.RequestURI())}
	if more {
		q := self.Query()
		q.Set("page", strconv.Itoa(page+1))
		self.RawQuery = q.Encode()
		links["next"] = link(baseURL(r) + self.RequestURI())
	}
	return links
}

// decode reads a JSON body into v; a malformed one is answered 400.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		writeProblem(w, http.StatusBadRequest, "Bad Request", "Malformed JSON body", nil)
		return false
	}
	return true
}

func pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeProblem(w, http.StatusNotFound, "Not Found", "No such entity", nil)
		return 0, false
	}
	return id, true
}

// reqID renders a sent request_id (a string or a number) or, when absent,
// the entity's index, as the CRM echoes it.
func reqID(raw json.RawMessage, index int) string {
	var s string
	if json.Unmarshal(raw, &s) == nil && s != "" {
		return s
	}
	if t := strings.TrimSpace(string(raw)); t != "" && t != "null" && t != `""` {
		return t
	}
	return strconv.Itoa(index)
}

func digits(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// phoneLike reports whether q has only digits and phone punctuation.
func phoneLike(q string) bool {
	return strings.IndexFunc(q, func(c rune) bool { return !strings.ContainsRune("0123456789+-() .", c) }) < 0
}

func now() int64 { return time.Now().Unix() }

// --- users and pipelines ---

func userJSON(u User, base string) map[string]any {
	all := map[string]string{"view": "A", "edit": "A", "add": "A", "delete": "A", "export": "A"}
	return map[string]any{
		"id": u.ID, "name": u.Name, "email": u.Email, "lang": "en",
		"rights": map[string]any{
			"leads": all, "contacts": all, "companies": all,
			"tasks":       map[string]string{"edit": "A", "delete": "A"},
			"mail_access": true, "catalog_access": true,
			"is_admin": u.Admin, "is_free": false, "is_active": u.Active,
			"group_id": nil, "role_id": nil, "status_rights": []any{},
		},
		"_links": map[string]any{"self": link(fmt.Sprintf("%s/api/v4/users/%d", base, u.ID))},
	}
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	page, limit := paging(r.URL.Query())
	s.mu.Lock()
	users := append([]User(nil), s.users...)
	s.mu.Unlock()
	sort.Slice(users, func(i, j int) bool { return users[i].ID < users[j].ID })
	from, to, more := pageOf(len(users), page, limit)
	if from == to {
		noContent(w)
		return
	}
	items := make([]any, 0, to-from)
	for _, u := range users[from:to] {
		items = append(items, userJSON(u, baseURL(r)))
	}
	writeHAL(w, http.StatusOK, map[string]any{
		"_total_items": len(users), "_page": page, "_page_count": (len(users) + limit - 1) / limit,
		"_links": pageLinks(r, page, more), "_embedded": map[string]any{"users": items},
	})
}

func (s *Server) listPipelines(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	pipes := append([]Pipeline(nil), s.pipelines...)
	account := s.accountID
	s.mu.Unlock()
	base := baseURL(r)
	items := make([]any, 0, len(pipes))
	for _, p := range pipes {
		sts := make([]any, 0, len(p.Statuses))
		for _, st := range p.Statuses {
			sts = append(sts, map[string]any{
				"id": st.ID, "name": st.Name, "sort": st.Sort, "is_editable": st.Type != 1 && st.ID != StatusWon && st.ID != StatusLost,
				"pipeline_id": p.ID, "color": st.Color, "type": st.Type, "account_id": account,
				"_links": map[string]any{"self": link(fmt.Sprintf("%s/api/v4/leads/pipelines/%d/statuses/%d", base, p.ID, st.ID))},
			})
		}
		items = append(items, map[string]any{
			"id": p.ID, "name": p.Name, "sort": p.Sort, "is_main": p.Main, "is_unsorted_on": true,
			"is_archive": false, "account_id": account,
			"_links":    map[string]any{"self": link(fmt.Sprintf("%s/api/v4/leads/pipelines/%d", base, p.ID))},
			"_embedded": map[string]any{"statuses": sts},
		})
	}
	writeHAL(w, http.StatusOK, map[string]any{
		"_total_items": len(items), "_links": map[string]any{"self": link(base + "/api/v4/leads/pipelines")},
		"_embedded": map[string]any{"pipelines": items},
	})
}

// --- contacts ---

// contactJSON renders c; withLeads adds "_embedded.leads". Callers hold s.mu.
func (s *Server) contactJSON(c *Contact, base string, withLeads bool) map[string]any {
	var cf any // the CRM sends null when a contact has no custom field values
	if len(c.Phones) > 0 {
		vals := make([]any, 0, len(c.Phones))
		for _, p := range c.Phones {
			vals = append(vals, map[string]any{"value": p.Value, "enum_id": phoneEnums[p.EnumCode], "enum_code": p.EnumCode})
		}
		cf = []any{map[string]any{
			"field_id": phoneFieldID, "field_name": "Phone", "field_code": "PHONE", "field_type": "multitext", "values": vals,
		}}
	}
	emb := map[string]any{"tags": []any{}, "companies": []any{}}
	if withLeads {
		leads := []any{}
		for _, id := range s.leadsOf(c.ID) {
			leads = append(leads, map[string]any{"id": id, "_links": map[string]any{"self": link(fmt.Sprintf("%s/api/v4/leads/%d", base, id))}})
		}
		emb["leads"] = leads
	}
	return map[string]any{
		"id": c.ID, "name": c.Name, "first_name": c.FirstName, "last_name": c.LastName,
		"responsible_user_id": c.ResponsibleUserID, "group_id": 0, "created_by": 0, "updated_by": 0,
		"created_at": c.CreatedAt, "updated_at": c.UpdatedAt, "closest_task_at": nil, "is_deleted": false,
		"is_unsorted": false, "custom_fields_values": cf, "account_id": s.accountID,
		"_links":    map[string]any{"self": link(fmt.Sprintf("%s/api/v4/contacts/%d", base, c.ID))},
		"_embedded": emb,
	}
}

// leadsOf returns the ids of contactID's leads in id order. Callers hold s.mu.
func (s *Server) leadsOf(contactID int64) []int64 {
	var ids []int64
	for _, l := range s.leads {
		for _, c := range l.ContactIDs {
			if c == contactID {
				ids = append(ids, l.ID)
				break
			}
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// matches is the fake's reading of the CRM's full-text query: a contact
// matches when its name contains the query (case-insensitively) or one of
// its phones contains it, either as written or, for a query of 3 or more
// digits, digit for digit ("9035550102" finds "8 (903) 555-01-02"). The
// CRM's exact matching is not documented.
func matches(c *Contact, q string) bool {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		return true
	}
	for _, n := range []string{c.Name, c.FirstName, c.LastName} {
		if strings.Contains(strings.ToLower(n), q) {
			return true
		}
	}
	qd := digits(q)
	for _, p := range c.Phones {
		if strings.Contains(strings.ToLower(p.Value), q) {
			return true
		}
		if len(qd) >= 3 && phoneLike(q) && strings.Contains(digits(p.Value), qd) {
			return true
		}
	}
	return false
}

func (s *Server) listContacts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, limit := paging(q)
	withLeads := strings.Contains(","+q.Get("with")+",", ",leads,")
	s.mu.Lock()
	defer s.mu.Unlock()
	var found []*Contact
	for _, c := range s.contacts {
		if matches(c, q.Get("query")) {
			found = append(found, c)
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].ID < found[j].ID })
	from, to, more := pageOf(len(found), page, limit)
	if from == to {
		noContent(w)
		return
	}
	items := make([]any, 0, to-from)
	for _, c := range found[from:to] {
		items = append(items, s.contactJSON(c, baseURL(r), withLeads))
	}
	writeHAL(w, http.StatusOK, map[string]any{
		"_page": page, "_links": pageLinks(r, page, more), "_embedded": map[string]any{"contacts": items},
	})
}

// getContact answers a missing contact with 204, as the CRM answers an
// empty result (the reference does not say; the client accepts 204 and 404).
func (s *Server) getContact(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	withLeads := strings.Contains(","+r.URL.Query().Get("with")+",", ",leads,")
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.contacts[id]
	if c == nil {
		noContent(w)
		return
	}
	writeHAL(w, http.StatusOK, s.contactJSON(c, baseURL(r), withLeads))
}

type customFieldIn struct {
	FieldID   int64  `json:"field_id"`
	FieldCode string `json:"field_code"`
	Values    []struct {
		Value    any    `json:"value"`
		EnumCode string `json:"enum_code"`
		EnumID   int64  `json:"enum_id"`
	} `json:"values"`
}

type contactIn struct {
	ID                 int64           `json:"id"`
	Name               string          `json:"name"`
	FirstName          string          `json:"first_name"`
	LastName           string          `json:"last_name"`
	ResponsibleUserID  *int64          `json:"responsible_user_id"`
	CustomFieldsValues []customFieldIn `json:"custom_fields_values"`
	RequestID          json.RawMessage `json:"request_id"`
}

// userExists reports whether id is a user of the account. Callers hold s.mu.
func (s *Server) userExists(id int64) bool {
	for _, u := range s.users {
		if u.ID == id {
			return true
		}
	}
	return false
}

// defaultUser is who owns what a request leaves unassigned: the first
// admin, as the token acts with its admin's rights. Callers hold s.mu.
func (s *Server) defaultUser() int64 {
	for _, u := range s.users {
		if u.Admin && u.Active {
			return u.ID
		}
	}
	if len(s.users) > 0 {
		return s.users[0].ID
	}
	return 0
}

// checkContact validates a new contact; rid names it in errors. Callers
// hold s.mu.
func (s *Server) checkContact(in contactIn, rid, prefix string) []ValidationError {
	var errs []ValidationError
	if in.ResponsibleUserID != nil && !s.userExists(*in.ResponsibleUserID) {
		errs = append(errs, ValidationError{RequestID: rid, Code: "NotSupportedChoice", Path: prefix + "responsible_user_id", Detail: "The value you selected is not a valid choice."})
	}
	for i, f := range in.CustomFieldsValues {
		if f.FieldCode != "PHONE" && f.FieldID != phoneFieldID {
			errs = append(errs, ValidationError{RequestID: rid, Code: "NotSupportedChoice", Path: fmt.Sprintf("%scustom_fields_values.%d.field_id", prefix, i), Detail: "The value you selected is not a valid choice."})
			continue
		}
		for j, v := range f.Values {
			if v.EnumCode != "" {
				if _, ok := phoneEnums[v.EnumCode]; !ok {
					errs = append(errs, ValidationError{RequestID: rid, Code: "NotSupportedChoice", Path: fmt.Sprintf("%scustom_fields_values.%d.values.%d.enum_code", prefix, i, j), Detail: "The value you selected is not a valid choice."})
				}
			}
		}
	}
	return errs
}

// newContact stores a validated contact. Callers hold s.mu.
func (s *Server) newContact(in contactIn) *Contact {
	t := now()
	c := &Contact{ID: s.id(), Name: in.Name, FirstName: in.FirstName, LastName: in.LastName, CreatedAt: t, UpdatedAt: t}
	if c.Name == "" {
		c.Name = strings.TrimSpace(in.FirstName + " " + in.LastName)
	}
	c.ResponsibleUserID = s.defaultUser()
	if in.ResponsibleUserID != nil {
		c.ResponsibleUserID = *in.ResponsibleUserID
	}
	for _, f := range in.CustomFieldsValues {
		for _, v := range f.Values {
			code := v.EnumCode
			if code == "" {
				code = "WORK"
			}
			if v.Value != nil {
				c.Phones = append(c.Phones, Phone{Value: fmt.Sprint(v.Value), EnumCode: code})
			}
		}
	}
	s.contacts[c.ID] = c
	return c
}

func (s *Server) createContacts(w http.ResponseWriter, r *http.Request) {
	var in []contactIn
	if !decode(w, r, &in) {
		return
	}
	if len(in) == 0 || len(in) > maxLimit {
		writeProblem(w, http.StatusBadRequest, "Bad Request", fmt.Sprintf("Expected 1 to %d contacts", maxLimit), nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []ValidationError
	for i, c := range in {
		errs = append(errs, s.checkContact(c, reqID(c.RequestID, i), "")...)
	}
	if len(errs) > 0 {
		writeValidation(w, errs)
		return
	}
	base := baseURL(r)
	items := make([]any, 0, len(in))
	for i, ci := range in {
		c := s.newContact(ci)
		items = append(items, map[string]any{
			"id": c.ID, "request_id": reqID(ci.RequestID, i),
			"_links": map[string]any{"self": link(fmt.Sprintf("%s/api/v4/contacts/%d", base, c.ID))},
		})
	}
	writeHAL(w, http.StatusOK, map[string]any{
		"_links": map[string]any{"self": link(base + "/api/v4/contacts")}, "_embedded": map[string]any{"contacts": items},
	})
}

func (s *Server) patchContact(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var in contactIn
	if !decode(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.contacts[id]
	if c == nil {
		writeProblem(w, http.StatusNotFound, "Not Found", "Contact not found", nil)
		return
	}
	if in.ResponsibleUserID != nil && !s.userExists(*in.ResponsibleUserID) {
		writeValidation(w, []ValidationError{{RequestID: "0", Code: "NotSupportedChoice", Path: "responsible_user_id", Detail: "The value you selected is not a valid choice."}})
		return
	}
	prev := *c
	if in.ResponsibleUserID != nil {
		c.ResponsibleUserID = *in.ResponsibleUserID
	}
	if in.Name != "" {
		c.Name = in.Name
	}
	c.UpdatedAt = now()
	s.echo(s.contactEvents(prev, c))
	writeHAL(w, http.StatusOK, map[string]any{
		"id": c.ID, "updated_at": c.UpdatedAt,
		"_links": map[string]any{"self": link(fmt.Sprintf("%s/api/v4/contacts/%d", baseURL(r), c.ID))},
	})
}
