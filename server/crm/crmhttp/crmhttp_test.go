package crmhttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"7", 7 * time.Second},
		{" 120 ", 2 * time.Minute},
		{"-3", 0},
		{"1.5", 0},
		{"soon", 0},
		{"Mon, 30 Nov 2026 08:00:30 GMT", 30 * time.Second},
		{"Monday, 30-Nov-26 08:01:00 GMT", time.Minute},
		{"Mon Nov 30 08:00:10 2026", 10 * time.Second},
		{"Mon, 30 Nov 2026 07:59:00 GMT", 0},
		{"Mon, 30 Nov 2026 08:00:00 GMT", 0},
	}
	for _, tt := range tests {
		if got := ParseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestExcerpt(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"", 200, ""},
		{"short", 200, "short"},
		{"<html>\n<body>Too many\nrequests</body></html>", 200, "<html> <body>Too many requests</body></html>"},
		{"  \t lead and trail \n ", 200, "lead and trail"},
		{"abcdef", 3, "abc…"},
		{"abc", 3, "abc"},
		{strings.Repeat("я", 500), 200, strings.Repeat("я", 100) + "…"},
		{strings.Repeat("я", 10), 5, "яя…"}, // never half a rune
	}
	for _, tt := range tests {
		if got := Excerpt([]byte(tt.in), tt.n); got != tt.want {
			t.Errorf("Excerpt(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestInt(t *testing.T) {
	tests := []struct {
		in   string
		want Int
	}{
		{`113`, 113},
		{`"113"`, 113},
		{`" 42 "`, 0},
		{`-7`, -7},
		{`12.9`, 12},
		{`"3.5"`, 3},
		{`9007199254740993`, 9007199254740993},
		{`null`, 0},
		{`""`, 0},
		{`"abc"`, 0},
		{`true`, 0},
		{`{}`, 0},
	}
	for _, tt := range tests {
		var v struct {
			N Int `json:"n"`
		}
		if err := json.Unmarshal([]byte(`{"n":`+tt.in+`}`), &v); err != nil {
			t.Errorf("%s: %v", tt.in, err)
		} else if v.N != tt.want {
			t.Errorf("%s = %d, want %d", tt.in, v.N, tt.want)
		}
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		in   string
		want String
	}{
		{`"text"`, "text"},
		{`""`, ""},
		{`42`, "42"},
		{`4.5`, "4.5"},
		{`true`, "true"},
		{`false`, "false"},
		{`null`, ""},
		{`"null"`, "null"},
	}
	for _, tt := range tests {
		var v struct {
			S String `json:"s"`
		}
		if err := json.Unmarshal([]byte(`{"s":`+tt.in+`}`), &v); err != nil {
			t.Errorf("%s: %v", tt.in, err)
		} else if v.S != tt.want {
			t.Errorf("%s = %q, want %q", tt.in, v.S, tt.want)
		}
	}
}

func TestTransportCause(t *testing.T) {
	cause := errors.New("connection reset by peer")
	wrapped := &url.Error{Op: "Post", URL: "https://example.bitrix24.ru/rest/1/secret/profile.json?phone=79161234567", Err: cause}
	tests := []struct {
		name string
		in   error
		want error
	}{
		{"url error", wrapped, cause},
		{"wrapped url error", fmt.Errorf("send: %w", wrapped), cause},
		{"other", io.ErrUnexpectedEOF, io.ErrUnexpectedEOF},
		{"nil", nil, nil},
	}
	for _, tt := range tests {
		got := TransportCause(tt.in)
		if got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
		if got != nil && strings.Contains(got.Error(), "secret") {
			t.Errorf("%s: the URL is still in %q", tt.name, got)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

var _ net.Error = timeoutErr{}

func TestClassify(t *testing.T) {
	tests := []struct {
		name                            string
		status                          int
		err                             error
		local                           bool
		retryStatus, retryable, refused bool
		ambiguous                       bool
	}{
		{"200", 200, nil, false, false, false, false, false},
		{"2xx cut short", 200, io.ErrUnexpectedEOF, false, false, true, false, true},
		{"400", 400, nil, false, false, false, true, false},
		{"404", 404, nil, false, false, false, true, false},
		{"408", 408, nil, false, true, true, true, false},
		{"429", 429, nil, false, true, true, true, false},
		{"500", 500, nil, false, true, true, false, true},
		{"503", 503, nil, false, true, true, false, true},
		{"timeout", 0, timeoutErr{}, false, false, true, false, true},
		{"reset", 0, io.ErrUnexpectedEOF, false, false, true, false, true},
		{"deadline in flight", 0, context.DeadlineExceeded, false, false, true, false, true},
		{"cancelled in flight", 0, context.Canceled, false, false, false, false, true},
		{"wrapped cancel", 0, fmt.Errorf("x: %w", context.Canceled), false, false, false, false, true},
		{"encode", 0, errors.New("encode request: bad"), true, false, false, true, false},
		{"limiter deadline", 0, context.DeadlineExceeded, true, false, true, false, false},
		{"limiter cancel", 0, context.Canceled, true, false, false, false, false},
		{"local without cause", 0, nil, true, false, false, false, false},
	}
	for _, tt := range tests {
		if got := RetryableStatus(tt.status); got != tt.retryStatus {
			t.Errorf("%s: RetryableStatus %v", tt.name, got)
		}
		if got := Retryable(tt.status, tt.err, tt.local); got != tt.retryable {
			t.Errorf("%s: Retryable %v", tt.name, got)
		}
		if got := Refused(tt.status, tt.err, tt.local); got != tt.refused {
			t.Errorf("%s: Refused %v", tt.name, got)
		}
		if got := Ambiguous(tt.status, tt.err, tt.local); got != tt.ambiguous {
			t.Errorf("%s: Ambiguous %v", tt.name, got)
		}
	}
}

// testError is a connector's *Error in small.
type testError struct {
	retryable, permanent, unauthorized, ambiguous bool
	wait                                          time.Duration
}

func (e *testError) Error() string                 { return "test" }
func (e *testError) Retryable() bool               { return e.retryable }
func (e *testError) Permanent() bool               { return e.permanent }
func (e *testError) Unauthorized() bool            { return e.unauthorized }
func (e *testError) Ambiguous() bool               { return e.ambiguous }
func (e *testError) RetryAfterHint() time.Duration { return e.wait }

func TestWrappers(t *testing.T) {
	all := &testError{true, true, true, true, 3 * time.Second}
	none := &testError{}
	tests := []struct {
		name string
		err  error
		want bool
		wait time.Duration
	}{
		{"all", all, true, 3 * time.Second},
		{"wrapped", fmt.Errorf("seam: %w", all), true, 3 * time.Second},
		{"joined", errors.Join(io.EOF, all), true, 3 * time.Second},
		{"none", none, false, 0},
		{"foreign", io.EOF, false, 0},
		{"nil", nil, false, 0},
	}
	for _, tt := range tests {
		got := []bool{IsRetryable[*testError](tt.err), IsPermanent[*testError](tt.err),
			IsUnauthorized[*testError](tt.err), IsAmbiguous[*testError](tt.err)}
		for i, g := range got {
			if g != tt.want {
				t.Errorf("%s: predicate %d = %v, want %v", tt.name, i, g, tt.want)
			}
		}
		if w := RetryAfter[*testError](tt.err); w != tt.wait {
			t.Errorf("%s: RetryAfter %v, want %v", tt.name, w, tt.wait)
		}
		if e, ok := As[*testError](tt.err); ok != (tt.name != "foreign" && tt.name != "nil") || ok && e == nil {
			t.Errorf("%s: As = %v, %v", tt.name, e, ok)
		}
	}
}

func TestMarshalBody(t *testing.T) {
	if b, err := MarshalBody(nil); b != nil || err != nil {
		t.Errorf("nil: %q %v", b, err)
	}
	if b, err := MarshalBody(map[string]int{"a": 1}); string(b) != `{"a":1}` || err != nil {
		t.Errorf("map: %q %v", b, err)
	}
	if _, err := MarshalBody(map[string]any{"c": make(chan int)}); err == nil || !strings.HasPrefix(err.Error(), "encode request: ") {
		t.Errorf("channel: %v", err)
	}
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name, raw string
		out       bool
		want      string
		err       bool
	}{
		{"object", `{"a":"x"}`, true, "x", false},
		{"empty", "", true, "kept", false},
		{"blank", " \n", true, "kept", false},
		{"no out", `not json`, false, "kept", false},
		{"bad", `{"a":`, true, "kept", true},
	}
	for _, tt := range tests {
		v := struct{ A string }{A: "kept"}
		var out any
		if tt.out {
			out = &v
		}
		err := DecodeJSON([]byte(tt.raw), out)
		if (err != nil) != tt.err || v.A != tt.want {
			t.Errorf("%s: %q, %v", tt.name, v.A, err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "decode response: ") {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

type countLimiter struct {
	n   *int
	err error
}

func (l countLimiter) Wait(context.Context) error { *l.n++; return l.err }

func TestWait(t *testing.T) {
	var a, b int
	stop := errors.New("stop")
	if err := Wait(context.Background(), countLimiter{&a, nil}, nil, countLimiter{&b, nil}); err != nil || a != 1 || b != 1 {
		t.Errorf("both: %v %d %d", err, a, b)
	}
	if err := Wait(context.Background(), countLimiter{&a, stop}, countLimiter{&b, nil}); err != stop || a != 2 || b != 1 {
		t.Errorf("first fails: %v %d %d", err, a, b)
	}
	if err := Wait(context.Background()); err != nil {
		t.Errorf("none: %v", err)
	}
}

func TestNewRequestAndExchange(t *testing.T) {
	var got http.Header
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		if r.URL.Path == "/drop" {
			hj, _ := w.(http.Hijacker)
			c, _, _ := hj.Hijack()
			_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"))
			c.Close()
			return
		}
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte("0123456789"))
	}))
	defer srv.Close()
	ctx := context.Background()

	req, err := NewRequest(ctx, http.MethodPost, srv.URL+"/x", []byte(`{"a":1}`), "application/json", "Switchboard")
	if err != nil {
		t.Fatal(err)
	}
	resp, raw, err := Exchange(srv.Client(), req, 4)
	if err != nil || resp.StatusCode != http.StatusTeapot || string(raw) != "0123" {
		t.Fatalf("capped read: %v %q %v", resp, raw, err)
	}
	if got.Get("Content-Type") != "application/json" || got.Get("Accept") != "application/json" || got.Get("User-Agent") != "Switchboard" || body != `{"a":1}` {
		t.Errorf("headers %v body %q", got, body)
	}

	req, _ = NewRequest(ctx, http.MethodGet, srv.URL+"/x", nil, "application/hal+json", "UA")
	if _, _, err := Exchange(srv.Client(), req, 1<<20); err != nil {
		t.Fatal(err)
	}
	if got.Get("Content-Type") != "" || got.Get("Accept") != "application/hal+json" || got.Get("User-Agent") != "UA" || body != "" {
		t.Errorf("no body: headers %v body %q", got, body)
	}

	req, _ = NewRequest(ctx, http.MethodGet, srv.URL+"/drop", nil, "application/json", "UA")
	resp, raw, err = Exchange(srv.Client(), req, 1<<20)
	if resp == nil || resp.StatusCode != 200 || string(raw) != "short" || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("cut short: %v %q %v", resp, raw, err)
	}

	if _, err := NewRequest(ctx, "BAD METHOD", srv.URL, nil, "", ""); err == nil {
		t.Error("a bad method built a request")
	}

	dead := srv.URL
	srv.Close()
	req, _ = NewRequest(ctx, http.MethodGet, dead+"/secret?phone=79161234567", nil, "application/json", "UA")
	resp, raw, err = Exchange(http.DefaultClient, req, 1<<20)
	if resp != nil || raw != nil || err == nil || strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "7916") {
		t.Errorf("no answer: %v %q %v", resp, raw, err)
	}
}
