package pdfake

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The v2 lists' paging: limit 100 by default, at most 500; the cursor is
// opaque (here, an offset in base64). Source: developers.pipedrive.com
// docs/api/v2 (limit and cursor of every list).
const (
	defaultLimit = 100
	maxLimit     = 500
)

// serve answers an authorized request of route. Callers do not hold s.mu.
func (s *Server) serve(r *http.Request, route string, body []byte) (answer, *apiError) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.record(route)
	id := lastID(r.URL.Path)
	switch route {
	case "GET /v1/users":
		return s.listUsers(), nil
	case "GET /api/v2/pipelines":
		return s.listPipelines(q)
	case "GET /api/v2/stages":
		return s.listStages(q)
	case "GET /api/v2/persons/search":
		return s.searchPersons(q)
	case "POST /api/v2/persons":
		return s.addPerson(body)
	case "GET /api/v2/persons":
		return s.listPersons(q)
	case "GET /api/v2/persons/{id}":
		p := s.persons[id]
		if p == nil {
			return answer{}, notFound("Person")
		}
		return answer{data: s.personJSON(p)}, nil
	case "PATCH /api/v2/persons/{id}":
		return s.updatePerson(id, body)
	case "GET /api/v2/deals/search":
		return s.searchDeals(q)
	case "POST /api/v2/deals":
		return s.addDeal(body)
	case "GET /api/v2/deals":
		return s.listDeals(q)
	case "GET /api/v2/deals/{id}":
		d := s.deals[id]
		if d == nil {
			return answer{}, notFound("Deal")
		}
		return answer{data: dealJSON(d)}, nil
	case "PATCH /api/v2/deals/{id}":
		return s.updateDeal(id, body)
	case "POST /v1/notes":
		return s.addNote(body)
	case "GET /v1/notes":
		return s.listNotes(q)
	}
	return answer{}, &apiError{status: http.StatusNotFound, msg: "Unknown method ."}
}

func lastID(path string) int64 {
	i := strings.LastIndexByte(path, '/')
	n, _ := strconv.ParseInt(path[i+1:], 10, 64)
	return n
}

// page cuts items by the v2 cursor and limit, returning the page and
// additional_data with next_cursor (null on the last page).
func page[T any](items []T, q url.Values) ([]T, map[string]any, *apiError) {
	limit := defaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			return nil, nil, badRequest("Validation failed: limit: Parameter 'limit' must be an integer between 1 and 500")
		}
		limit = n
	}
	from := 0
	if c := q.Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "offset:"))
		if err != nil || err2 != nil || n < 0 || !strings.HasPrefix(string(b), "offset:") {
			return nil, nil, badRequest("Validation failed: cursor: Invalid cursor")
		}
		from = n
	}
	from = min(from, len(items))
	to := min(from+limit, len(items))
	var next any
	if to < len(items) {
		next = base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(to)))
	}
	out := items[from:to]
	if out == nil {
		out = []T{}
	}
	return out, map[string]any{"next_cursor": next}, nil
}

func (s *Server) listUsers() answer {
	out := make([]map[string]any, 0, len(s.users))
	for _, u := range s.users {
		admin := 0
		if u.Admin {
			admin = 1
		}
		out = append(out, map[string]any{"id": u.ID, "name": u.Name, "email": u.Email, "active_flag": u.Active,
			"is_admin": admin, "role_id": 1, "default_currency": "USD", "locale": "en_US", "lang": 1,
			"timezone_name": "Europe/London", "has_created_company": u.Admin, "created": "2026-01-05 10:00:00",
			"modified": "2026-01-05 10:00:00", "is_you": u.ID == 1})
	}
	return answer{data: out}
}

