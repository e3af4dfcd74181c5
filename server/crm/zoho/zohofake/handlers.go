package zohofake

import (
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /oauth/v2/token", s.token)
	m.HandleFunc("GET /crm/v7/users", s.listUsers)
	m.HandleFunc("GET /crm/v7/settings/layouts", s.listLayouts)
	m.HandleFunc("GET /crm/v7/settings/pipeline", s.listPipelines)
	m.HandleFunc("POST /crm/v7/actions/watch", s.watch)
	m.HandleFunc("DELETE /crm/v7/actions/watch", s.unwatch)
	m.HandleFunc("GET /crm/v7/org", s.org)
	m.HandleFunc("GET /crm/v7/{module}/search", s.search)
	m.HandleFunc("POST /crm/v7/{module}", s.insert)
	m.HandleFunc("GET /crm/v7/{module}/{id}", s.get)
	m.HandleFunc("PUT /crm/v7/{module}/{id}", s.update)
	m.HandleFunc("POST /crm/v7/{module}/{id}/Notes", s.addNote)
	m.HandleFunc("GET /crm/v7/{module}/{id}/Notes", s.listNotes)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, http.StatusNotFound, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one", nil)
	})
	s.mux = m
}

// module checks a module's API name; only Contacts and Deals are kept.
func module(w http.ResponseWriter, r *http.Request) (string, bool) {
	m := r.PathValue("module")
	if m != "Contacts" && m != "Deals" {
		writeStatus(w, http.StatusBadRequest, "INVALID_MODULE", "the module name given seems to be invalid", map[string]any{"resource_path_index": 0})
		return "", false
	}
	return m, true
}

// paging reads page (from 1) and per_page (at most 200).
func paging(r *http.Request) (page, perPage int) {
	page, _ = strconv.Atoi(r.URL.Query().Get("page"))
	perPage, _ = strconv.Atoi(r.URL.Query().Get("per_page"))
	if page < 1 {
		page = 1
	}
	if perPage < 1 || perPage > 200 {
		perPage = 200
	}
	return page, perPage
}

// writePage answers one page of items under key, with "info"; an empty
// result is 204 No Content, as the CRM answers it.
func writePage[T any](w http.ResponseWriter, r *http.Request, key string, items []T) {
	page, per := paging(r)
	from := min((page-1)*per, len(items))
	to := min(from+per, len(items))
	if from == to {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{key: items[from:to],
		"info": map[string]any{"per_page": per, "count": to - from, "page": page, "more_records": to < len(items)}})
}

func (s *Server) userJSON(id string) any {
	for _, u := range s.users {
		if u.ID == id {
			return map[string]string{"id": u.ID, "name": u.FullName, "email": u.Email}
		}
	}
	if id == "" {
		return nil
	}
	return map[string]string{"id": id}
}

// listUsers answers GET /crm/v7/users?type=AllUsers|ActiveUsers|
// DeactiveUsers.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	typ := r.URL.Query().Get("type")
	if typ == "" {
		typ = "AllUsers"
	}
	s.mu.Lock()
	var out []map[string]any
	for _, u := range s.users {
		active := u.Status == "active"
		if typ == "ActiveUsers" && !active || typ == "DeactiveUsers" && active {
			continue
		}
		first, last, _ := strings.Cut(u.FullName, " ")
		out = append(out, map[string]any{"id": u.ID, "full_name": u.FullName, "first_name": first, "last_name": last,
			"email": u.Email, "status": u.Status, "confirm": true,
			"role": map[string]string{"name": "Manager", "id": "5725767000000026005"}})
	}
	s.mu.Unlock()
	switch typ {
	case "AllUsers", "ActiveUsers", "DeactiveUsers", "AdminUsers", "ConfirmedUsers":
	default:
		writeStatus(w, http.StatusBadRequest, "INVALID_DATA", "invalid data", map[string]any{"param_name": "type"})
		return
	}
	writePage(w, r, "users", out)
}

// listLayouts answers GET /crm/v7/settings/layouts?module=Deals with the
// one layout.
func (s *Server) listLayouts(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("module") != "Deals" {
		writeStatus(w, http.StatusBadRequest, "INVALID_MODULE", "the module name given seems to be invalid", nil)
		return
	}
	s.mu.Lock()
	id := s.layoutID
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"layouts": []any{map[string]any{"id": id, "name": "Standard", "status": "active", "visible": true}}})
}

