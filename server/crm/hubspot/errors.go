package hubspot

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/server/crm/crmhttp"
)

// Error categories HubSpot sends in "category" (developers.hubspot.com
// docs/api/error-handling).
const (
	CategoryValidation  = "VALIDATION_ERROR"
	CategoryNotFound    = "OBJECT_NOT_FOUND"
	CategoryRateLimits  = "RATE_LIMITS"
	CategoryMissingAuth = "INVALID_AUTHENTICATION"
	CategoryScopes      = "MISSING_SCOPES"
	CategoryConflict    = "CONFLICT"
)

// Rate-limit policies a 429 names in "policyName".
const (
	PolicySecondly = "TEN_SECONDLY_ROLLING"
	PolicyDaily    = "DAILY"
)

// ErrNotFound matches (with errors.Is) the *Error of a read whose record
// does not exist.
var ErrNotFound = errors.New("hubspot: not found")

// Error is every error the client returns. Either Status is HubSpot's
// HTTP answer (≥ 400; or a 2xx that could not be read, with Err set), or
// Status is 0 and Err is why no answer came (timeout, reset connection,
// cancelled context).
//
// HubSpot's error body is {"status":"error","message","correlationId",
// "category", "subCategory"?, "errors"?[…], "policyName"? (429)}. The
// message never contains the token.
type Error struct {
	// Op is the request, "METHOD /path" (no query).
	Op string
	// Status is the HTTP status, 0 when no answer was received.
	Status int
	// Category, SubCategory, Message, CorrelationID and PolicyName are
	// HubSpot's, as sent.
	Category, SubCategory, Message, CorrelationID, PolicyName string
	// RetryAfter is the wait HubSpot asked for (see retryWait), 0 when
	// none.
	RetryAfter time.Duration
	// Err is the transport or decoding cause, nil for a plain answer.
	Err error

	local bool // failed before anything was sent
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("hubspot: ")
	b.WriteString(e.Op)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": %d", e.Status)
	}
	if e.Category != "" {
		b.WriteString(": " + e.Category)
	}
	if e.PolicyName != "" {
		b.WriteString(" (" + e.PolicyName + ")")
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.CorrelationID != "" {
		b.WriteString(" [correlationId " + e.CorrelationID + "]")
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotFound) true for a missing record.
func (e *Error) Is(target error) bool {
	return target == ErrNotFound && (e.Status == http.StatusNotFound || e.Category == CategoryNotFound)
}

// RateLimited reports whether HubSpot refused the request for a rate
// limit (429, category RATE_LIMITS).
func (e *Error) RateLimited() bool {
	return e.Status == http.StatusTooManyRequests || e.Category == CategoryRateLimits
}

// Unauthorized reports whether the token is refused: a 401 (wrong,
// expired or revoked token) or a 403 (MISSING_SCOPES: the private app
// lacks a scope, named in the message). Only a new token or an admin's
// action helps.
func (e *Error) Unauthorized() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden ||
		e.Category == CategoryMissingAuth || e.Category == CategoryScopes
}

// Retryable reports whether sending the same request later may succeed:
// a rate limit, a 5xx, a 408, a timeout, a reset or closed connection, or
// a 2xx whose body was cut short. A cancelled context is not retryable
// (the caller gave up); an expired deadline is.
func (e *Error) Retryable() bool {
	switch {
	case e.RateLimited():
		return true
	case e.Unauthorized():
		return false
	}
	return crmhttp.Retryable(e.Status, e.Err, e.local)
}

// Permanent reports whether HubSpot refused the request itself, so
// sending it again unchanged fails again: a 4xx that is neither Retryable
// nor Unauthorized (VALIDATION_ERROR, OBJECT_NOT_FOUND, CONFLICT, …), or a
// request that could not be built.
func (e *Error) Permanent() bool {
	if e.Retryable() || e.Unauthorized() {
		return false
	}
	return crmhttp.Refused(e.Status, e.Err, e.local)
}

// Ambiguous reports whether a write may have been applied although the
// call failed: the request left and no clear answer came back (timeout,
// dropped connection, unreadable 2xx) or HubSpot answered a 5xx. A rate
// limit refuses the request before running it and is not ambiguous.
// Before retrying such a write, look for it: a deal by the marker in its
// name, a note by the marker in its body.
func (e *Error) Ambiguous() bool {
	return !e.RateLimited() && crmhttp.Ambiguous(e.Status, e.Err, e.local)
}

// RetryAfterHint is the wait HubSpot asked for (the crm seam reads it).
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

// errorBody is HubSpot's error JSON.
type errorBody struct {
	Status        string `json:"status"`
	Message       string `json:"message"`
	CorrelationID string `json:"correlationId"`
	Category      string `json:"category"`
	SubCategory   string `json:"subCategory"`
	PolicyName    string `json:"policyName"`
	ErrorType     string `json:"errorType"`
}

// parseError builds the *Error of an answer that is not a success. It
// never fails: a body that is not JSON (a proxy's page) keeps a short,
// single-line excerpt as Message.
func parseError(op string, resp *http.Response, body []byte, rl rateLimitClock) *Error {
	e := &Error{Op: op, Status: resp.StatusCode}
	var p errorBody
	if json.Unmarshal(body, &p) == nil && (p.Message != "" || p.Category != "" || p.Status != "") {
		e.Category, e.SubCategory, e.Message = p.Category, p.SubCategory, p.Message
		e.CorrelationID, e.PolicyName = p.CorrelationID, p.PolicyName
		if e.Category == "" && p.ErrorType == "RATE_LIMIT" {
			e.Category = CategoryRateLimits
		}
	} else {
		e.Message = crmhttp.Excerpt(body, 200)
	}
	if e.RateLimited() {
		e.RetryAfter = rl.wait(e.PolicyName, resp.Header)
	}
	return e
}

// rateLimitClock computes the wait of a 429.
type rateLimitClock struct {
	now    time.Time
	window time.Duration
	// loc is the account's time zone, where the daily limit resets at
	// midnight; nil when unknown.
	loc *time.Location
}

// wait is the time to wait after a 429 of policy:
//   - a Retry-After header, when sent;
//   - DAILY: until the next midnight in the account's time zone
//     (WithTimeZone), else until the next full hour, as the zone is
//     unknown and a wrong midnight could wait a day too long;
//   - otherwise (TEN_SECONDLY_ROLLING, the search limit, or none named):
//     the X-HubSpot-RateLimit-Interval-Milliseconds header when sent,
//     else the burst window (10 s).
//
// Sources: developers.hubspot.com docs/api/usage-details (limits and the
// X-HubSpot-RateLimit-* headers).
func (c rateLimitClock) wait(policy string, h http.Header) time.Duration {
	if d := crmhttp.ParseRetryAfter(h.Get("Retry-After"), c.now); d > 0 {
		return d
	}
	if policy == PolicyDaily {
		if c.loc != nil {
			t := c.now.In(c.loc)
			mid := time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, c.loc)
			return mid.Sub(t).Round(time.Second) + time.Second
		}
		next := c.now.Truncate(time.Hour).Add(time.Hour)
		return next.Sub(c.now).Round(time.Second) + time.Second
	}
	if ms, err := strconv.Atoi(strings.TrimSpace(h.Get("X-HubSpot-RateLimit-Interval-Milliseconds"))); err == nil && ms > 0 {
		return time.Duration(ms) * time.Millisecond
	}
	if c.window > 0 {
		return c.window
	}
	return DefaultWindow
}
