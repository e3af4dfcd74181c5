package bxfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// params are a method's parameters as the portal reads them, from a JSON
// body, a form body or a query string alike: nested map[string]any,
// []any, string, json.Number and bool.
type params map[string]any

// parseJSON reads a JSON object body.
func parseJSON(b []byte) (params, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return params{}, nil
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// parseQuery reads PHP-style keys ("fields[PHONE][0][VALUE]") into nested
// maps; numeric keys stay map keys (see list).
func parseQuery(q url.Values) (params, error) {
	out := params{}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		path, err := splitKey(k)
		if err != nil {
			return nil, err
		}
		for _, v := range q[k] {
			if err := setPath(out, path, v); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func splitKey(k string) ([]string, error) {
	i := strings.IndexByte(k, '[')
	if i < 0 {
		return []string{k}, nil
	}
	path := []string{k[:i]}
	rest := k[i:]
	for rest != "" {
		if rest[0] != '[' {
			return nil, fmt.Errorf("bad key %q", k)
		}
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			return nil, fmt.Errorf("bad key %q", k)
		}
		path = append(path, rest[1:j])
		rest = rest[j+1:]
	}
	return path, nil
}

func setPath(m map[string]any, path []string, v string) error {
	for i, p := range path {
		if p == "" { // "a[]": append
			p = strconv.Itoa(len(m))
		}
		if i == len(path)-1 {
			m[p] = v
			return nil
		}
		next, ok := m[p].(map[string]any)
		if !ok {
			if _, set := m[p]; set {
				return errors.New("conflicting keys")
			}
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	return nil
}

// get returns m's member name, matched exactly, else case-insensitively.
func get(m map[string]any, name string) (any, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// obj returns member name as an object (nil when absent or not one).
func obj(m map[string]any, name string) map[string]any {
	v, _ := get(m, name)
	o, _ := v.(map[string]any)
	return o
}

// str renders a scalar as the portal would read it; "" for others.
func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		if x {
			return "Y"
		}
		return "N"
	}
	return ""
}

// member returns member name as a string.
func member(m map[string]any, name string) string {
	v, _ := get(m, name)
	return str(v)
}

// num reads a positive id; 0 when v is none.
func num(v any) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(str(v)), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// list returns v's items: a JSON array, or a map with numeric keys in
// order (PHP's arrays from a query string), or a single scalar.
func list(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	case map[string]any:
		type kv struct {
			k int
			v any
		}
		var items []kv
		for k, e := range x {
			n, err := strconv.Atoi(k)
			if err != nil {
				return []any{x}
			}
			items = append(items, kv{n, e})
		}
		sort.Slice(items, func(i, j int) bool { return items[i].k < items[j].k })
		out := make([]any, len(items))
		for i, it := range items {
			out[i] = it.v
		}
		return out
	}
	return []any{v}
}

// start reads the page offset.
func start(p params) int {
	n, _ := strconv.Atoi(member(p, "start"))
	return max(n, 0)
}
