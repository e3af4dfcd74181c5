package amocrm

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/server/crm/crmhttp"
)

// ErrNotFound matches (with errors.Is) the *Error of a call whose entity
// does not exist: a 404, or a 204 from a read by id.
var ErrNotFound = errors.New("amocrm: not found")

// Error is every error the client returns. Either Status is the CRM's
// answer (≥ 400; or a 2xx whose body could not be read, with Err set) or
// Status is 0 and Err is why no answer came (timeout, reset connection,
// cancelled context).
//
// Successful answers are application/hal+json and errors
// application/problem+json ({"title","type","status","detail"}); a 429 may
// carry any body, even none, and still parses
// (https://www.amocrm.ru/developers/content/crm_platform/error-codes).
// The message never contains the token or the request's query string.
type Error struct {
	// Op is the method and path, e.g. "POST /api/v4/leads/complex".
	Op string
	// Status is the HTTP status, 0 when no answer was received.
	Status int
	// Code is the CRM's own numeric code when the body has one (110–113 are
	// authorization failures, 113 the IP not being whitelisted; 101 an
	// unknown account), else 0.
	Code int
	// Title and Detail are the problem+json fields, kept as the CRM wrote
	// them so an operator sees the CRM's message. For a non-JSON body Title
	// is the status text and Detail the start of the body.
	Title, Detail string
	// Validation lists the field errors of a 400 "validation-errors" body.
	Validation []FieldError
	// RetryAfter is the wait the CRM asked for in its Retry-After header
	// (seconds or an HTTP date), 0 when absent.
	RetryAfter time.Duration
	// Err is the transport or decoding cause, nil for a plain CRM answer.
	Err error

	local    bool // failed before anything was sent
	notFound bool // a 204 answering a read by id
}

// FieldError is one entry of a 400 "validation-errors" body: which entity
// of the request (RequestID, the request_id sent or its index), which field
// (Path, e.g. "custom_fields_values.0.field_id"), a machine code
// ("NotSupportedChoice") and the CRM's text.
type FieldError struct {
	RequestID string
	Code      string
	Path      string
	Detail    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("amocrm: ")
	b.WriteString(e.Op)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": %d", e.Status)
		if e.Title != "" {
			b.WriteString(" " + e.Title)
		}
		if e.Code != 0 {
			fmt.Fprintf(&b, " (code %d)", e.Code)
		}
		if e.Detail != "" {
			b.WriteString(": " + e.Detail)
		}
		for i, v := range e.Validation {
			if i == 0 {
				b.WriteString(" [")
			} else {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "%s: %s", v.Path, v.Code)
			if v.Detail != "" {
				b.WriteString(" " + v.Detail)
			}
			if i == len(e.Validation)-1 {
				b.WriteString("]")
			}
		}
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotFound) true for a missing entity.
func (e *Error) Is(target error) bool {
	return target == ErrNotFound && (e.Status == http.StatusNotFound || e.notFound)
}

// Retryable reports whether sending the same request later may succeed: a
// 429, a 5xx, a 408, a timeout, a reset or closed connection, or a 2xx whose
// body was cut short. A cancelled context is not retryable (the caller gave
// up); an expired deadline is.
func (e *Error) Retryable() bool {
	return crmhttp.Retryable(e.Status, e.Err, e.local)
}

// Unauthorized reports whether the token is refused: 401 (missing, expired
// or revoked token), 403 (no rights, or code 113, the server's IP not on
// the account's whitelist) or one of the legacy codes 110–113. A new token
// or an admin's action is needed before a retry.
func (e *Error) Unauthorized() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden ||
		(e.Code >= 110 && e.Code <= 113)
}

// Permanent reports whether the CRM refused the request itself, so sending
// it again unchanged fails again: 400 (validation; see Validation), 402
// (account not paid), 404, 422 and other 4xx that are neither Retryable nor
// Unauthorized, and requests that could not be encoded.
func (e *Error) Permanent() bool {
	if e.Retryable() || e.Unauthorized() {
		return false
	}
	return e.notFound || crmhttp.Refused(e.Status, e.Err, e.local)
}

