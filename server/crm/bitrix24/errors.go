package bitrix24

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/server/crm/crmhttp"
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
	}
	return crmhttp.Retryable(e.Status, e.Err, e.local)
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
	if e.Command != "" && e.Err == nil || e.Status >= 200 && e.Status < 300 && e.Err == nil {
		return true
	}
	return crmhttp.Refused(e.Status, e.Err, e.local)
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
	return crmhttp.Ambiguous(e.Status, e.Err, e.local)
}

// RetryAfterHint is the wait the portal asked for (the crm seam reads it).
func (e *Error) RetryAfterHint() time.Duration { return e.RetryAfter }

func asError(err error) (*Error, bool) { return crmhttp.As[*Error](err) }

// IsRetryable reports whether err is an *Error that is Retryable.
func IsRetryable(err error) bool { return crmhttp.IsRetryable[*Error](err) }

// IsPermanent reports whether err is an *Error that is Permanent.
func IsPermanent(err error) bool { return crmhttp.IsPermanent[*Error](err) }

// IsUnauthorized reports whether err is an *Error that is Unauthorized.
func IsUnauthorized(err error) bool { return crmhttp.IsUnauthorized[*Error](err) }

// IsAmbiguous reports whether err is an *Error that is Ambiguous.
func IsAmbiguous(err error) bool { return crmhttp.IsAmbiguous[*Error](err) }

// RetryAfter returns the wait the portal asked for with err, 0 when none.
func RetryAfter(err error) time.Duration { return crmhttp.RetryAfter[*Error](err) }

// flexBool decodes true/false, "Y"/"N", "1"/"0" and "true"/"false".
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	s := strings.ToUpper(strings.Trim(strings.TrimSpace(string(b)), `"`))
	*f = s == "TRUE" || s == "Y" || s == "1"
	return nil
}

// errorBody is {"error","error_description"} with the optional time block.
type errorBody struct {
	Error            crmhttp.String `json:"error"`
	ErrorDescription string         `json:"error_description"`
	Time             *timeJSON      `json:"time"`
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
		e.Description = crmhttp.Excerpt(body, 200)
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
	if d := crmhttp.ParseRetryAfter(header, now); d > 0 {
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
