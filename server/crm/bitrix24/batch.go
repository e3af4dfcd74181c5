package bitrix24

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/server/crm/crmhttp"
)

// Command is one command of a batch: Key names it in the answer and in
// the references of later commands ("$result[Key]", "$result[Key][ID]"),
// Method is the REST method and Params its parameters (maps, slices,
// strings, numbers and booleans; a string may be a reference).
type Command struct {
	Key    string
	Method string
	Params map[string]any
}

// Batch is a batch's answer: each command's result, or its error, by key.
// A command after a failed one of a halting batch has neither.
type Batch struct {
	Results map[string]json.RawMessage
	Errors  map[string]*Error
	Next    map[string]int
	Total   map[string]int
}

// Err returns the error of the first command (in cmds' order) that
// failed, nil when none did.
func (b Batch) Err(cmds []Command) error {
	for _, c := range cmds {
		if e := b.Errors[c.Key]; e != nil {
			return e
		}
	}
	return nil
}

var batchKey = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,31}$`)

// Batch runs up to MaxBatch commands in one request, which the portal's
// bucket counts as one: POST batch {"halt": 0|1, "cmd": {key: "method?
// query"}}. With halt the portal stops at the first failing command. The
// answer is {"result": {"result": {key: …}, "result_error": {key:
// {error, error_description}}, "result_total": …, "result_next": …}};
// a member with nothing in it comes as an empty array. A batch may not
// hold another batch. Source: apidocs.bitrix24.com
// settings/how-to-call-rest-api/batch.html.
func (c *Client) Batch(ctx context.Context, halt bool, cmds []Command) (Batch, error) {
	if len(cmds) == 0 || len(cmds) > MaxBatch {
		return Batch{}, &Error{Method: "batch", Err: fmt.Errorf("%d commands; 1 to %d per batch", len(cmds), MaxBatch), local: true}
	}
	var cmd orderedCmd
	seen := map[string]bool{}
	for _, x := range cmds {
		if !batchKey.MatchString(x.Key) || seen[x.Key] || x.Method == "" || x.Method == "batch" {
			return Batch{}, &Error{Method: "batch", Err: fmt.Errorf("command %q (%s) is not allowed", x.Key, x.Method), local: true}
		}
		seen[x.Key] = true
		cmd.keys = append(cmd.keys, x.Key)
		cmd.vals = append(cmd.vals, x.Method+"?"+phpQuery(x.Params))
	}
	h := 0
	if halt {
		h = 1
	}
	a, err := c.Call(ctx, "batch", map[string]any{"halt": h, "cmd": cmd})
	if err != nil {
		return Batch{}, err
	}
	var inner struct {
		Result      json.RawMessage `json:"result"`
		ResultError json.RawMessage `json:"result_error"`
		ResultTotal json.RawMessage `json:"result_total"`
		ResultNext  json.RawMessage `json:"result_next"`
	}
	bad := func(err error) (Batch, error) {
		return Batch{}, &Error{Method: "batch", Status: http.StatusOK, Err: err}
	}
	if err := json.Unmarshal(a.Result, &inner); err != nil {
		return bad(fmt.Errorf("decode result: %w", err))
	}
	out := Batch{Errors: map[string]*Error{}}
	if out.Results, err = decodeMap[json.RawMessage](inner.Result); err != nil {
		return bad(err)
	}
	errs, err := decodeMap[errorBody](inner.ResultError)
	if err != nil {
		return bad(err)
	}
	method := map[string]string{}
	for _, x := range cmds {
		method[x.Key] = x.Method
	}
	for k, e := range errs {
		be := &Error{Method: method[k], Command: k, Code: string(e.Error), Description: e.ErrorDescription}
		be.RetryAfter = retryAfter(be.Code, "", e.Time, time.Now())
		out.Errors[k] = be
	}
	nums := func(raw json.RawMessage) (map[string]int, error) {
		m, err := decodeMap[crmhttp.Int](raw)
		out := make(map[string]int, len(m))
		for k, v := range m {
			out[k] = int(v)
		}
		return out, err
	}
	if out.Total, err = nums(inner.ResultTotal); err != nil {
		return bad(err)
	}
	if out.Next, err = nums(inner.ResultNext); err != nil {
		return bad(err)
	}
	return out, nil
}

// orderedCmd is the "cmd" object with its commands in the order given:
// the portal runs them in the order sent, and a reference needs the
// command it names to have run.
type orderedCmd struct{ keys, vals []string }

func (o orderedCmd) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(o.vals[i])
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// phpQuery encodes params as the query string of a batch command, in
// PHP's bracketed form: {"fields": {"PHONE": [{"VALUE": "+1"}]}} becomes
// fields[PHONE][0][VALUE]=%2B1. Keys are sorted; nil values are left out;
// booleans are "Y" and "N".
func phpQuery(params map[string]any) string {
	var pairs []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case nil:
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(prefix+"["+k+"]", x[k])
			}
		case map[string]string:
			m := make(map[string]any, len(x))
			for k, s := range x {
				m[k] = s
			}
			walk(prefix, m)
		case []any:
			for i, e := range x {
				walk(prefix+"["+strconv.Itoa(i)+"]", e)
			}
		case []string:
			for i, e := range x {
				walk(prefix+"["+strconv.Itoa(i)+"]", e)
			}
		case []map[string]any:
			for i, e := range x {
				walk(prefix+"["+strconv.Itoa(i)+"]", e)
			}
		case bool:
			s := "N"
			if x {
				s = "Y"
			}
			pairs = append(pairs, escKey(prefix)+"="+url.QueryEscape(s))
		default:
			pairs = append(pairs, escKey(prefix)+"="+url.QueryEscape(fmt.Sprint(x)))
		}
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		walk(k, params[k])
	}
	return strings.Join(pairs, "&")
}

// escKey escapes a bracketed key but keeps its brackets readable.
func escKey(k string) string {
	return strings.NewReplacer("%5B", "[", "%5D", "]").Replace(url.QueryEscape(k))
}