// Ambiguous reports whether a write may have been applied although the
// call failed: the request left and no clear answer came back (timeout,
// dropped connection, unreadable 2xx) or the CRM answered 5xx. Before
// retrying such a write, look for it: the CRM echoes request_id but does
// not store it, so a lead is found through its contact's leads
// (FindContactsByPhone, GetContact) and a note by a marker in its text
// (FindNote). A 429 or 4xx is never ambiguous: nothing was written.
func (e *Error) Ambiguous() bool {
	return crmhttp.Ambiguous(e.Status, e.Err, e.local)
}

// IsRetryable reports whether err is an *Error that is Retryable.
func IsRetryable(err error) bool { return crmhttp.IsRetryable[*Error](err) }

// IsPermanent reports whether err is an *Error that is Permanent.
func IsPermanent(err error) bool { return crmhttp.IsPermanent[*Error](err) }

// IsUnauthorized reports whether err is an *Error that is Unauthorized.
func IsUnauthorized(err error) bool { return crmhttp.IsUnauthorized[*Error](err) }

// IsAmbiguous reports whether err is an *Error that is Ambiguous.
func IsAmbiguous(err error) bool { return crmhttp.IsAmbiguous[*Error](err) }

// RetryAfter returns the wait the CRM asked for with err, 0 when none.
func RetryAfter(err error) time.Duration { return crmhttp.RetryAfter[*Error](err) }

// flexString decodes a JSON string or number as a string.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*f = flexString(s)
		return nil
	}
	*f = flexString(strings.TrimSpace(string(b)))
	return nil
}

// problem is an error body: problem+json, with the amo extensions
// ("validation-errors", a numeric "code") and the older
// {"response":{"error","error_code"}} form.
type problem struct {
	Title            string      `json:"title"`
	Detail           string      `json:"detail"`
	Code             crmhttp.Int `json:"code"`
	ValidationErrors []struct {
		RequestID flexString `json:"request_id"`
		Errors    []struct {
			Code   flexString `json:"code"`
			Path   string     `json:"path"`
			Detail string     `json:"detail"`
		} `json:"errors"`
	} `json:"validation-errors"`
	Response *struct {
		Error     string      `json:"error"`
		ErrorCode crmhttp.Int `json:"error_code"`
	} `json:"response"`
}

// parseError builds the *Error of a non-2xx answer. It never fails: a body
// that is not JSON (a 429 from a proxy, an HTML page) leaves the status
// text as Title and a short, single-line excerpt as Detail.
func parseError(op string, resp *http.Response, body []byte, now time.Time) *Error {
	e := &Error{Op: op, Status: resp.StatusCode, RetryAfter: crmhttp.ParseRetryAfter(resp.Header.Get("Retry-After"), now)}
	var p problem
	if json.Unmarshal(body, &p) == nil {
		e.Title, e.Detail, e.Code = p.Title, p.Detail, int(p.Code)
		if p.Response != nil {
			if e.Detail == "" {
				e.Detail = p.Response.Error
			}
			if e.Code == 0 {
				e.Code = int(p.Response.ErrorCode)
			}
		}
		for _, v := range p.ValidationErrors {
			for _, fe := range v.Errors {
				e.Validation = append(e.Validation, FieldError{
					RequestID: string(v.RequestID), Code: string(fe.Code), Path: fe.Path, Detail: fe.Detail,
				})
			}
		}
	} else {
		e.Detail = crmhttp.Excerpt(body, 200)
	}
	if e.Title == "" {
		e.Title = http.StatusText(resp.StatusCode)
	}
	return e
}

// RetryAfterHint is the wait the CRM asked for (the crm seam reads it).
func (e *Error) RetryAfterHint() time.Duration { return e.RetryAfter }
