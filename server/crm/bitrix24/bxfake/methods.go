package bxfake

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

type methodFunc func(s *Server, p params) (answer, *apiError)

var methods = map[string]methodFunc{
	"user.get":                  (*Server).userGet,
	"crm.category.list":         (*Server).categoryList,
	"crm.status.list":           (*Server).statusList,
	"crm.duplicate.findbycomm":  (*Server).findByComm,
	"crm.contact.get":           (*Server).contactGet,
	"crm.contact.add":           (*Server).contactAdd,
	"crm.contact.update":        (*Server).contactUpdate,
	"crm.deal.get":              (*Server).dealGet,
	"crm.deal.add":              (*Server).dealAdd,
	"crm.deal.update":           (*Server).dealUpdate,
	"crm.deal.list":             (*Server).dealList,
	"crm.timeline.comment.add":  (*Server).commentAdd,
	"crm.timeline.comment.list": (*Server).commentList,
}

// call serves one method outside a batch.
func (s *Server) call(method string, p params) (answer, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.record(method)
	return s.callLocked(method, p)
}

// maxCalls bounds the call log of a long-running fake.
const maxCalls = 10000

// record logs a served method. Callers hold s.mu.
func (s *Server) record(method string) {
	if len(s.calls) >= maxCalls {
		s.calls = append(s.calls[:0], s.calls[len(s.calls)-maxCalls/2:]...)
	}
	s.calls = append(s.calls, method)
}

// callLocked serves one method. Callers hold s.mu.
func (s *Server) callLocked(method string, p params) (answer, *apiError) {
	f := methods[method]
	if f == nil {
		return answer{}, &apiError{http.StatusNotFound, "ERROR_METHOD_NOT_FOUND", "Method not found!"}
	}
	return f(s, p)
}

// page cuts one page of n records from p's start: [from, to) and the
// next start (0 when none).
func page(n int, p params) (from, to, next int) {
	from = min(start(p), n)
	to = min(from+pageSize, n)
	if to < n {
		next = to
	}
	return from, to, next
}

func ids(v int64) string { return strconv.FormatInt(v, 10) }

func yn(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}

// truthy reads a filter's boolean: true, "Y", "1", "true".
func truthy(v any) bool {
	if b, ok := v.(bool); ok {
		return b
	}
	s := strings.ToUpper(str(v))
	return s == "Y" || s == "1" || s == "TRUE"
}

// --- users ---

func userJSON(u User) map[string]any {
	t := u.Type
	if t == "" {
		t = "employee"
	}
	return map[string]any{
		"ID": ids(u.ID), "ACTIVE": u.Active, "NAME": u.Name, "LAST_NAME": u.LastName, "SECOND_NAME": "",
		"EMAIL": u.Email, "USER_TYPE": t, "UF_DEPARTMENT": []int{1}, "IS_ONLINE": "N",
	}
}

// userGet lists users, dismissed ones too unless FILTER ACTIVE is true,
// sorted by ID (the fake ignores other sort fields).
func (s *Server) userGet(p params) (answer, *apiError) {
	f := obj(p, "FILTER")
	var found []User
	for _, u := range s.users {
		if f != nil {
			if v, ok := get(f, "ACTIVE"); ok && truthy(v) && !u.Active {
				continue
			}
			t := u.Type
			if t == "" {
				t = "employee"
			}
			if v, ok := get(f, "USER_TYPE"); ok && str(v) != t {
				continue
			}
			if v, ok := get(f, "ID"); ok && str(v) != ids(u.ID) {
				continue
			}
		}
		found = append(found, u)
	}
	sort.Slice(found, func(i, j int) bool { return found[i].ID < found[j].ID })
	if strings.EqualFold(member(p, "ORDER"), "DESC") {
		sort.Slice(found, func(i, j int) bool { return found[i].ID > found[j].ID })
	}
	from, to, next := page(len(found), p)
	out := make([]any, 0, to-from)
	for _, u := range found[from:to] {
		out = append(out, userJSON(u))
	}
	return answer{result: out, next: next, total: len(found)}, nil
}

// --- pipelines ---

