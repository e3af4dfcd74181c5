package bitrix24

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Error codes the portal sends in "error" (apidocs.bitrix24.com, the
// system errors listed on every method page, and
// settings/performance/limits.html).
const (
	// CodeQueryLimit (HTTP 503): the portal's request bucket is full.
	CodeQueryLimit = "QUERY_LIMIT_EXCEEDED"
	// CodeOperationLimit (HTTP 429): the method used more than its
	// execution-time budget (480 s in 10 minutes) and is blocked for
	// 10 minutes.
	CodeOperationLimit = "OPERATION_TIME_LIMIT"
	// CodeNotFound: no record with the id.
	CodeNotFound = "NOT_FOUND"
	// CodeInternal (HTTP 500): a server fault.
	CodeInternal = "INTERNAL_SERVER_ERROR"
)

// unauthorizedCodes are the codes after which only a new webhook, more
// scopes or an admin's action help.
var unauthorizedCodes = map[string]bool{
	"NO_AUTH_FOUND": true, "INVALID_CREDENTIALS": true, "expired_token": true, "invalid_token": true,
	"insufficient_scope": true, "user_access_error": true, "OVERLOAD_LIMIT": true,
	"ACCESS_DENIED": true, "PORTAL_DELETED": true, "authorization_error": true,
}

// Default waits asked of callers when the portal sends no Retry-After: the
// bucket drains 2 requests a second, so one second frees room; a method
// over its time budget is blocked for 10 minutes.
const (
	queryLimitWait     = time.Second
	operationLimitWait = 10 * time.Minute
)

// ErrNotFound matches (with errors.Is) the *Error of a read whose record
// does not exist.
var ErrNotFound = errors.New("bitrix24: not found")

// Error is every error the client returns. Either Status is the portal's
// HTTP answer (≥ 400; or a 2xx with an "error" body, or one that could not
// be read, with Err set), or Status is 0 and Err is why no answer came
// (timeout, reset connection, cancelled context). A command of a batch
// that failed has Status 0, Command set and the portal's code.
//
// Errors are {"error": CODE, "error_description": text}; a method's own
// refusals are HTTP 400, sometimes with an empty code. The message never
// contains the webhook's secret.
type Error struct {
	// Method is the REST method, e.g. "crm.deal.add" ("batch" for the
	// envelope of a batch).
	Method string
	// Command is the batch command's key when the error is one command's.
	Command string
	// Status is the HTTP status, 0 when no answer was received (or for a
	// batch command).
	Status int
	// Code and Description are the portal's "error" and
	// "error_description", as sent.
	Code, Description string
	// RetryAfter is the wait the portal asked for (a Retry-After header,
	// else the reset time it sent, else a default for its rate-limit
	// codes), 0 when none.
	RetryAfter time.Duration
	// Err is the transport or decoding cause, nil for a plain answer.
	Err error

	local bool // failed before anything was sent
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("bitrix24: ")
	b.WriteString(e.Method)
	if e.Command != "" {
		fmt.Fprintf(&b, " (batch command %s)", e.Command)
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, ": %d", e.Status)
	}
	if e.Code != "" {
		b.WriteString(": " + e.Code)
	}
	if e.Description != "" {
		b.WriteString(": " + e.Description)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotFound) true for a missing record.
func (e *Error) Is(target error) bool {
	return target == ErrNotFound && e.notFound()
}

func (e *Error) notFound() bool {
	if e.Code == CodeNotFound {
		return true
	}
	if e.Status == http.StatusNotFound && e.Code != "ERROR_METHOD_NOT_FOUND" {
		return true
	}
	d := strings.ToLower(e.Description)
	return (e.Status == http.StatusBadRequest || e.Command != "") && (d == "not found" || d == "not found." || strings.HasSuffix(d, " is not found") || strings.HasSuffix(d, " not found."))
}

// Retryable reports whether sending the same request later may succeed:
// QUERY_LIMIT_EXCEEDED, OPERATION_TIME_LIMIT, a 5xx, a 408 or 429, a
// timeout, a reset or closed connection, or a 2xx whose body was cut
// short. A cancelled context is not retryable (the caller gave up); an
// expired deadline is.
func (e *Error) Retryable() bool {
	switch {
	case e.Code == CodeQueryLimit, e.Code == CodeOperationLimit, e.Code == CodeInternal:
		return true
	case e.Unauthorized():
		return false
	case e.Status == http.StatusTooManyRequests, e.Status == http.StatusRequestTimeout, e.Status >= 500:
		return true
	case e.Err == nil:
		return false
	case errors.Is(e.Err, context.Canceled):
		return false
	case e.local:
		return errors.Is(e.Err, context.DeadlineExceeded)
	}
	return true
}

// Unauthorized reports whether the webhook is refused: a 401 or 403, or
// the codes NO_AUTH_FOUND, INVALID_CREDENTIALS, expired_token, invalid_token,
// insufficient_scope, user_access_error, OVERLOAD_LIMIT (blocked by
// support), ACCESS_DENIED (no REST on the plan, or no rights) and
// PORTAL_DELETED. A new webhook or an admin's action is needed first.
func (e *Error) Unauthorized() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden || unauthorizedCodes[e.Code]
}

