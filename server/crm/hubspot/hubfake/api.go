package hubfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// writable are the properties the API may set on each object type; any
// other is refused with VALIDATION_ERROR (PROPERTY_DOESNT_EXIST), as a
// property the account does not have is. The calculated ones
// (hs_object_id, createdate, …) are read-only.
var writable = map[string]map[string]bool{
	"contacts": set("firstname", "lastname", "email", "phone", "mobilephone", "company", "hubspot_owner_id", "lifecyclestage", "message"),
	"deals":    set("dealname", "pipeline", "dealstage", "hubspot_owner_id", "amount", "closedate", "description"),
	"notes":    set("hs_note_body", "hs_timestamp", "hubspot_owner_id", "hs_attachment_ids"),
}

func set(xs ...string) map[string]bool {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// assocTypes are the HUBSPOT_DEFINED association type ids the fake knows:
// id → from type, to type, and the inverse id. Source:
// developers.hubspot.com docs/api/crm/associations/association-details.
var assocTypes = map[int]struct {
	from, to string
	inverse  int
}{
	3:   {"deals", "contacts", 4},
	4:   {"contacts", "deals", 3},
	201: {"contacts", "notes", 202},
	202: {"notes", "contacts", 201},
	213: {"deals", "notes", 214},
	214: {"notes", "deals", 213},
}

// route serves an authorized, admitted request.
func (s *Server) route(r *http.Request, body []byte) (int, any, *apiError) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	s.mu.Lock()
	s.calls = append(s.calls, r.Method+" "+r.URL.Path)
	if len(s.calls) > 10000 {
		s.calls = s.calls[len(s.calls)-10000:]
	}
	s.mu.Unlock()
	m := r.Method
	switch {
	case m == "GET" && r.URL.Path == "/crm/v3/owners":
		return s.listOwners(r)
	case m == "GET" && r.URL.Path == "/account-info/v3/details":
		s.mu.Lock()
		defer s.mu.Unlock()
		return http.StatusOK, map[string]any{"portalId": s.portalID, "accountType": "STANDARD", "timeZone": "Europe/Berlin",
			"companyCurrency": "EUR", "additionalCurrencies": []string{}, "utcOffset": "+01:00",
			"utcOffsetMilliseconds": 3600000, "uiDomain": "app-eu1.hubspot.com", "dataHostingLocation": "eu1"}, nil
	case m == "GET" && r.URL.Path == "/crm/v3/pipelines/deals":
		return s.listPipelines()
	case len(parts) >= 4 && parts[0] == "crm" && parts[1] == "v3" && parts[2] == "objects":
		typ := parts[3]
		if writable[typ] == nil {
			return 0, nil, &apiError{status: http.StatusNotFound, message: "Unable to infer object type from: " + typ}
		}
		switch {
		case len(parts) == 4 && m == "POST":
			return s.create(typ, body)
		case len(parts) == 5 && parts[4] == "search" && m == "POST":
			return s.search(typ, body)
		case len(parts) == 6 && parts[4] == "batch" && parts[5] == "read" && m == "POST":
			return s.batchRead(typ, body)
		case len(parts) == 5 && m == "GET":
			return s.get(typ, parts[4], r)
		case len(parts) == 5 && m == "PATCH":
			return s.update(typ, parts[4], body)
		}
	case len(parts) == 7 && parts[0] == "crm" && parts[1] == "v4" && parts[2] == "objects" && parts[5] == "associations" && m == "GET":
		return s.associations(parts[3], parts[4], parts[6], r)
	}
	return 0, nil, &apiError{status: http.StatusNotFound, message: "No route for " + m + " " + r.URL.Path}
}

// page reads limit (default def, at most max) and after (an offset).
func page(r *http.Request, def, maxLimit int) (limit, offset int, e *apiError) {
	limit = def
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			return 0, 0, validation(fmt.Sprintf("limit must be between 1 and %d", maxLimit))
		}
		limit = n
	}
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, validation("after is not a valid paging cursor")
		}
		offset = n
	}
	return limit, offset, nil
}

// paged is {"results", "paging"?} of results[offset:offset+limit].
func paged[T any](all []T, limit, offset int) map[string]any {
	end := min(offset+limit, len(all))
	res := []T{}
	if offset < len(all) {
		res = all[offset:end]
	}
	out := map[string]any{"results": res}
	if end < len(all) {
		out["paging"] = map[string]any{"next": map[string]any{"after": strconv.Itoa(end)}}
	}
	return out
}