func (s *Server) listPipelines(q url.Values) (answer, *apiError) {
	ps := append([]Pipeline(nil), s.pipelines...)
	sort.Slice(ps, func(i, j int) bool { return ps[i].ID < ps[j].ID })
	items := make([]map[string]any, 0, len(ps))
	for i, p := range ps {
		items = append(items, map[string]any{"id": p.ID, "name": p.Name, "order_nr": p.OrderNr, "is_deleted": p.Deleted,
			"is_deal_probability_enabled": false, "is_selected": i == 0,
			"add_time": "2026-01-05T10:00:00Z", "update_time": "2026-01-05T10:00:00Z"})
	}
	data, more, e := page(items, q)
	return answer{data: data, additional: more}, e
}

func (s *Server) listStages(q url.Values) (answer, *apiError) {
	var want int64
	if v := q.Get("pipeline_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return answer{}, badRequest("Validation failed: pipeline_id: Parameter 'pipeline_id' must be an integer")
		}
		want = n
	}
	st := append([]Stage(nil), s.stages...)
	sort.Slice(st, func(i, j int) bool { return st[i].ID < st[j].ID })
	items := []map[string]any{}
	for _, x := range st {
		if want != 0 && x.PipelineID != want {
			continue
		}
		items = append(items, map[string]any{"id": x.ID, "order_nr": x.OrderNr, "name": x.Name, "is_deleted": false,
			"deal_probability": 100, "pipeline_id": x.PipelineID, "is_deal_rot_enabled": false, "days_to_rotten": nil,
			"add_time": "2026-01-05T10:00:00Z", "update_time": "2026-01-05T10:00:00Z"})
	}
	data, more, e := page(items, q)
	return answer{data: data, additional: more}, e
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// searchTerm checks a search's term: 2 characters at least, or 1 with
// exact_match.
func searchTerm(q url.Values) (string, bool, *apiError) {
	term := strings.TrimSpace(q.Get("term"))
	exact := q.Get("exact_match") == "true" || q.Get("exact_match") == "1"
	if n := len([]rune(term)); n < 2 && !(exact && n == 1) {
		return "", false, badRequest("Validation failed: term: Search term must be at least 2 characters long")
	}
	return term, exact, nil
}

// phoneMatches is the fake's reading of a phone search, which the
// reference does not pin down: the term's digits found within the stored
// phone's digits (the whole of them with exact_match); a term without
// digits is matched as text.
func phoneMatches(stored, term string, exact bool) bool {
	dt, ds := digits(term), digits(stored)
	if dt == "" {
		return textMatches(stored, term, exact)
	}
	if exact {
		return ds == dt
	}
	return strings.Contains(ds, dt)
}

// textMatches is case-insensitive: the term within the text, or the whole
// text with exact_match.
func textMatches(text, term string, exact bool) bool {
	if exact {
		return strings.EqualFold(strings.TrimSpace(text), term)
	}
	return strings.Contains(strings.ToLower(text), strings.ToLower(term))
}

func (s *Server) searchPersons(q url.Values) (answer, *apiError) {
	term, exact, e := searchTerm(q)
	if e != nil {
		return answer{}, e
	}
	fields := q.Get("fields")
	byPhone := fields == "" || strings.Contains(fields, "phone")
	byName := fields == "" || strings.Contains(fields, "name")
	var items []map[string]any
	for _, p := range s.sortedPersons() {
		if s.indexing(p.Added) {
			continue
		}
		hit := byName && textMatches(p.Name, term, exact)
		for _, ph := range p.Phones {
			hit = hit || byPhone && phoneMatches(ph.Value, term, exact)
		}
		if !hit {
			continue
		}
		phones := []string{}
		for _, ph := range p.Phones {
			phones = append(phones, ph.Value)
		}
		items = append(items, map[string]any{"result_score": 1, "item": map[string]any{
			"id": p.ID, "type": "person", "name": p.Name, "phones": phones, "emails": []string{},
			"visible_to": 3, "owner": map[string]any{"id": p.OwnerID}, "organization": nil,
			"custom_fields": []any{}, "notes": []any{}}})
	}
	data, more, e := page(items, q)
	return answer{data: map[string]any{"items": data}, additional: more}, e
}

