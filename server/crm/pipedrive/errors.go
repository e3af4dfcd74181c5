package pipedrive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/server/crm/crmhttp"
)

// Default waits asked of callers when Pipedrive sends no hint: a 2-second
// window frees room within its length.
const windowWait = 2 * time.Second

// ErrNotFound matches (with errors.Is) the *Error of a record that does not
// exist (HTTP 404).
var ErrNotFound = errors.New("pipedrive: not found")

// Error is every error the client returns. Either Status is Pipedrive's
// HTTP answer (≥ 400, or a 2xx whose body could not be read, with Err
// set), or Status is 0 and Err is why no answer came (timeout, reset
// connection, cancelled context).
//
// Pipedrive's error body is {"success": false, "error": text, "error_info":
// text, "errorCode": number, "data": null}; some answers add "code"
// (e.g. "feature_capping_deals_limit"). Source: developers.pipedrive.com
// docs/api/v1 (HTTP status codes) and its changelog. The message never
// contains the API token, and names the request's path without its query.
type Error struct {
	// Op is the request, e.g. "POST /api/v2/deals".
	Op string
	// Status is the HTTP status, 0 when no answer was received.
	Status int
	// Message and Info are "error" and "error_info"; Code is "code" or
	// "errorCode", as sent.
	Message, Info, Code string
	// RetryAfter is the wait Pipedrive asked for (Retry-After, else
	// x-ratelimit-reset, else the end of the UTC day for the daily limit,
	// else 2 s for a 429), 0 when none.
	RetryAfter time.Duration
	// Daily reports a 429 of the daily budget (x-daily-requests-left: 0):
	// retryable, but only after the reset.
	Daily bool
	// Err is the transport or decoding cause, nil for a plain answer.
	Err error

	local bool // failed before anything was sent
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("pipedrive: ")
	b.WriteString(e.Op)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": %d", e.Status)
	}
	if e.Daily {
		b.WriteString(": daily request budget used up")
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Code != "" {
		b.WriteString(" (" + e.Code + ")")
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotFound) true for a 404.
func (e *Error) Is(target error) bool {
	return target == ErrNotFound && e.Status == http.StatusNotFound
}

// RateLimited reports a 429: the 2-second window or the daily budget.
func (e *Error) RateLimited() bool { return e.Status == http.StatusTooManyRequests }

// Unauthorized reports a 401 (a wrong, expired or revoked token) or a 403
// (the token's user lacks the rights, or the account's plan the feature):
// a person must act before a retry can help.
func (e *Error) Unauthorized() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
}

// Retryable reports whether sending the same request later may succeed: a
// 429 (after RetryAfter), a 408, a 5xx, a timeout, a dropped connection,
// or a 2xx whose body was cut short. A cancelled context is not (the
// caller gave up); an expired deadline is.
func (e *Error) Retryable() bool {
	return !e.Unauthorized() && crmhttp.Retryable(e.Status, e.Err, e.local)
}

// Permanent reports whether Pipedrive refused the request itself, so that
// sending it again unchanged fails again: a 4xx other than 401, 403, 408
// and 429 (validation, a missing record), or a request that could not be
// built. A rate limit, the daily budget included, is never permanent.
func (e *Error) Permanent() bool {
	if e.Retryable() || e.Unauthorized() {
		return false
	}
	return crmhttp.Refused(e.Status, e.Err, e.local)
}

// Ambiguous reports whether a write may have been applied although the
// call failed: the request left and no clear answer came back (timeout,
// dropped connection, unreadable 2xx) or Pipedrive answered a 5xx. Before
// retrying such a write, look for it (a deal by the marker in its title,
// a note by its marker).
func (e *Error) Ambiguous() bool {
	return crmhttp.Ambiguous(e.Status, e.Err, e.local)
}

// Unreachable reports whether Pipedrive did not answer, or answered a 5xx.
func (e *Error) Unreachable() bool {
	return !e.local && (e.Status == 0 && e.Err != nil && !errors.Is(e.Err, context.Canceled) || e.Status >= 500)
}

// RetryAfterHint is the wait Pipedrive asked for (the crm seam reads it).
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

// RetryAfter returns the wait Pipedrive asked for with err, 0 when none.
func RetryAfter(err error) time.Duration { return crmhttp.RetryAfter[*Error](err) }

// errorBody is Pipedrive's error envelope.
type errorBody struct {
	Success   *bool           `json:"success"`
	Error     string          `json:"error"`
	ErrorInfo string          `json:"error_info"`
	ErrorCode json.RawMessage `json:"errorCode"`
	Code      json.RawMessage `json:"code"`
}

func rawText(r json.RawMessage) string {
	s := strings.TrimSpace(string(r))
	if s == "" || s == "null" {
		return ""
	}
	var str string
	if json.Unmarshal(r, &str) == nil {
		return str
	}
	return s
}

// parseError builds the *Error of an answer that is not a success. It
// never fails: a body that is not JSON (a proxy's page) keeps a short,
// single-line excerpt as Message.
func parseError(op string, resp *http.Response, body []byte, now time.Time) *Error {
	e := &Error{Op: op, Status: resp.StatusCode}
	var p errorBody
	if json.Unmarshal(body, &p) == nil {
		e.Message, e.Info = p.Error, p.ErrorInfo
		e.Code = rawText(p.Code)
		if e.Code == "" {
			e.Code = rawText(p.ErrorCode)
		}
	} else {
		e.Message = crmhttp.Excerpt(body, 200)
	}
	if e.Status == http.StatusTooManyRequests {
		e.Daily = strings.TrimSpace(resp.Header.Get("x-daily-requests-left")) == "0"
		e.RetryAfter = rateLimitWait(resp.Header, e.Daily, now)
	} else if e.Status >= 500 {
		e.RetryAfter = crmhttp.ParseRetryAfter(resp.Header.Get("Retry-After"), now)
	}
	return e
}

// rateLimitWait is the wait a 429 asks for: Retry-After, else
// x-ratelimit-reset (seconds left in the window), else the next UTC
// midnight for the daily budget (which resets then; source:
// developers.pipedrive.com changelog "Daily API limit for POST/PUT
// endpoints"), else one window.
func rateLimitWait(h http.Header, daily bool, now time.Time) time.Duration {
	if d := crmhttp.ParseRetryAfter(h.Get("Retry-After"), now); d > 0 {
		return d
	}
	if !daily {
		if d := parseSeconds(h.Get("x-ratelimit-reset")); d > 0 {
			return d
		}
		return windowWait
	}
	u := now.UTC()
	midnight := time.Date(u.Year(), u.Month(), u.Day()+1, 0, 0, 0, 0, time.UTC)
	return max(midnight.Sub(u).Round(time.Second), time.Second)
}

// parseSeconds reads a count of seconds ("2", "1.5"); anything else is 0.
func parseSeconds(v string) time.Duration {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f <= 0 || f > 86400*2 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}