// categoryList answers {"categories": [...]} for entityTypeId 2 (deals);
// other entity types have none here.
func (s *Server) categoryList(p params) (answer, *apiError) {
	et := member(p, "entityTypeId")
	if et == "" {
		return answer{}, methodError("", "entityTypeId is required")
	}
	var cats []Category
	if et == "2" {
		for _, c := range s.categories {
			if c.ID == 0 && s.hideDefault {
				continue
			}
			cats = append(cats, c)
		}
	}
	sort.SliceStable(cats, func(i, j int) bool { return cats[i].Sort < cats[j].Sort })
	from, to, next := page(len(cats), p)
	out := make([]any, 0, to-from)
	for _, c := range cats[from:to] {
		out = append(out, map[string]any{
			"id": c.ID, "name": c.Name, "sort": c.Sort, "entityTypeId": 2, "isDefault": yn(c.ID == 0),
		})
	}
	return answer{result: map[string]any{"categories": out}, next: next, total: len(cats)}, nil
}

func entityID(categoryID int64) string {
	if categoryID == 0 {
		return "DEAL_STAGE"
	}
	return "DEAL_STAGE_" + ids(categoryID)
}

// statusList lists stages by filter ENTITY_ID (every deal stage when
// absent), in SORT order. The records' ID is the fake's own numbering.
func (s *Server) statusList(p params) (answer, *apiError) {
	want := ""
	if f := obj(p, "filter"); f != nil {
		want = member(f, "ENTITY_ID")
	}
	var out []any
	n := 0
	for _, c := range s.categories {
		eid := entityID(c.ID)
		stages := append([]Stage(nil), c.Stages...)
		sort.SliceStable(stages, func(i, j int) bool { return stages[i].Sort < stages[j].Sort })
		for _, st := range stages {
			n++
			if want != "" && want != eid {
				continue
			}
			var sem, cat any
			extra := "process"
			switch st.Semantics {
			case "S":
				sem, extra = "S", "success"
			case "F":
				sem, extra = "F", "failure"
			}
			if c.ID != 0 {
				cat = ids(c.ID)
			}
			out = append(out, map[string]any{
				"ID": strconv.Itoa(n), "ENTITY_ID": eid, "STATUS_ID": st.StatusID, "NAME": st.Name, "NAME_INIT": "",
				"SORT": strconv.FormatInt(st.Sort, 10), "SYSTEM": yn(st.Semantics != ""), "CATEGORY_ID": cat,
				"COLOR": "#39A8EF", "SEMANTICS": sem, "EXTRA": map[string]any{"SEMANTICS": extra, "COLOR": "#39A8EF"},
			})
		}
	}
	from, to, next := page(len(out), p)
	return answer{result: append([]any{}, out[from:to]...), next: next, total: len(out)}, nil
}

// category returns a category. Callers hold s.mu.
func (s *Server) category(id int64) (Category, bool) {
	for _, c := range s.categories {
		if c.ID == id {
			return c, true
		}
	}
	return Category{}, false
}

// stage returns a stage of a category. Callers hold s.mu.
func (s *Server) stage(categoryID int64, statusID string) (Stage, bool) {
	c, ok := s.category(categoryID)
	if !ok {
		return Stage{}, false
	}
	for _, st := range c.Stages {
		if st.StatusID == statusID {
			return st, true
		}
	}
	return Stage{}, false
}

// firstStage is where a deal starts when no STAGE_ID is given.
func firstStage(c Category) string {
	best := Stage{Sort: 1 << 62}
	for _, st := range c.Stages {
		if st.Semantics == "" && st.Sort < best.Sort {
			best = st
		}
	}
	return best.StatusID
}

// --- contacts ---