func (s *Server) searchDeals(q url.Values) (answer, *apiError) {
	term, exact, e := searchTerm(q)
	if e != nil {
		return answer{}, e
	}
	var items []map[string]any
	for _, d := range s.sortedDeals() {
		if s.indexing(d.Added) || !textMatches(d.Title, term, exact) {
			continue
		}
		var person any
		if p := s.persons[d.PersonID]; p != nil {
			person = map[string]any{"id": p.ID, "name": p.Name}
		}
		stage := map[string]any{"id": d.StageID, "name": s.stageName(d.StageID)}
		items = append(items, map[string]any{"result_score": 1, "item": map[string]any{
			"id": d.ID, "type": "deal", "title": d.Title, "value": 0, "currency": "USD", "status": d.Status,
			"visible_to": 3, "owner": map[string]any{"id": d.OwnerID}, "stage": stage, "person": person,
			"organization": nil, "custom_fields": []any{}, "notes": []any{}}})
	}
	data, more, e := page(items, q)
	return answer{data: map[string]any{"items": data}, additional: more}, e
}

func (s *Server) stageName(id int64) string {
	for _, st := range s.stages {
		if st.ID == id {
			return st.Name
		}
	}
	return ""
}

// decodeBody reads a JSON object body, numbers kept as json.Number.
func decodeBody(b []byte) (map[string]any, *apiError) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil || m == nil {
		return nil, badRequest("Validation failed: the body must be a JSON object")
	}
	return m, nil
}

// intField reads an integer field: absent is 0, false; a non-integer is
// an error.
func intField(m map[string]any, k string) (int64, bool, *apiError) {
	v, ok := m[k]
	if !ok || v == nil {
		return 0, false, nil
	}
	n, isNum := v.(json.Number)
	if !isNum {
		return 0, false, badRequest("Validation failed: " + k + ": must be an integer")
	}
	i, err := n.Int64()
	if err != nil {
		return 0, false, badRequest("Validation failed: " + k + ": must be an integer")
	}
	return i, true, nil
}

func (s *Server) user(id int64) (User, bool) {
	for _, u := range s.users {
		if u.ID == id {
			return u, true
		}
	}
	return User{}, false
}

// owner reads owner_id: absent is the token's user (1); an unknown or
// deactivated user is refused.
func (s *Server) owner(m map[string]any) (int64, bool, *apiError) {
	id, ok, e := intField(m, "owner_id")
	if e != nil || !ok {
		return 1, ok, e
	}
	if u, found := s.user(id); !found || !u.Active {
		return 0, false, badRequest("Validation failed: owner_id: User not found or not active")
	}
	return id, true, nil
}

func (s *Server) personJSON(p *Person) map[string]any {
	phones := []map[string]any{}
	for _, ph := range p.Phones {
		phones = append(phones, map[string]any{"value": ph.Value, "primary": ph.Primary, "label": ph.Label})
	}
	return map[string]any{"id": p.ID, "name": p.Name, "owner_id": p.OwnerID, "org_id": nil,
		"phones": phones, "emails": []any{}, "is_deleted": false, "visible_to": 3,
		"add_time": "2026-01-05T10:00:00Z", "update_time": time.Now().UTC().Format(time.RFC3339)}
}

func dealJSON(d *Deal) map[string]any {
	var person any
	if d.PersonID != 0 {
		person = d.PersonID
	}
	return map[string]any{"id": d.ID, "title": d.Title, "status": d.Status, "owner_id": d.OwnerID,
		"person_id": person, "org_id": nil, "pipeline_id": d.PipelineID, "stage_id": d.StageID,
		"value": 0, "currency": "USD", "is_deleted": false, "visible_to": 3,
		"add_time": "2026-01-05T10:00:00Z", "update_time": time.Now().UTC().Format(time.RFC3339)}
}