// Permanent reports whether the portal refused the request itself, so
// sending it again unchanged fails again: a 4xx that is neither Retryable
// nor Unauthorized (a method's validation, NOT_FOUND, an unknown method),
// a batch command's refusal, or a request that could not be encoded.
func (e *Error) Permanent() bool {
	if e.Retryable() || e.Unauthorized() {
		return false
	}
	if e.Status >= 400 && e.Status < 500 || e.Command != "" && e.Err == nil || e.Status >= 200 && e.Status < 300 && e.Err == nil {
		return true
	}
	return e.local && e.Err != nil && !errors.Is(e.Err, context.Canceled) && !errors.Is(e.Err, context.DeadlineExceeded)
}

// Ambiguous reports whether a write may have been applied although the
// call failed: the request left and no clear answer came back (timeout,
// dropped connection, unreadable 2xx) or the portal answered a 5xx other
// than QUERY_LIMIT_EXCEEDED (which refuses the request before running
// it). Before retrying such a write, look for it: a deal by the marker in
// its title (crm.deal.list), a comment by the marker in its text
// (crm.timeline.comment.list).
func (e *Error) Ambiguous() bool {
	if e.local || e.Code == CodeQueryLimit || e.Code == CodeOperationLimit {
		return false
	}
	if e.Command != "" {
		return e.Code == CodeInternal
	}
	return e.Status == 0 || e.Status >= 500 || (e.Status < 300 && e.Err != nil)
}

// RetryAfterHint is the wait the portal asked for (the crm seam reads it).
func (e *Error) RetryAfterHint() time.Duration { return e.RetryAfter }

func asError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsRetryable reports whether err is an *Error that is Retryable.
func IsRetryable(err error) bool { e, ok := asError(err); return ok && e.Retryable() }

// IsPermanent reports whether err is an *Error that is Permanent.
func IsPermanent(err error) bool { e, ok := asError(err); return ok && e.Permanent() }

// IsUnauthorized reports whether err is an *Error that is Unauthorized.
func IsUnauthorized(err error) bool { e, ok := asError(err); return ok && e.Unauthorized() }

// IsAmbiguous reports whether err is an *Error that is Ambiguous.
func IsAmbiguous(err error) bool { e, ok := asError(err); return ok && e.Ambiguous() }

// RetryAfter returns the wait the portal asked for with err, 0 when none.
func RetryAfter(err error) time.Duration {
	if e, ok := asError(err); ok {
		return e.RetryAfter
	}
	return 0
}

// flexInt decodes a JSON number, or a string holding one ("42"); anything
// else decodes as 0.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"`)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*f = flexInt(n)
	} else if x, err := strconv.ParseFloat(s, 64); err == nil {
		*f = flexInt(int64(x))
	}
	return nil
}

// flexString decodes a JSON string, number or boolean as a string; null
// is "".
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*f = flexString(s)
		return nil
	}
	t := strings.TrimSpace(string(b))
	if t == "null" {
		t = ""
	}
	*f = flexString(t)
	return nil
}

// flexBool decodes true/false, "Y"/"N", "1"/"0" and "true"/"false".
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	s := strings.ToUpper(strings.Trim(strings.TrimSpace(string(b)), `"`))
	*f = s == "TRUE" || s == "Y" || s == "1"
	return nil
}

// errorBody is {"error","error_description"} with the optional time block.
type errorBody struct {
	Error            flexString `json:"error"`
	ErrorDescription string     `json:"error_description"`
	Time             *timeJSON  `json:"time"`
}

// parseError builds the *Error of an answer that is not a success. It
// never fails: a body that is not JSON (a proxy's page) keeps a short,
// single-line excerpt as Description.
func parseError(method string, resp *http.Response, body []byte, now time.Time) *Error {
	e := &Error{Method: method, Status: resp.StatusCode}
	var p errorBody
	var t *timeJSON
	if json.Unmarshal(body, &p) == nil {
		e.Code, e.Description, t = string(p.Error), p.ErrorDescription, p.Time
	} else {
		e.Description = excerpt(body, 200)
	}
	e.RetryAfter = retryAfter(e.Code, resp.Header.Get("Retry-After"), t, now)
	if e.RetryAfter == 0 && e.Code == "" && (e.Status == http.StatusServiceUnavailable || e.Status == http.StatusTooManyRequests) {
		e.RetryAfter = queryLimitWait
	}
	return e
}

// retryAfter is the wait for a rate-limit code: the Retry-After header,
// else the method's budget reset time, else the default for the code.
func retryAfter(code, header string, t *timeJSON, now time.Time) time.Duration {
	if d := parseRetryAfter(header, now); d > 0 {
		return d
	}
	switch code {
	case CodeQueryLimit:
		return queryLimitWait
	case CodeOperationLimit:
		if reset := t.timing().OperatingResetAt; reset.After(now) {
			return reset.Sub(now).Round(time.Second)
		}
		return operationLimitWait
	}
	return 0
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date
// (RFC 9110 §10.2.3). Unreadable or past values give 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
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

// excerpt returns the start of b as one line of valid UTF-8.
func excerpt(b []byte, n int) string {
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