func digits(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// samePhone is the fake's reading of the duplicate index: two numbers are
// the same when their digits are, after a leading "8" of an 11-digit
// number reads as "7" (the Russian trunk prefix); an extension (after
// "доб", "ext", "#" or ",") is ignored. The portal's own normalization
// is not documented beyond ignoring extensions.
func samePhone(a, b string) bool {
	na, nb := phoneKey(a), phoneKey(b)
	return na != "" && na == nb
}

func phoneKey(s string) string {
	low := strings.ToLower(s)
	for _, sep := range []string{"доб", "ext", "#", ","} {
		if i := strings.Index(low, sep); i > 0 {
			low = low[:i]
		}
	}
	d := digits(low)
	if len(d) == 11 && d[0] == '8' {
		d = "7" + d[1:]
	}
	return d
}

// findByComm answers {"CONTACT": [ids]} (numbers), or [] when nothing
// matches; a type with 20 or more matches gives nothing, as documented.
func (s *Server) findByComm(p params) (answer, *apiError) {
	typ := strings.ToUpper(member(p, "type"))
	if typ != "PHONE" && typ != "EMAIL" {
		return answer{}, methodError("", "Communication type is not defined or not supported.")
	}
	v, _ := get(p, "values")
	values := list(v)
	if len(values) == 0 || len(values) > 20 {
		return answer{}, methodError("", "Values must be an array of 1 to 20 items.")
	}
	et := strings.ToUpper(member(p, "entity_type"))
	if et != "" && et != "CONTACT" {
		return one([]any{}), nil
	}
	var found []int64
	for _, c := range s.contacts {
		match := false
		for _, ph := range c.Phones {
			for _, x := range values {
				if typ == "PHONE" && samePhone(ph.Value, str(x)) {
					match = true
				}
			}
		}
		if match {
			found = append(found, c.ID)
		}
	}
	if len(found) == 0 || len(found) >= 20 {
		return one([]any{}), nil
	}
	sort.Slice(found, func(i, j int) bool { return found[i] < found[j] })
	return one(map[string]any{"CONTACT": found}), nil
}

func contactJSON(c *Contact) map[string]any {
	m := map[string]any{
		"ID": ids(c.ID), "NAME": c.Name, "LAST_NAME": c.LastName, "SECOND_NAME": nil, "TYPE_ID": "CLIENT",
		"ASSIGNED_BY_ID": ids(c.AssignedBy), "OPENED": "Y", "HAS_PHONE": yn(len(c.Phones) > 0), "HAS_EMAIL": "N",
	}
	if len(c.Phones) > 0 {
		ph := make([]any, 0, len(c.Phones))
		for _, x := range c.Phones {
			ph = append(ph, map[string]any{"ID": ids(x.ID), "VALUE_TYPE": x.ValueType, "VALUE": x.Value, "TYPE_ID": "PHONE"})
		}
		m["PHONE"] = ph
	}
	return m
}

// idParam reads a method's "id"; a missing or bad one is the portal's
// "ID is not defined or invalid.".
func idParam(p params) (int64, *apiError) {
	v, _ := get(p, "id")
	id := num(v)
	if id <= 0 {
		return 0, methodError("", "ID is not defined or invalid.")
	}
	return id, nil
}

// fieldsParam reads "fields", which must be an object.
func fieldsParam(p params, exact bool) (map[string]any, *apiError) {
	var f map[string]any
	if exact {
		f, _ = p["fields"].(map[string]any)
	} else {
		f = obj(p, "fields")
	}
	if f == nil {
		return nil, methodError("", "Parameter 'fields' must be array.")
	}
	return f, nil
}

func (s *Server) contactGet(p params) (answer, *apiError) {
	id, e := idParam(p)
	if e != nil {
		return answer{}, e
	}
	c := s.contacts[id]
	if c == nil {
		return answer{}, errNotFound
	}
	return one(contactJSON(c)), nil
}

// userExists reports whether id is a user. Callers hold s.mu.
func (s *Server) userExists(id int64) bool {
	for _, u := range s.users {
		if u.ID == id {
			return true
		}
	}
	return false
}

// assigned reads ASSIGNED_BY_ID: absent is the webhook's user; an unknown
// user is refused (the portal's exact answer is not documented).
func (s *Server) assigned(f map[string]any, def int64) (int64, *apiError) {
	v, ok := get(f, "ASSIGNED_BY_ID")
	if !ok || str(v) == "" {
		return def, nil
	}
	id := num(v)
	if !s.userExists(id) {
		return 0, methodError("", fmt.Sprintf("User with ID %q is not found.", str(v)))
	}
	return id, nil
}

func (s *Server) contactAdd(p params) (answer, *apiError) {
	f, e := fieldsParam(p, false)
	if e != nil {
		return answer{}, e
	}
	who, e := s.assigned(f, s.userID)
	if e != nil {
		return answer{}, e
	}
	c := &Contact{ID: s.id(), Name: member(f, "NAME"), LastName: member(f, "LAST_NAME"), AssignedBy: who}
	phones, _ := get(f, "PHONE")
	for _, x := range list(phones) {
		m, ok := x.(map[string]any)
		if !ok || member(m, "VALUE") == "" {
			continue
		}
		t := member(m, "VALUE_TYPE")
		if t == "" {
			t = "WORK"
		}
		c.Phones = append(c.Phones, Phone{ID: s.id(), Value: member(m, "VALUE"), ValueType: t})
	}
	s.contacts[c.ID] = c
	return one(c.ID), nil
}

func (s *Server) contactUpdate(p params) (answer, *apiError) {
	id, e := idParam(p)
	if e != nil {
		return answer{}, e
	}
	f, e := fieldsParam(p, false)
	if e != nil {
		return answer{}, e
	}
	c := s.contacts[id]
	if c == nil {
		return answer{}, errNotFound
	}
	who, e := s.assigned(f, c.AssignedBy)
	if e != nil {
		return answer{}, e
	}
	if v, ok := get(f, "NAME"); ok {
		c.Name = str(v)
	}
	if v, ok := get(f, "LAST_NAME"); ok {
		c.LastName = str(v)
	}
	c.AssignedBy = who
	s.echo(EventContactUpdate, c.ID)
	return one(true), nil
}

// --- deals ---

// semantic is a deal's STAGE_SEMANTIC_ID: "S", "F" or "P".
func (s *Server) semantic(d *Deal) string {
	if st, ok := s.stage(d.CategoryID, d.StageID); ok && st.Semantics != "" {
		return st.Semantics
	}
	return "P"
}

func (s *Server) dealJSON(d *Deal) map[string]any {
	var contact any
	if len(d.ContactIDs) > 0 {
		contact = ids(d.ContactIDs[0])
	}
	sem := s.semantic(d)
	return map[string]any{
		"ID": ids(d.ID), "TITLE": d.Title, "CATEGORY_ID": ids(d.CategoryID), "STAGE_ID": d.StageID,
		"STAGE_SEMANTIC_ID": sem, "ASSIGNED_BY_ID": ids(d.AssignedBy), "CONTACT_ID": contact,
		"OPPORTUNITY": "0.00", "CURRENCY_ID": "USD", "OPENED": "Y", "CLOSED": yn(sem != "P"), "TYPE_ID": "SALE",
	}
}

func (s *Server) dealGet(p params) (answer, *apiError) {
	id, e := idParam(p)
	if e != nil {
		return answer{}, e
	}
	d := s.deals[id]
	if d == nil {
		return answer{}, errNotFound
	}
	return one(s.dealJSON(d)), nil
}

// placeDeal resolves CATEGORY_ID and STAGE_ID against the deal's current
// place (category -1 for a new deal). Callers hold s.mu.
func (s *Server) placeDeal(f map[string]any, category int64, stage string) (int64, string, *apiError) {
	if v, ok := get(f, "CATEGORY_ID"); ok && str(v) != "" {
		n, err := strconv.ParseInt(str(v), 10, 64)
		if _, found := s.category(n); err != nil || !found {
			return 0, "", methodError("", fmt.Sprintf("Category with ID %q is not found.", str(v)))
		}
		if n != category {
			category, stage = n, ""
		}
	}
	if category < 0 {
		category = 0
	}
	if v, ok := get(f, "STAGE_ID"); ok && str(v) != "" {
		if _, found := s.stage(category, str(v)); !found {
			return 0, "", methodError("", fmt.Sprintf("Stage %q is not found in category %d.", str(v), category))
		}
		stage = str(v)
	}
	if stage == "" {
		c, _ := s.category(category)
		stage = firstStage(c)
	}
	return category, stage, nil
}

// contactIDs reads CONTACT_IDS (or the deprecated CONTACT_ID); each must
// exist. Callers hold s.mu.
func (s *Server) contactIDs(f map[string]any) ([]int64, bool, *apiError) {
	v, ok := get(f, "CONTACT_IDS")
	if !ok {
		if one, set := get(f, "CONTACT_ID"); set {
			v, ok = []any{one}, true
		}
	}
	if !ok {
		return nil, false, nil
	}
	var out []int64
	for _, x := range list(v) {
		id := num(x)
		if id == 0 && str(x) == "" {
			continue
		}
		if s.contacts[id] == nil {
			return nil, true, methodError("", fmt.Sprintf("Contact with ID %q is not found.", str(x)))
		}
		out = append(out, id)
	}
	return out, true, nil
}

func (s *Server) dealAdd(p params) (answer, *apiError) {
	f, e := fieldsParam(p, false)
	if e != nil {
		return answer{}, e
	}
	cat, stage, e := s.placeDeal(f, -1, "")
	if e != nil {
		return answer{}, e
	}
	who, e := s.assigned(f, s.userID)
	if e != nil {
		return answer{}, e
	}
	cids, _, e := s.contactIDs(f)
	if e != nil {
		return answer{}, e
	}
	d := &Deal{ID: s.id(), Title: member(f, "TITLE"), CategoryID: cat, StageID: stage, AssignedBy: who, ContactIDs: cids}
	if d.Title == "" {
		d.Title = fmt.Sprintf("Deal #%d", d.ID)
	}
	s.deals[d.ID] = d
	s.echo(EventDealAdd, d.ID)
	return one(d.ID), nil
}

func (s *Server) dealUpdate(p params) (answer, *apiError) {
	id, e := idParam(p)
	if e != nil {
		return answer{}, e
	}
	f, e := fieldsParam(p, false)
	if e != nil {
		return answer{}, e
	}
	d := s.deals[id]
	if d == nil {
		return answer{}, errNotFound
	}
	cat, stage, e := s.placeDeal(f, d.CategoryID, d.StageID)
	if e != nil {
		return answer{}, e
	}
	who, e := s.assigned(f, d.AssignedBy)
	if e != nil {
		return answer{}, e
	}
	cids, set, e := s.contactIDs(f)
	if e != nil {
		return answer{}, e
	}
	if v, ok := get(f, "TITLE"); ok {
		d.Title = str(v)
	}
	d.CategoryID, d.StageID, d.AssignedBy = cat, stage, who
	if set {
		d.ContactIDs = cids
	}
	s.echo(EventDealUpdate, d.ID)
	return one(true), nil
}

// dealList filters by "%TITLE" (substring, case-insensitive), "TITLE",
// "ID", "CATEGORY_ID", "STAGE_ID" and "ASSIGNED_BY_ID"; orders by ID (ASC
// unless order ID is DESC); keeps the select's fields (all when empty or
// "*"), ID always.
func (s *Server) dealList(p params) (answer, *apiError) {
	f := obj(p, "filter")
	var found []*Deal
	for _, d := range s.deals {
		if f != nil && !s.dealMatches(d, f) {
			continue
		}
		found = append(found, d)
	}
	desc := false
	if o := obj(p, "order"); o != nil && strings.EqualFold(member(o, "ID"), "DESC") {
		desc = true
	}
	sort.Slice(found, func(i, j int) bool { return (found[i].ID < found[j].ID) != desc })
	var sel []string
	if v, ok := get(p, "select"); ok {
		for _, x := range list(v) {
			sel = append(sel, str(x))
		}
	}
	from, to, next := page(len(found), p)
	out := make([]any, 0, to-from)
	for _, d := range found[from:to] {
		full := s.dealJSON(d)
		if len(sel) == 0 || contains(sel, "*") {
			out = append(out, full)
			continue
		}
		m := map[string]any{"ID": full["ID"]}
		for _, k := range sel {
			if v, ok := full[k]; ok {
				m[k] = v
			}
		}
		out = append(out, m)
	}
	return answer{result: out, next: next, total: len(found)}, nil
}

func (s *Server) dealMatches(d *Deal, f map[string]any) bool {
	for k, v := range f {
		want := str(v)
		switch strings.ToUpper(k) {
		case "%TITLE":
			if !strings.Contains(strings.ToLower(d.Title), strings.ToLower(want)) {
				return false
			}
		case "TITLE", "=TITLE":
			if d.Title != want {
				return false
			}
		case "ID", "=ID":
			if ids(d.ID) != want {
				return false
			}
		case "CATEGORY_ID", "=CATEGORY_ID":
			if ids(d.CategoryID) != want {
				return false
			}
		case "STAGE_ID", "=STAGE_ID":
			if d.StageID != want {
				return false
			}
		case "ASSIGNED_BY_ID", "=ASSIGNED_BY_ID":
			if ids(d.AssignedBy) != want {
				return false
			}
		}
	}
	return true
}

// --- timeline ---

// owner checks a comment's owner. Callers hold s.mu.
func (s *Server) ownerExists(typ string, id int64) bool {
	switch typ {
	case "deal":
		return s.deals[id] != nil
	case "contact":
		return s.contacts[id] != nil
	}
	return false
}

// commentAdd takes only the lowercase "fields" key, as the portal since
// crm 23.100.0.
func (s *Server) commentAdd(p params) (answer, *apiError) {
	f, e := fieldsParam(p, true)
	if e != nil {
		return answer{}, e
	}
	typ := strings.ToLower(member(f, "ENTITY_TYPE"))
	eid, _ := get(f, "ENTITY_ID")
	id := num(eid)
	if typ == "" || id == 0 {
		return answer{}, methodError("100", "Required fields: ENTITY_ID, ENTITY_TYPE.")
	}
	text := member(f, "COMMENT")
	if strings.TrimSpace(text) == "" {
		return answer{}, methodError("INVALID_ARG_VALUE", "Empty comment message.")
	}
	if !s.ownerExists(typ, id) {
		return answer{}, methodError("OWNER_NOT_FOUND", "Owner not found.")
	}
	c := &Comment{ID: s.id(), OwnerType: typ, OwnerID: id, Comment: text, AuthorID: s.userID, CreatedSec: time.Now().Unix()}
	s.comments = append(s.comments, c)
	return one(c.ID), nil
}

// commentList lists an owner's comments, newest first (the order the
// portal uses is not documented).
func (s *Server) commentList(p params) (answer, *apiError) {
	f := obj(p, "filter")
	if f == nil || member(f, "ENTITY_ID") == "" || member(f, "ENTITY_TYPE") == "" {
		return answer{}, methodError("", "ENTITY_ID and ENTITY_TYPE are required in the filter.")
	}
	typ, id := strings.ToLower(member(f, "ENTITY_TYPE")), num(mustGet(f, "ENTITY_ID"))
	found := s.commentsOf(typ, id)
	sort.Slice(found, func(i, j int) bool { return found[i].ID > found[j].ID })
	from, to, next := page(len(found), p)
	out := make([]any, 0, to-from)
	for _, c := range found[from:to] {
		out = append(out, map[string]any{
			"ID": ids(c.ID), "CREATED": time.Unix(c.CreatedSec, 0).UTC().Format(time.RFC3339), "ENTITY_ID": ids(c.OwnerID),
			"ENTITY_TYPE": c.OwnerType, "AUTHOR_ID": ids(c.AuthorID), "COMMENT": c.Comment,
		})
	}
	return answer{result: out, next: next, total: len(found)}, nil
}

func mustGet(m map[string]any, k string) any { v, _ := get(m, k); return v }

// commentsOf returns copies of an owner's comments. Callers hold s.mu.
func (s *Server) commentsOf(typ string, id int64) []Comment {
	var out []Comment
	for _, c := range s.comments {
		if c.OwnerType == typ && c.OwnerID == id {
			out = append(out, *c)
		}
	}
	return out
}
