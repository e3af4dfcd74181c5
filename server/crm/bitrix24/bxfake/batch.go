package bxfake

import (
	"bytes"
	"encoding/json"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// maxBatch is how many commands one batch takes.
const maxBatch = 50

// batchMethods returns the methods a batch's commands call (nil for
// another method), for fault matching.
func batchMethods(method string, p params) []string {
	if method != "batch" {
		return nil
	}
	var out []string
	for _, v := range obj(p, "cmd") {
		m, _, _ := strings.Cut(str(v), "?")
		out = append(out, strings.ToLower(m))
	}
	return out
}

// cmdOrder reads the order of cmd's keys from a JSON body (Go's maps
// forget it); the portal runs commands in the order sent.
func cmdOrder(raw []byte) []string {
	d := json.NewDecoder(bytes.NewReader(raw))
	depth := 0
	inCmd := false
	expectKey := false
	var keys []string
	for {
		t, err := d.Token()
		if err != nil {
			return keys
		}
		switch x := t.(type) {
		case json.Delim:
			switch x {
			case '{':
				depth++
				expectKey = true
			case '[':
				depth++
				expectKey = false
			case '}', ']':
				depth--
				if inCmd && depth == 1 {
					inCmd = false
				}
				expectKey = depth >= 1
			}
		case string:
			if depth == 1 && expectKey && x == "cmd" {
				inCmd = true
				expectKey = false
				continue
			}
			if inCmd && depth == 2 && expectKey {
				keys = append(keys, x)
				expectKey = false
				continue
			}
			expectKey = depth >= 1
		default:
			expectKey = depth >= 1
		}
	}
}

// ref matches "$result[key]" and "$result[key][FIELD]…".
var ref = regexp.MustCompile(`\$result\[([A-Za-z0-9_]+)\]((?:\[[^\]]*\])*)`)

// resolve replaces the references in every string of v with results.
func resolve(v any, results map[string]any) any {
	switch x := v.(type) {
	case string:
		return ref.ReplaceAllStringFunc(x, func(m string) string {
			sub := ref.FindStringSubmatch(m)
			cur, ok := results[sub[1]]
			if !ok {
				return ""
			}
			path, _ := splitKey("x" + sub[2])
			for _, k := range path[1:] {
				switch c := cur.(type) {
				case map[string]any:
					cur = c[k]
				case []any:
					i := int(num(k))
					if i >= len(c) {
						return ""
					}
					cur = c[i]
				default:
					return ""
				}
			}
			return str(normalize(cur))
		})
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = resolve(e, results)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = resolve(e, results)
		}
		return out
	}
	return v
}

// normalize turns a result into the JSON-like values references walk.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var out any
	_ = d.Decode(&out)
	return out
}

// emptyAsArray renders an empty map as [] (PHP's empty array).
func emptyAsArray(m map[string]any) any {
	if len(m) == 0 {
		return []any{}
	}
	return m
}

// batch runs cmd's commands in order, each "method?query", resolving
// references to earlier results; with halt it stops at the first error.
// Callers do not hold s.mu.
func (s *Server) batch(p params, order []string) (answer, *apiError) {
	cmd := obj(p, "cmd")
	if len(cmd) == 0 {
		return answer{}, methodError("", "Parameter 'cmd' must be an array of commands.")
	}
	if len(cmd) > maxBatch {
		return answer{}, methodError("", "Max batch length exceeded")
	}
	halt := truthy(mustGet(p, "halt"))
	seen := map[string]bool{}
	var keys []string
	for _, k := range order {
		if _, ok := cmd[k]; ok && !seen[k] {
			keys, seen[k] = append(keys, k), true
		}
	}
	var rest []string
	for k := range cmd {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	keys = append(keys, rest...)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.record("batch")
	results, errs, totals, nexts := map[string]any{}, map[string]any{}, map[string]any{}, map[string]any{}
	normalized := map[string]any{}
	for _, k := range keys {
		method, query, _ := strings.Cut(str(cmd[k]), "?")
		method = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(method), ".json"))
		s.record("batch:" + method)
		var a answer
		var e *apiError
		q, err := url.ParseQuery(query)
		var cp params
		if err == nil {
			cp, err = parseQuery(q)
		}
		switch {
		case err != nil:
			e = methodError("", "Could not read the command: "+err.Error())
		case method == "batch":
			e = methodError("", "Batch calls can not be nested.")
		default:
			a, e = s.callLocked(method, resolve(map[string]any(cp), normalized).(map[string]any))
		}
		if e != nil {
			errs[k] = map[string]any{"error": e.code, "error_description": e.descr}
			if halt {
				break
			}
			continue
		}
		results[k] = a.result
		normalized[k] = normalize(a.result)
		if a.total >= 0 {
			totals[k] = a.total
		}
		if a.next > 0 {
			nexts[k] = a.next
		}
	}
	return one(map[string]any{
		"result": emptyAsArray(results), "result_error": emptyAsArray(errs),
		"result_total": emptyAsArray(totals), "result_next": emptyAsArray(nexts), "result_time": []any{},
	}), nil
}