func pipelineJSON(p Pipeline) map[string]any {
	var maps []any
	for i, st := range p.Stages {
		maps = append(maps, map[string]any{"id": st.ID, "display_value": st.Value, "actual_value": st.Value,
			"sequence_number": i + 1, "forecast_type": st.ForecastType,
			"forecast_category": map[string]any{"name": st.ForecastCategory, "id": st.ID + "0"}})
	}
	return map[string]any{"id": p.ID, "display_value": p.Value, "actual_value": p.Value, "default": p.Default,
		"child_available": false, "parent": nil, "maps": maps}
}

// listPipelines answers GET /crm/v7/settings/pipeline?layout_id=….
func (s *Server) listPipelines(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.URL.Query().Get("layout_id") != s.layoutID {
		writeStatus(w, http.StatusBadRequest, "INVALID_DATA", "the layout id given seems to be invalid", map[string]any{"param_name": "layout_id"})
		return
	}
	var out []any
	for _, p := range s.pipelines {
		out = append(out, pipelineJSON(p))
	}
	writeJSON(w, http.StatusOK, map[string]any{"pipeline": out})
}

func (s *Server) contactJSON(c *Contact) map[string]any {
	return map[string]any{"id": c.ID, "First_Name": nullable(c.FirstName), "Last_Name": c.LastName,
		"Full_Name": strings.TrimSpace(c.FirstName + " " + c.LastName), "Phone": nullable(c.Phone), "Mobile": nullable(c.Mobile),
		"Description": nullable(c.Description), "Owner": s.userJSON(c.OwnerID)}
}

func (s *Server) pipeline(id string) (Pipeline, bool) {
	for _, p := range s.pipelines {
		if p.ID == id {
			return p, true
		}
	}
	return Pipeline{}, false
}