// listOwners answers GET /crm/v3/owners: active owners, or with
// archived=true only the archived ones; limit ≤ 500 (100 by default).
func (s *Server) listOwners(r *http.Request) (int, any, *apiError) {
	limit, offset, e := page(r, 100, 500)
	if e != nil {
		return 0, nil, e
	}
	archived := r.URL.Query().Get("archived") == "true"
	email := strings.ToLower(r.URL.Query().Get("email"))
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []map[string]any
	for _, o := range s.owners {
		if o.Archived != archived || (email != "" && strings.ToLower(o.Email) != email) {
			continue
		}
		all = append(all, map[string]any{
			"id": o.ID, "email": o.Email, "type": "PERSON", "firstName": o.FirstName, "lastName": o.LastName,
			"userId": o.UserID, "userIdIncludingInactive": o.UserID, "createdAt": "2025-01-15T10:00:00.000Z",
			"updatedAt": "2025-06-01T10:00:00.000Z", "archived": o.Archived,
		})
	}
	return http.StatusOK, paged(all, limit, offset), nil
}

// listPipelines answers GET /crm/v3/pipelines/deals: the pipelines that
// are not archived, with every stage.
func (s *Server) listPipelines() (int, any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	res := []map[string]any{}
	for _, p := range s.pipelines {
		if p.Archived {
			continue
		}
		stages := []map[string]any{}
		for _, st := range p.Stages {
			stages = append(stages, map[string]any{
				"id": st.ID, "label": st.Label, "displayOrder": st.DisplayOrder, "archived": st.Archived,
				"metadata":  map[string]string{"isClosed": strconv.FormatBool(st.Closed), "probability": st.Probability},
				"createdAt": "2025-01-15T10:00:00.000Z", "updatedAt": "2025-01-15T10:00:00.000Z",
			})
		}
		res = append(res, map[string]any{"id": p.ID, "label": p.Label, "displayOrder": p.DisplayOrder,
			"archived": false, "stages": stages, "createdAt": "2025-01-15T10:00:00.000Z", "updatedAt": "2025-01-15T10:00:00.000Z"})
	}
	return http.StatusOK, map[string]any{"results": res}, nil
}

// view is a record's JSON: {id, properties, createdAt, updatedAt,
// archived}, with the properties asked for (the type's defaults when
// none). Callers hold s.mu.
func view(rec *record, props []string) map[string]any {
	if len(props) == 0 {
		props = defaults[rec.Type]
	}
	p := map[string]any{}
	for _, k := range append([]string{"hs_object_id", "createdate", "lastmodifieddate"}, props...) {
		if v, ok := rec.Props[k]; ok {
			p[k] = v
		} else {
			p[k] = nil
		}
	}
	return map[string]any{"id": rec.ID, "properties": p, "createdAt": ts(rec.created), "updatedAt": ts(rec.updated), "archived": false}
}

var defaults = map[string][]string{
	"contacts": {"firstname", "lastname", "email"},
	"deals":    {"dealname", "pipeline", "dealstage", "amount", "closedate"},
	"notes":    {"hs_note_body", "hs_timestamp"},
}

