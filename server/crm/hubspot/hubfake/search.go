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

type searchFilter struct {
	PropertyName string `json:"propertyName"`
	Operator     string `json:"operator"`
	Value        any    `json:"value"`
	Values       []any  `json:"values"`
	HighValue    any    `json:"highValue"`
}

type searchRequest struct {
	FilterGroups []struct {
		Filters []searchFilter `json:"filters"`
	} `json:"filterGroups"`
	Properties []string `json:"properties"`
	Sorts      []struct {
		PropertyName string `json:"propertyName"`
		Direction    string `json:"direction"`
	} `json:"sorts"`
	Limit *int   `json:"limit"`
	After string `json:"after"`
}

// search answers POST /crm/v3/objects/{type}/search: filter groups are
// alternatives (at most 5), the filters of a group must all match (at
// most 6 a group, 18 in all); limit ≤ 200 (10 by default); results sorted
// by the first sort (hs_object_id ascending by default), paged with an
// offset "after". Records not yet indexed (WithSearchLag) are not found.
//
// Operators: EQ and NEQ compare case-insensitively; IN and NOT_IN take
// "values"; CONTAINS_TOKEN and NOT_CONTAINS_TOKEN match when every token
// of the value (split on anything but letters and digits; "*" a
// wildcard) is a token of the property; HAS_PROPERTY and
// NOT_HAS_PROPERTY; LT, LTE, GT, GTE and BETWEEN compare numbers. How
// HubSpot tokenizes is not documented; this is the fake's choice.
// Source: developers.hubspot.com docs/api/crm/search.
func (s *Server) search(typ string, body []byte) (int, any, *apiError) {
	var req searchRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return 0, nil, validation("Invalid input JSON: " + err.Error())
	}
	limit := 10
	if req.Limit != nil {
		limit = *req.Limit
	}
	if limit < 1 || limit > 200 {
		return 0, nil, validation("limit must be between 1 and 200")
	}
	n := 0
	for _, g := range req.FilterGroups {
		if len(g.Filters) > 6 {
			return 0, nil, validation("There can be at most 6 filters in a filterGroup")
		}
		n += len(g.Filters)
	}
	if len(req.FilterGroups) > 5 || n > 18 {
		return 0, nil, validation("There can be at most 5 filterGroups and 18 filters in all")
	}
	offset := 0
	if req.After != "" {
		o, err := strconv.Atoi(req.After)
		if err != nil || o < 0 {
			return 0, nil, validation("after is not a valid paging cursor")
		}
		offset = o
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var hits []*record
	for _, rec := range s.records {
		if rec.Type != typ || rec.indexed.After(now) {
			continue
		}
		ok := len(req.FilterGroups) == 0
		for _, g := range req.FilterGroups {
			all := true
			for _, f := range g.Filters {
				m, e := matches(rec, f)
				if e != nil {
					return 0, nil, e
				}
				all = all && m
			}
			ok = ok || all
		}
		if ok {
			hits = append(hits, rec)
		}
	}
	key, desc := "hs_object_id", false
	if len(req.Sorts) > 0 {
		key, desc = req.Sorts[0].PropertyName, strings.EqualFold(req.Sorts[0].Direction, "DESCENDING")
	}
	sort.SliceStable(hits, func(i, j int) bool {
		a, b := hits[i].Props[key], hits[j].Props[key]
		if a == b {
			return idLess(hits[i].ID, hits[j].ID)
		}
		less := a < b
		if x, e1 := strconv.ParseFloat(a, 64); e1 == nil {
			if y, e2 := strconv.ParseFloat(b, 64); e2 == nil {
				less = x < y
			}
		}
		return less != desc
	})
	views := make([]map[string]any, len(hits))
	for i, h := range hits {
		views[i] = view(h, req.Properties)
	}
	out := paged(views, limit, offset)
	out["total"] = len(hits)
	return http.StatusOK, out, nil
}

func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// tokens splits s, lower-cased, on anything but letters, digits and "*".
func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127 || r == '*')
	})
}

func tokenMatch(pattern, tok string) bool {
	switch {
	case pattern == "*":
		return true
	case strings.HasPrefix(pattern, "*") && strings.HasSuffix(pattern, "*"):
		return strings.Contains(tok, strings.Trim(pattern, "*"))
	case strings.HasPrefix(pattern, "*"):
		return strings.HasSuffix(tok, pattern[1:])
	case strings.HasSuffix(pattern, "*"):
		return strings.HasPrefix(tok, pattern[:len(pattern)-1])
	}
	return pattern == tok
}

func containsTokens(have, want string) bool {
	ht := tokens(have)
	wt := tokens(want)
	if len(wt) == 0 {
		return false
	}
	for _, w := range wt {
		found := false
		for _, h := range ht {
			if tokenMatch(w, h) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func matches(rec *record, f searchFilter) (bool, *apiError) {
	v, has := rec.Props[f.PropertyName]
	has = has && v != ""
	want := text(f.Value)
	switch strings.ToUpper(f.Operator) {
	case "EQ":
		return has && strings.EqualFold(v, want), nil
	case "NEQ":
		return !strings.EqualFold(v, want), nil
	case "IN", "NOT_IN":
		in := false
		for _, x := range f.Values {
			in = in || (has && strings.EqualFold(v, text(x)))
		}
		return in == (strings.ToUpper(f.Operator) == "IN"), nil
	case "CONTAINS_TOKEN":
		return has && containsTokens(v, want), nil
	case "NOT_CONTAINS_TOKEN":
		return !has || !containsTokens(v, want), nil
	case "HAS_PROPERTY":
		return has, nil
	case "NOT_HAS_PROPERTY":
		return !has, nil
	case "LT", "LTE", "GT", "GTE", "BETWEEN":
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || !has {
			return false, nil
		}
		y, _ := strconv.ParseFloat(want, 64)
		switch strings.ToUpper(f.Operator) {
		case "LT":
			return x < y, nil
		case "LTE":
			return x <= y, nil
		case "GT":
			return x > y, nil
		case "GTE":
			return x >= y, nil
		}
		hi, _ := strconv.ParseFloat(text(f.HighValue), 64)
		return x >= y && x <= hi, nil
	}
	return false, validation(fmt.Sprintf("operator %q is not one of the allowed values", f.Operator))
}
