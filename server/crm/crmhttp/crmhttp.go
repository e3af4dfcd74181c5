package crmhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ParseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date
// (RFC 9110 §10.2.3). Unreadable or past values give 0.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now).Round(time.Second)
	}
	return 0
}

// Excerpt returns the start of b, at most n bytes, as one line of valid
// UTF-8, with "…" when cut.
func Excerpt(b []byte, n int) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > n {
		s = s[:n]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return s
}

// Int decodes a JSON number, or a string holding one ("42"); a fraction
// is cut to its integer part, and anything else decodes as 0 rather than
// failing the whole answer.
type Int int64

// UnmarshalJSON never fails.
func (f *Int) UnmarshalJSON(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"`)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*f = Int(n)
	} else if x, err := strconv.ParseFloat(s, 64); err == nil {
		*f = Int(int64(x))
	}
	return nil
}

// String decodes a JSON string, number or boolean as its text; null is "".
type String string

// UnmarshalJSON never fails.
func (f *String) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*f = String(s)
		return nil
	}
	t := strings.TrimSpace(string(b))
	if t == "null" {
		t = ""
	}
	*f = String(t)
	return nil
}

// Limiter paces requests, as each connector's Limiter does.
type Limiter interface {
	Wait(ctx context.Context) error
}

// Wait waits on each limiter in turn, skipping nil ones, and returns the
// first error (the context's).
func Wait(ctx context.Context, ls ...Limiter) error {
	for _, l := range ls {
		if l == nil {
			continue
		}
		if err := l.Wait(ctx); err != nil {
			return err
		}
	}
	return nil
}

// MarshalBody encodes a request's body as JSON; nil is no body.
func MarshalBody(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	return b, nil
}

// NewRequest builds a request with body (nil for none), accepting accept
// and naming userAgent; a body is sent as application/json.
func NewRequest(ctx context.Context, method, rawURL string, body []byte, accept, userAgent string) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// Exchange sends req and reads at most limit bytes of the answer's body,
// then closes it. When no answer came, the response is nil and the error
// the transport's cause (see TransportCause). When the body could not be
// read to its end, the response comes with what was read and the read's
// error.
func Exchange(hc *http.Client, req *http.Request, limit int64) (*http.Response, []byte, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, TransportCause(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	return resp, raw, err
}

// TransportCause strips a *url.Error of its URL, whose path or query may
// hold a secret or a client's phone number, and keeps only its cause.
func TransportCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// DecodeJSON decodes a 2xx body into out; a nil out or an empty body
// leaves out untouched.
func DecodeJSON(raw []byte, out any) error {
	if out == nil || len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	return nil
}