func (s *Server) addPerson(body []byte) (answer, *apiError) {
	m, e := decodeBody(body)
	if e != nil {
		return answer{}, e
	}
	name, _ := m["name"].(string)
	if strings.TrimSpace(name) == "" {
		return answer{}, badRequest("Validation failed: name: Parameter 'name' is required")
	}
	owner, _, e := s.owner(m)
	if e != nil {
		return answer{}, e
	}
	p := &Person{ID: s.id(), Name: name, OwnerID: owner, Added: s.now()}
	if raw, ok := m["phones"]; ok && raw != nil {
		list, ok := raw.([]any)
		if !ok {
			return answer{}, badRequest("Validation failed: phones: must be an array of {value, primary, label}")
		}
		for _, x := range list {
			o, ok := x.(map[string]any)
			v, _ := o["value"].(string)
			if !ok || v == "" {
				return answer{}, badRequest("Validation failed: phones: every phone needs a value")
			}
			primary, _ := o["primary"].(bool)
			label, _ := o["label"].(string)
			p.Phones = append(p.Phones, Phone{Value: v, Primary: primary, Label: cmpOrStr(label, "work")})
		}
	}
	s.persons[p.ID] = p
	return answer{data: s.personJSON(p)}, nil
}

func cmpOrStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (s *Server) updatePerson(id int64, body []byte) (answer, *apiError) {
	p := s.persons[id]
	if p == nil {
		return answer{}, notFound("Person")
	}
	m, e := decodeBody(body)
	if e != nil {
		return answer{}, e
	}
	owner, ok, e := s.owner(m)
	if e != nil {
		return answer{}, e
	}
	if ok {
		p.OwnerID = owner
	}
	if name, ok := m["name"].(string); ok && strings.TrimSpace(name) != "" {
		p.Name = name
	}
	return answer{data: s.personJSON(p)}, nil
}

// placement reads pipeline_id and stage_id: a stage must be of the
// pipeline; a pipeline alone starts in its first stage; neither, in the
// default pipeline's first stage.
func (s *Server) placement(m map[string]any) (pipelineID, stageID int64, e *apiError) {
	pid, hasP, e := intField(m, "pipeline_id")
	if e != nil {
		return 0, 0, e
	}
	sid, hasS, e := intField(m, "stage_id")
	if e != nil {
		return 0, 0, e
	}
	if hasS {
		for _, st := range s.stages {
			if st.ID == sid {
				if hasP && st.PipelineID != pid {
					return 0, 0, badRequest("Validation failed: stage_id: Stage does not belong to the pipeline")
				}
				return st.PipelineID, st.ID, nil
			}
		}
		return 0, 0, badRequest("Validation failed: stage_id: Stage not found")
	}
	if !hasP {
		var def *Pipeline
		for i, p := range s.pipelines {
			if !p.Deleted && (def == nil || p.OrderNr < def.OrderNr) {
				def = &s.pipelines[i]
			}
		}
		if def != nil {
			pid = def.ID
		}
	}
	if p := s.pipelineByID(pid); p.ID == 0 || p.Deleted {
		return 0, 0, badRequest("Validation failed: pipeline_id: Pipeline not found")
	}
	first := Stage{}
	for _, st := range s.stages {
		if st.PipelineID == pid && (first.ID == 0 || st.OrderNr < first.OrderNr) {
			first = st
		}
	}
	if first.ID == 0 {
		return 0, 0, badRequest("Validation failed: pipeline_id: Pipeline has no stages")
	}
	return pid, first.ID, nil
}

func (s *Server) pipelineByID(id int64) Pipeline {
	for _, p := range s.pipelines {
		if p.ID == id {
			return p
		}
	}
	return Pipeline{}
}