func (s *Server) dealJSON(d *Deal) map[string]any {
	var pipe any
	if p, ok := s.pipeline(d.PipelineID); ok {
		pipe = map[string]string{"id": p.ID, "name": p.Value}
	}
	var contact any
	if c := s.contacts[d.ContactID]; c != nil {
		contact = map[string]string{"id": c.ID, "name": strings.TrimSpace(c.FirstName + " " + c.LastName)}
	}
	return map[string]any{"id": d.ID, "Deal_Name": d.Name, "Stage": d.Stage, "Pipeline": pipe,
		"Owner": s.userJSON(d.OwnerID), "Contact_Name": contact}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// phoneMatch is the fake's phone search: the query's digits end one of
// the record's phone numbers' digits. The reference does not say how the
// CRM compares numbers; this is one plausible rule, under which a query
// by a number's last ten digits finds "+7 916 …" and "8 (916) …" alike.
func phoneMatch(stored, query string) bool {
	q := digits(query)
	return q != "" && strings.HasSuffix(digits(stored), q)
}

// criterion is one (field:operator:value) of a search's criteria.
type criterion struct{ field, op, value string }

// parseCriteria reads "(field:op:value)" or several joined by "and"/"or"
// (all taken as "and"); values have "\(", "\)", "\," and "\\" escapes.
func parseCriteria(s string) ([]criterion, bool) {
	var out []criterion
	var cur strings.Builder
	depth := 0
	flush := func() bool {
		part := strings.TrimSpace(cur.String())
		cur.Reset()
		if part == "" {
			return true
		}
		f := strings.SplitN(part, ":", 3)
		if len(f) != 3 {
			return false
		}
		v := strings.NewReplacer(`\(`, `(`, `\)`, `)`, `\,`, `,`, `\\`, `\`).Replace(f[2])
		out = append(out, criterion{strings.TrimSpace(f[0]), strings.TrimSpace(f[1]), v})
		return true
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			cur.WriteByte(c)
			cur.WriteByte(s[i+1])
			i++
		case c == '(':
			depth++
		case c == ')':
			depth--
			if !flush() {
				return nil, false
			}
		case depth > 0:
			cur.WriteByte(c)
		}
	}
	return out, depth == 0 && len(out) > 0
}

func matchText(op, have, want string) (bool, bool) {
	h, v := strings.ToLower(have), strings.ToLower(want)
	switch op {
	case "equals":
		return h == v, true
	case "starts_with":
		return strings.HasPrefix(h, v), true
	case "contains":
		return strings.Contains(h, v), true
	case "not_equal":
		return h != v, true
	}
	return false, false
}

// search answers GET /crm/v7/{module}/search with phone=, word= or
// criteria= (Deal_Name, Last_Name, First_Name, Phone, Mobile, Stage;
// equals, starts_with, contains, not_equal); 204 when nothing matches.
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	mod, ok := module(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	var crit []criterion
	if c := q.Get("criteria"); c != "" {
		if crit, ok = parseCriteria(c); !ok {
			writeStatus(w, http.StatusBadRequest, "INVALID_QUERY", "invalid query formed", map[string]any{"param_name": "criteria"})
			return
		}
	}
	phone, word := q.Get("phone"), strings.ToLower(q.Get("word"))
	if len(crit) == 0 && phone == "" && word == "" {
		writeStatus(w, http.StatusBadRequest, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", map[string]any{"param_name": "criteria"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fieldsOf := func(c *Contact, d *Deal) map[string]string {
		if c != nil {
			return map[string]string{"First_Name": c.FirstName, "Last_Name": c.LastName, "Phone": c.Phone, "Mobile": c.Mobile, "Description": c.Description}
		}
		return map[string]string{"Deal_Name": d.Name, "Stage": d.Stage}
	}
	keep := func(c *Contact, d *Deal) (bool, bool) {
		f := fieldsOf(c, d)
		if phone != "" && (c == nil || !phoneMatch(c.Phone, phone) && !phoneMatch(c.Mobile, phone)) {
			return false, true
		}
		if word != "" {
			hit := false
			for _, v := range f {
				hit = hit || strings.Contains(strings.ToLower(v), word)
			}
			if !hit {
				return false, true
			}
		}
		for _, cr := range crit {
			v, known := f[cr.field]
			if !known {
				return false, false
			}
			m, okOp := matchText(cr.op, v, cr.value)
			if !okOp {
				return false, false
			}
			if !m {
				return false, true
			}
		}
		return true, true
	}
	var out []map[string]any
	var ids []string
	if mod == "Contacts" {
		for id := range s.contacts {
			ids = append(ids, id)
		}
	} else {
		for id := range s.deals {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		var hit, valid bool
		if mod == "Contacts" {
			hit, valid = keep(s.contacts[id], nil)
		} else {
			hit, valid = keep(nil, s.deals[id])
		}
		if !valid {
			writeStatus(w, http.StatusBadRequest, "INVALID_QUERY", "invalid query formed", map[string]any{"param_name": "criteria"})
			return
		}
		if !hit {
			continue
		}
		if mod == "Contacts" {
			out = append(out, s.contactJSON(s.contacts[id]))
		} else {
			out = append(out, s.dealJSON(s.deals[id]))
		}
	}
	writePage(w, r, "data", out)
}

// body reads {"data":[…]} of a write.
func body(w http.ResponseWriter, r *http.Request) ([]map[string]json.RawMessage, bool) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var b struct {
		Data []map[string]json.RawMessage `json:"data"`
	}
	if err != nil || json.Unmarshal(raw, &b) != nil {
		writeStatus(w, http.StatusBadRequest, "INVALID_DATA", "body", nil)
		return nil, false
	}
	if len(b.Data) == 0 || len(b.Data) > 100 {
		writeStatus(w, http.StatusBadRequest, "INVALID_DATA", "the data array must hold 1 to 100 records", map[string]any{"api_name": "data"})
		return nil, false
	}
	return b.Data, true
}

func str(m map[string]json.RawMessage, k string) string {
	var s string
	_ = json.Unmarshal(m[k], &s)
	return s
}

// lookupID reads a lookup written as {"id": …}.
func lookupID(m map[string]json.RawMessage, k string) (string, bool) {
	raw, ok := m[k]
	if !ok || string(raw) == "null" {
		return "", false
	}
	var x struct {
		ID   json.RawMessage `json:"id"`
		Name string          `json:"name"`
	}
	if json.Unmarshal(raw, &x) != nil {
		return "", true
	}
	var id string
	if json.Unmarshal(x.ID, &id) != nil {
		id = strings.Trim(string(x.ID), `"`)
	}
	return id, true
}

func (s *Server) activeUser(id string) bool {
	for _, u := range s.users {
		if u.ID == id {
			return u.Status == "active"
		}
	}
	return false
}

// applyOwner sets an Owner {id} when given; it must be an active user.
func (s *Server) applyOwner(rec map[string]json.RawMessage, set func(string)) map[string]any {
	if id, given := lookupID(rec, "Owner"); given {
		if !s.activeUser(id) {
			return recordStatus("INVALID_DATA", "invalid data", map[string]any{"api_name": "Owner", "json_path": "$.data[0].Owner"})
		}
		set(id)
	}
	return nil
}

// dealPlacement resolves a deal's Pipeline (a value, or {id}/{name}) and
// Stage (a value of that pipeline).
func (s *Server) dealPlacement(rec map[string]json.RawMessage, d *Deal) map[string]any {
	if _, ok := rec["Pipeline"]; ok {
		want := str(rec, "Pipeline")
		id, _ := lookupID(rec, "Pipeline")
		found := false
		for _, p := range s.pipelines {
			if want != "" && p.Value == want || id != "" && p.ID == id {
				d.PipelineID, found = p.ID, true
			}
		}
		if !found {
			return recordStatus("INVALID_DATA", "invalid data", map[string]any{"api_name": "Pipeline"})
		}
	}
	if d.PipelineID == "" {
		for _, p := range s.pipelines {
			if p.Default {
				d.PipelineID = p.ID
			}
		}
	}
	if _, ok := rec["Stage"]; ok {
		d.Stage = str(rec, "Stage")
	}
	p, _ := s.pipeline(d.PipelineID)
	for _, st := range p.Stages {
		if st.Value == d.Stage {
			return nil
		}
	}
	return recordStatus("INVALID_DATA", "invalid data", map[string]any{"api_name": "Stage"})
}

// insert answers POST /crm/v7/{module} {"data":[…]}: one status per
// record; 201 when every record was added, else 400 when none was and
// 207 when some were.
func (s *Server) insert(w http.ResponseWriter, r *http.Request) {
	mod, ok := module(w, r)
	if !ok {
		return
	}
	recs, ok := body(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []any
	added := 0
	for _, rec := range recs {
		st := s.insertOne(mod, rec)
		if st["status"] == "success" {
			added++
		}
		out = append(out, st)
	}
	status := http.StatusCreated
	switch {
	case added == 0:
		status = http.StatusBadRequest
	case added < len(recs):
		status = http.StatusMultiStatus
	}
	writeJSON(w, status, map[string]any{"data": out})
}

// insertOne adds one record. Callers hold s.mu.
func (s *Server) insertOne(mod string, rec map[string]json.RawMessage) map[string]any {
	owner := UserAdmin
	if mod == "Contacts" {
		c := &Contact{FirstName: str(rec, "First_Name"), LastName: str(rec, "Last_Name"), Phone: str(rec, "Phone"),
			Mobile: str(rec, "Mobile"), Description: str(rec, "Description"), OwnerID: owner}
		if strings.TrimSpace(c.LastName) == "" {
			return recordStatus("MANDATORY_NOT_FOUND", "required field not found", map[string]any{"api_name": "Last_Name", "json_path": "$.data[0].Last_Name"})
		}
		if e := s.applyOwner(rec, func(id string) { c.OwnerID = id }); e != nil {
			return e
		}
		c.ID = s.id()
		s.contacts[c.ID] = c
		return recordSuccess("record added", c.ID)
	}
	d := &Deal{Name: str(rec, "Deal_Name"), OwnerID: owner}
	for _, f := range []string{"Deal_Name", "Stage"} {
		if str(rec, f) == "" {
			return recordStatus("MANDATORY_NOT_FOUND", "required field not found", map[string]any{"api_name": f, "json_path": "$.data[0]." + f})
		}
	}
	if e := s.dealPlacement(rec, d); e != nil {
		return e
	}
	if id, given := lookupID(rec, "Contact_Name"); given {
		if s.contacts[id] == nil {
			return recordStatus("INVALID_DATA", "invalid data", map[string]any{"api_name": "Contact_Name", "id": id})
		}
		d.ContactID = id
	}
	if e := s.applyOwner(rec, func(id string) { d.OwnerID = id }); e != nil {
		return e
	}
	d.ID = s.id()
	s.deals[d.ID] = d
	return recordSuccess("record added", d.ID)
}

// get answers GET /crm/v7/{module}/{id}: {"data":[record]}. A missing
// record is answered 204 No Content (the reference does not show the
// answer for an id that does not exist).
func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	mod, ok := module(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	var rec map[string]any
	if mod == "Contacts" {
		if c := s.contacts[id]; c != nil {
			rec = s.contactJSON(c)
		}
	} else if d := s.deals[id]; d != nil {
		rec = s.dealJSON(d)
	}
	if rec == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": []any{rec}})
}

// update answers PUT /crm/v7/{module}/{id} {"data":[{…}]}: Owner, and for
// deals Stage, Pipeline and Deal_Name. A missing id is a record's
// INVALID_DATA, answered 400.
func (s *Server) update(w http.ResponseWriter, r *http.Request) {
	mod, ok := module(w, r)
	if !ok {
		return
	}
	recs, ok := body(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	rec := recs[0]
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.updateOne(mod, id, rec)
	status := http.StatusOK
	if st["status"] != "success" {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, map[string]any{"data": []any{st}})
}

func (s *Server) updateOne(mod, id string, rec map[string]json.RawMessage) map[string]any {
	missing := recordStatus("INVALID_DATA", "the id given seems to be invalid", map[string]any{"id": id})
	if mod == "Contacts" {
		c := s.contacts[id]
		if c == nil {
			return missing
		}
		cp := *c
		if e := s.applyOwner(rec, func(id string) { cp.OwnerID = id }); e != nil {
			return e
		}
		*c = cp
		return recordSuccess("record updated", id)
	}
	d := s.deals[id]
	if d == nil {
		return missing
	}
	cp := *d
	if _, ok := rec["Deal_Name"]; ok {
		cp.Name = str(rec, "Deal_Name")
	}
	if _, ok := rec["Stage"]; ok || rec["Pipeline"] != nil {
		if e := s.dealPlacement(rec, &cp); e != nil {
			return e
		}
	}
	if e := s.applyOwner(rec, func(id string) { cp.OwnerID = id }); e != nil {
		return e
	}
	*d = cp
	return recordSuccess("record updated", id)
}

func (s *Server) parentExists(mod, id string) bool {
	if mod == "Contacts" {
		return s.contacts[id] != nil
	}
	return s.deals[id] != nil
}

// addNote answers POST /crm/v7/{module}/{id}/Notes {"data":[{Note_Title,
// Note_Content}]}: 201 with one status per note.
func (s *Server) addNote(w http.ResponseWriter, r *http.Request) {
	mod, ok := module(w, r)
	if !ok {
		return
	}
	recs, ok := body(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.parentExists(mod, id) {
		writeStatus(w, http.StatusBadRequest, "INVALID_DATA", "the related id given seems to be invalid", map[string]any{"id": id})
		return
	}
	var out []any
	added := 0
	for _, rec := range recs {
		content := str(rec, "Note_Content")
		if content == "" {
			out = append(out, recordStatus("MANDATORY_NOT_FOUND", "required field not found", map[string]any{"api_name": "Note_Content"}))
			continue
		}
		n := &Note{ID: s.id(), Module: mod, ParentID: id, Title: str(rec, "Note_Title"), Content: content}
		s.notes = append(s.notes, n)
		out = append(out, recordSuccess("record added", n.ID))
		added++
	}
	status := http.StatusCreated
	if added == 0 {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, map[string]any{"data": out})
}

// listNotes answers GET /crm/v7/{module}/{id}/Notes?fields=…: the v7
// related lists need "fields"; 204 when the record has no notes.
func (s *Server) listNotes(w http.ResponseWriter, r *http.Request) {
	mod, ok := module(w, r)
	if !ok {
		return
	}
	if r.URL.Query().Get("fields") == "" {
		writeStatus(w, http.StatusBadRequest, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", map[string]any{"param_name": "fields"})
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.parentExists(mod, id) {
		writeStatus(w, http.StatusBadRequest, "INVALID_DATA", "the related id given seems to be invalid", map[string]any{"id": id})
		return
	}
	var out []map[string]any
	for _, n := range s.notes {
		if n.Module == mod && n.ParentID == id {
			out = append(out, map[string]any{"id": n.ID, "Note_Title": nullable(n.Title), "Note_Content": n.Content,
				"Parent_Id": map[string]any{"module": map[string]string{"api_name": mod}, "id": id}})
		}
	}
	writePage(w, r, "data", out)
}
