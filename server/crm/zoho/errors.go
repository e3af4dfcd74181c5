package zoho

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/server/crm/crmhttp"
)

// Codes Zoho CRM sends in "code" (api/v7/status-codes.html and the
// method pages), and the ones of its accounts server's "error".
const (
	CodeInvalidToken       = "INVALID_TOKEN"
	CodeAuthFailure        = "AUTHENTICATION_FAILURE"
	CodeScopeMismatch      = "OAUTH_SCOPE_MISMATCH"
	CodeNoPermission       = "NO_PERMISSION"
	CodeTooManyRequests    = "TOO_MANY_REQUESTS"
	CodeLimitReached       = "LIMIT_REACHED"
	CodeLimitExceeded      = "LIMIT_EXCEEDED"
	CodeInvalidData        = "INVALID_DATA"
	CodeMandatoryNotFound  = "MANDATORY_NOT_FOUND"
	CodeInternalError      = "INTERNAL_ERROR"
	CodeDuplicateData      = "DUPLICATE_DATA"
	CodeInvalidQuery       = "INVALID_QUERY"
	CodeRefreshInvalidCode = "invalid_code"
	CodeInvalidClient      = "invalid_client"

	// CodeReserve is the client's own refusal: the org's API credits are
	// spent down to the reserve (see WithCreditReserve); nothing was sent.
	CodeReserve = "CREDITS_RESERVE"
)

// TooManyRequestsWait is the wait asked of callers after a 429
// TOO_MANY_REQUESTS. Zoho sends no Retry-After: the 429 comes from its
// concurrency limit (calls in flight at once per org and app), which
// frees as soon as a call in flight ends, so a few seconds suffice.
const TooManyRequestsWait = 5 * time.Second

// LimitReachedWait is the wait after the CRM's own "credits spent" answer
// when neither its headers nor the client's count say when credits come
// back: the window is rolling, so some come back within the hour.
const LimitReachedWait = time.Hour

var unauthorizedCodes = map[string]bool{
	CodeInvalidToken: true, CodeAuthFailure: true, CodeScopeMismatch: true, CodeNoPermission: true,
	CodeRefreshInvalidCode: true, CodeInvalidClient: true, "invalid_client_secret": true,
	"access_denied": true, "unauthorized_client": true, "invalid_grant": true,
}

// ErrNotFound matches (with errors.Is) the *Error of a read whose record
// does not exist (a 204 or 404 answering a read by id).
var ErrNotFound = errors.New("zoho: not found")

// Error is every error the client returns. Either Status is the CRM's (or
// the accounts server's) answer, or Status is 0 and Err is why no answer
// came (timeout, reset connection, cancelled context), or the call was
// refused before it was sent (local, e.g. CodeReserve).
//
// Zoho's errors are {"code","details","message","status":"error"}, at the
// top level or per record inside "data" (a record's refusal can come in a
// 2xx answer). The message never contains a token, the client secret or
// a request's query string.
type Error struct {
	// Op is the method and path, e.g. "POST /crm/v7/Deals".
	Op string
	// Status is the HTTP status, 0 when no answer was received.
	Status int
	// Code and Message are Zoho's "code" and "message" (the accounts
	// server's "error" is Code). Field is details.api_name when sent.
	Code, Message, Field string
	// Record is true when the error is one record's status inside "data".
	Record bool
	// RetryAfter is the wait asked of the caller: a default for 429, the
	// credit window's reset for spent credits; 0 when none.
	RetryAfter time.Duration
	// Err is the transport or decoding cause, nil for a plain answer.
	Err error

	local    bool // refused before anything was sent
	notFound bool // a 204 answering a read by id
	refresh  bool // the accounts server's answer to a refresh
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("zoho: ")
	b.WriteString(e.Op)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": %d", e.Status)
	}
	if e.Record {
		b.WriteString(": record")
	}
	if e.Code != "" {
		b.WriteString(": " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Field != "" {
		b.WriteString(" (" + e.Field + ")")
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter.Round(time.Second))
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotFound) true for a missing record.
func (e *Error) Is(target error) bool {
	return target == ErrNotFound && (e.notFound || e.Status == http.StatusNotFound && e.Code != "INVALID_URL_PATTERN")
}

// creditsSpent reports a refusal for spent API credits (the CRM's, or the
// client's reserve).
func (e *Error) creditsSpent() bool {
	return e.Code == CodeLimitReached || e.Code == CodeLimitExceeded || e.Code == CodeReserve
}

// Retryable reports whether sending the same request later may succeed:
// 429 TOO_MANY_REQUESTS, spent credits (the CRM's LIMIT_REACHED or the
// client's reserve), a 5xx or 408, a timeout, a reset or closed
// connection, or a 2xx whose body was cut short. A cancelled context is
// not retryable; an expired deadline is.
func (e *Error) Retryable() bool {
	switch {
	case e.creditsSpent(), e.Code == CodeTooManyRequests:
		return true
	case e.Unauthorized():
		return false
	case e.refresh:
		return true
	}
	return crmhttp.Retryable(e.Status, e.Err, e.local)
}

// Unauthorized reports whether the credential is refused: a 401, a 403,
// INVALID_TOKEN (after the one refresh), AUTHENTICATION_FAILURE,
// OAUTH_SCOPE_MISMATCH, NO_PERMISSION, or the accounts server refusing
// the refresh token or the client (invalid_code, invalid_client).
func (e *Error) Unauthorized() bool {
	if e.Record {
		return e.Code == CodeNoPermission
	}
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden || unauthorizedCodes[e.Code]
}

// Permanent reports whether the CRM refused the request itself, so sending
// it again unchanged fails again: INVALID_DATA, MANDATORY_NOT_FOUND,
// DUPLICATE_DATA and any other 4xx or record status that is neither
// Retryable nor Unauthorized, a missing record, or a request that could
// not be encoded.
func (e *Error) Permanent() bool {
	if e.Retryable() || e.Unauthorized() {
		return false
	}
	return e.Record || e.notFound || crmhttp.Refused(e.Status, e.Err, e.local)
}

// Ambiguous reports whether a write may have been applied although the
// call failed: the request left and no clear answer came back (timeout,
// dropped connection, unreadable 2xx) or the CRM answered a 5xx. A 429,
// spent credits, a 4xx or a record's refusal is never ambiguous.
func (e *Error) Ambiguous() bool {
	if e.Record || e.refresh || e.creditsSpent() || e.Code == CodeTooManyRequests {
		return false
	}
	return crmhttp.Ambiguous(e.Status, e.Err, e.local)
}

// RetryAfterHint is the wait asked of the caller (the crm seam reads it).
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