func (s *Server) addDeal(body []byte) (answer, *apiError) {
	m, e := decodeBody(body)
	if e != nil {
		return answer{}, e
	}
	title, _ := m["title"].(string)
	if strings.TrimSpace(title) == "" {
		return answer{}, badRequest("Validation failed: title: Parameter 'title' is required")
	}
	owner, _, e := s.owner(m)
	if e != nil {
		return answer{}, e
	}
	person, hasPerson, e := intField(m, "person_id")
	if e != nil {
		return answer{}, e
	}
	if hasPerson && s.persons[person] == nil {
		return answer{}, badRequest("Validation failed: person_id: Person not found")
	}
	pid, sid, e := s.placement(m)
	if e != nil {
		return answer{}, e
	}
	status := StatusOpen
	if v, ok := m["status"].(string); ok {
		if v != StatusOpen && v != StatusWon && v != StatusLost {
			return answer{}, badRequest("Validation failed: status: must be one of open, won, lost")
		}
		status = v
	}
	d := &Deal{ID: s.id(), Title: title, Status: status, OwnerID: owner, PersonID: person, PipelineID: pid, StageID: sid, Added: s.now()}
	s.deals[d.ID] = d
	return answer{data: dealJSON(d)}, nil
}

func (s *Server) updateDeal(id int64, body []byte) (answer, *apiError) {
	d := s.deals[id]
	if d == nil {
		return answer{}, notFound("Deal")
	}
	m, e := decodeBody(body)
	if e != nil {
		return answer{}, e
	}
	owner, ok, e := s.owner(m)
	if e != nil {
		return answer{}, e
	}
	if v, has := m["status"].(string); has {
		if v != StatusOpen && v != StatusWon && v != StatusLost {
			return answer{}, badRequest("Validation failed: status: must be one of open, won, lost")
		}
		d.Status = v
	}
	if ok {
		d.OwnerID = owner
	}
	return answer{data: dealJSON(d)}, nil
}

func noteJSON(n *Note) map[string]any {
	var deal, person any
	if n.DealID != 0 {
		deal = n.DealID
	}
	if n.PersonID != 0 {
		person = n.PersonID
	}
	return map[string]any{"id": n.ID, "content": n.Content, "deal_id": deal, "person_id": person,
		"org_id": nil, "lead_id": nil, "user_id": n.UserID, "active_flag": true,
		"add_time": "2026-01-05 10:00:00", "update_time": "2026-01-05 10:00:00"}
}

func (s *Server) addNote(body []byte) (answer, *apiError) {
	m, e := decodeBody(body)
	if e != nil {
		return answer{}, e
	}
	content, _ := m["content"].(string)
	if strings.TrimSpace(content) == "" {
		return answer{}, badRequest("Validation failed: content: Parameter 'content' is required")
	}
	deal, hasDeal, e := intField(m, "deal_id")
	if e != nil {
		return answer{}, e
	}
	person, hasPerson, e := intField(m, "person_id")
	if e != nil {
		return answer{}, e
	}
	switch {
	case !hasDeal && !hasPerson:
		return answer{}, badRequest("Validation failed: one of deal_id, person_id, org_id, lead_id or project_id is required")
	case hasDeal && s.deals[deal] == nil:
		return answer{}, badRequest("Validation failed: deal_id: Deal not found")
	case hasPerson && s.persons[person] == nil:
		return answer{}, badRequest("Validation failed: person_id: Person not found")
	}
	n := &Note{ID: s.id(), Content: content, DealID: deal, PersonID: person, UserID: 1}
	s.notes = append(s.notes, n)
	return answer{status: http.StatusCreated, data: noteJSON(n)}, nil
}