func ts(t time.Time) string {
	if t.IsZero() {
		t = time.Date(2025, 1, 15, 10, 0, 0, 0, time.UTC)
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// checkProps validates properties to write on typ. Callers hold s.mu.
func (s *Server) checkProps(typ string, props map[string]string, current *record) *apiError {
	for k := range props {
		if !writable[typ][k] {
			return validation(fmt.Sprintf("Property values were not valid: [{\"isValid\":false,\"message\":\"Property \\\"%s\\\" does not exist\",\"error\":\"PROPERTY_DOESNT_EXIST\",\"name\":\"%s\"}]", k, k))
		}
	}
	if o, ok := props["hubspot_owner_id"]; ok && o != "" && !s.ownerExists(o) {
		return validation(fmt.Sprintf("Property values were not valid: %q was not one of the allowed options for hubspot_owner_id", o))
	}
	if typ == "deals" {
		pipeline, stage := props["pipeline"], props["dealstage"]
		if current != nil {
			if pipeline == "" {
				pipeline = current.Props["pipeline"]
			}
			if stage == "" {
				stage = current.Props["dealstage"]
			}
		}
		if pipeline == "" {
			pipeline = "default"
		}
		if stage != "" && !s.stageIn(pipeline, stage) {
			return validation(fmt.Sprintf("Property values were not valid: %q is not a valid stage of pipeline %q", stage, pipeline))
		}
	}
	return nil
}

func (s *Server) ownerExists(id string) bool {
	for _, o := range s.owners {
		if o.ID == id {
			return true
		}
	}
	return false
}

func (s *Server) stageIn(pipeline, stage string) bool {
	for _, p := range s.pipelines {
		if p.ID != pipeline {
			continue
		}
		for _, st := range p.Stages {
			if st.ID == stage {
				return true
			}
		}
	}
	return false
}

type assocJSON struct {
	To struct {
		ID json.RawMessage `json:"id"`
	} `json:"to"`
	Types []struct {
		Category string `json:"associationCategory"`
		TypeID   int    `json:"associationTypeId"`
	} `json:"types"`
}

// create answers POST /crm/v3/objects/{type} {properties, associations}
// with 201 and the record. A deal needs dealname and dealstage (pipeline
// defaults to "default"); a note needs hs_timestamp. Every association
// must name a known type from typ and an existing record, else nothing is
// written (400).
func (s *Server) create(typ string, body []byte) (int, any, *apiError) {
	var req struct {
		Properties   map[string]any `json:"properties"`
		Associations []assocJSON    `json:"associations"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return 0, nil, validation("Invalid input JSON: " + err.Error())
	}
	props := strProps(req.Properties)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.checkProps(typ, props, nil); e != nil {
		return 0, nil, e
	}
	switch typ {
	case "deals":
		if props["dealname"] == "" || props["dealstage"] == "" {
			return 0, nil, validation("Property values were not valid: dealname and dealstage are required")
		}
		if props["pipeline"] == "" {
			props["pipeline"] = "default"
		}
	case "notes":
		if props["hs_timestamp"] == "" {
			return 0, nil, validation("Property values were not valid: hs_timestamp is required")
		}
	}
	var links []Link
	for _, a := range req.Associations {
		to := strings.Trim(string(a.To.ID), `" `)
		if len(a.Types) == 0 {
			return 0, nil, validation("association without types")
		}
		for _, t := range a.Types {
			at, ok := assocTypes[t.TypeID]
			if !ok || t.Category != "HUBSPOT_DEFINED" || at.from != typ {
				return 0, nil, validation(fmt.Sprintf("association type %d (%s) is not valid from %s", t.TypeID, t.Category, typ))
			}
			if s.records[at.to+"/"+to] == nil {
				return 0, nil, validation(fmt.Sprintf("One or more associations are invalid: no %s with id %s", at.to, to))
			}
			links = append(links, Link{FromType: typ, ToType: at.to, ToID: to, TypeID: t.TypeID})
		}
	}
	now := time.Now()
	rec := s.put(typ, s.newID(), props, now)
	for _, l := range links {
		l.FromID = rec.ID
		s.links = append(s.links, l)
	}
	return http.StatusCreated, view(rec, keys(props)), nil
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// strProps reads property values as strings (numbers and booleans as
// their text; null as "").
func strProps(in map[string]any) map[string]string {
	out := map[string]string{}
	for k, v := range in {
		switch x := v.(type) {
		case nil:
			out[k] = ""
		case string:
			out[k] = x
		case float64:
			out[k] = strconv.FormatFloat(x, 'f', -1, 64)
		default:
			out[k] = fmt.Sprint(x)
		}
	}
	return out
}

// get answers GET /crm/v3/objects/{type}/{id}?properties=a,b.
func (s *Server) get(typ, id string, r *http.Request) (int, any, *apiError) {
	var props []string
	for _, p := range r.URL.Query()["properties"] {
		for _, x := range strings.Split(p, ",") {
			if x = strings.TrimSpace(x); x != "" {
				props = append(props, x)
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.records[typ+"/"+id]
	if rec == nil {
		return 0, nil, notFound(typ, id)
	}
	return http.StatusOK, view(rec, props), nil
}

// update answers PATCH /crm/v3/objects/{type}/{id} {properties}.
func (s *Server) update(typ, id string, body []byte) (int, any, *apiError) {
	var req struct {
		Properties map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return 0, nil, validation("Invalid input JSON: " + err.Error())
	}
	props := strProps(req.Properties)
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.records[typ+"/"+id]
	if rec == nil {
		return 0, nil, notFound(typ, id)
	}
	if e := s.checkProps(typ, props, rec); e != nil {
		return 0, nil, e
	}
	for k, v := range props {
		rec.Props[k] = v
	}
	rec.updated = time.Now()
	s.calculate(rec)
	return http.StatusOK, view(rec, keys(props)), nil
}

// batchRead answers POST /crm/v3/objects/{type}/batch/read {properties,
// inputs:[{id}]} (at most 100): 200 {status:"COMPLETE", results}, or 207
// with "errors" naming the missing ids.
func (s *Server) batchRead(typ string, body []byte) (int, any, *apiError) {
	var req struct {
		Properties []string `json:"properties"`
		Inputs     []struct {
			ID json.RawMessage `json:"id"`
		} `json:"inputs"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return 0, nil, validation("Invalid input JSON: " + err.Error())
	}
	if len(req.Inputs) > 100 {
		return 0, nil, validation("Batch input is limited to 100 inputs")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	res := []map[string]any{}
	var missing []string
	for _, in := range req.Inputs {
		id := strings.Trim(string(in.ID), `" `)
		rec := s.records[typ+"/"+id]
		if rec == nil {
			missing = append(missing, id)
			continue
		}
		res = append(res, view(rec, req.Properties))
	}
	now := ts(time.Now())
	out := map[string]any{"status": "COMPLETE", "results": res, "startedAt": now, "completedAt": now}
	if len(missing) > 0 {
		out["numErrors"] = 1
		out["errors"] = []map[string]any{{"status": "error", "category": "OBJECT_NOT_FOUND",
			"message": "Could not get some " + typ + " objects, they may be deleted or not exist.",
			"context": map[string]any{"ids": missing}}}
		return http.StatusMultiStatus, out, nil
	}
	return http.StatusOK, out, nil
}

// linked returns the ids of toType records associated with typ/id, in
// either direction, with the type ids seen from typ. Callers hold s.mu.
func (s *Server) linked(typ, id, toType string) ([]string, map[string][]int) {
	types := map[string][]int{}
	var ids []string
	add := func(to string, t int) {
		if _, ok := types[to]; !ok {
			ids = append(ids, to)
		}
		types[to] = append(types[to], t)
	}
	for _, l := range s.links {
		switch {
		case l.FromType == typ && l.FromID == id && l.ToType == toType:
			add(l.ToID, l.TypeID)
		case l.ToType == typ && l.ToID == id && l.FromType == toType:
			add(l.FromID, assocTypes[l.TypeID].inverse)
		}
	}
	sort.SliceStable(ids, func(i, j int) bool { return idLess(ids[i], ids[j]) })
	return ids, types
}

func idLess(a, b string) bool {
	x, e1 := strconv.ParseInt(a, 10, 64)
	y, e2 := strconv.ParseInt(b, 10, 64)
	if e1 == nil && e2 == nil {
		return x < y
	}
	return a < b
}

// associations answers GET /crm/v4/objects/{type}/{id}/associations/
// {toType}: {results:[{toObjectId (a number), associationTypes:[{category,
// typeId, label}]}], paging}; limit ≤ 500.
func (s *Server) associations(typ, id, toType string, r *http.Request) (int, any, *apiError) {
	limit, offset, e := page(r, 500, 500)
	if e != nil {
		return 0, nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.records[typ+"/"+id] == nil {
		return 0, nil, notFound(typ, id)
	}
	ids, types := s.linked(typ, id, toType)
	all := make([]map[string]any, 0, len(ids))
	for _, to := range ids {
		n, _ := strconv.ParseInt(to, 10, 64)
		var ts []map[string]any
		for _, t := range types[to] {
			ts = append(ts, map[string]any{"category": "HUBSPOT_DEFINED", "typeId": t, "label": nil})
		}
		all = append(all, map[string]any{"toObjectId": n, "associationTypes": ts})
	}
	return http.StatusOK, paged(all, limit, offset), nil
}