// listNotes pages the v1 way: start, limit (100 by default, 500 at most)
// and additional_data.pagination.
func (s *Server) listNotes(q url.Values) (answer, *apiError) {
	var deal, person int64
	if v := q.Get("deal_id"); v != "" {
		deal, _ = strconv.ParseInt(v, 10, 64)
	}
	if v := q.Get("person_id"); v != "" {
		person, _ = strconv.ParseInt(v, 10, 64)
	}
	var items []map[string]any
	for _, n := range s.notes {
		if deal != 0 && n.DealID != deal || person != 0 && n.PersonID != person {
			continue
		}
		items = append(items, noteJSON(n))
	}
	start, _ := strconv.Atoi(q.Get("start"))
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, maxLimit)
	start = min(max(start, 0), len(items))
	end := min(start+limit, len(items))
	pg := map[string]any{"start": start, "limit": limit, "more_items_in_collection": end < len(items)}
	if end < len(items) {
		pg["next_start"] = end
	}
	var data any
	if end > start {
		data = items[start:end]
	}
	return answer{data: data, additional: map[string]any{"pagination": pg}}, nil
}

func (s *Server) sortedPersons() []*Person {
	out := make([]*Person, 0, len(s.persons))
	for _, p := range s.persons {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *Server) sortedDeals() []*Deal {
	out := make([]*Deal, 0, len(s.deals))
	for _, d := range s.deals {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

// indexing reports whether a record made at added is still missing from
// search results (see WithSearchLag). Callers hold s.mu.
func (s *Server) indexing(added time.Time) bool {
	return s.searchLag > 0 && !added.IsZero() && s.now().Sub(added) < s.searchLag
}

// listDeals is GET /api/v2/deals: the deals not deleted, filtered by
// owner_id, person_id, pipeline_id, stage_id and status, sorted by
// sort_by (id, add_time, update_time; id here for all three) and
// sort_direction (asc by default), paged by cursor.
func (s *Server) listDeals(q url.Values) (answer, *apiError) {
	filters := map[string]int64{}
	for _, k := range []string{"owner_id", "person_id", "pipeline_id", "stage_id"} {
		if v := q.Get(k); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return answer{}, badRequest("Validation failed: " + k + ": must be an integer")
			}
			filters[k] = n
		}
	}
	switch q.Get("sort_by") {
	case "", "id", "add_time", "update_time":
	default:
		return answer{}, badRequest("Validation failed: sort_by: must be one of id, update_time, add_time")
	}
	desc := false
	switch q.Get("sort_direction") {
	case "", "asc":
	case "desc":
		desc = true
	default:
		return answer{}, badRequest("Validation failed: sort_direction: must be asc or desc")
	}
	status := q.Get("status")
	deals := s.sortedDeals()
	if desc {
		for i, j := 0, len(deals)-1; i < j; i, j = i+1, j-1 {
			deals[i], deals[j] = deals[j], deals[i]
		}
	}
	items := []map[string]any{}
	for _, d := range deals {
		if status != "" && d.Status != status ||
			filters["owner_id"] != 0 && d.OwnerID != filters["owner_id"] ||
			filters["person_id"] != 0 && d.PersonID != filters["person_id"] ||
			filters["pipeline_id"] != 0 && d.PipelineID != filters["pipeline_id"] ||
			filters["stage_id"] != 0 && d.StageID != filters["stage_id"] {
			continue
		}
		items = append(items, dealJSON(d))
	}
	data, more, e := page(items, q)
	return answer{data: data, additional: more}, e
}

// listPersons answers GET /api/v2/persons?sort_by=id&sort_direction=&limit=
// (one page, cursor-less): every person, not waiting for the search index.
func (s *Server) listPersons(q url.Values) (answer, *apiError) {
	switch q.Get("sort_by") {
	case "", "id", "add_time", "update_time":
	default:
		return answer{}, badRequest("Validation failed: sort_by: must be one of id, update_time, add_time")
	}
	persons := s.sortedPersons()
	if q.Get("sort_direction") == "desc" {
		for i, j := 0, len(persons)-1; i < j; i, j = i+1, j-1 {
			persons[i], persons[j] = persons[j], persons[i]
		}
	}
	items := make([]map[string]any, 0, len(persons))
	for _, p := range persons {
		items = append(items, s.personJSON(p))
	}
	data, more, e := page(items, q)
	return answer{data: data, additional: more}, e
}
