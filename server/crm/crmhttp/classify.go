package crmhttp

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// A call's outcome, as every connector's *Error records it: status is the
// HTTP status (0 when no answer came), err the transport or decoding
// cause (nil for a plain answer), local whether the call failed before
// anything was sent (encoding, a limiter, a refused budget).

// RetryableStatus reports whether an answer's status asks to send the
// request again later: 408, 429 or a 5xx.
func RetryableStatus(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500
}

// RetryableCause reports whether a call whose status is not retryable may
// still succeed later for its cause: a timeout, a reset or closed
// connection, or a 2xx whose body was cut short. A plain answer (no
// cause) is not, nor a cancelled context (the caller gave up); of a local
// failure, only an expired deadline is.
func RetryableCause(err error, local bool) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, context.Canceled):
		return false
	case local:
		return errors.Is(err, context.DeadlineExceeded)
	}
	return true
}

// Retryable is RetryableStatus or RetryableCause.
func Retryable(status int, err error, local bool) bool {
	return RetryableStatus(status) || RetryableCause(err, local)
}

// Refused reports whether the request itself was refused, so sending it
// again unchanged fails again, once the vendor has ruled out what it
// retries or calls unauthorized: a 4xx, or a local failure other than the
// context's (a request that could not be encoded or built).
func Refused(status int, err error, local bool) bool {
	if status >= 400 && status < 500 {
		return true
	}
	return local && err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// Ambiguous reports whether a write may have been applied although the
// call failed: the request left and no clear answer came back (timeout,
// dropped connection, unreadable 2xx) or the CRM answered a 5xx.
func Ambiguous(status int, err error, local bool) bool {
	if local {
		return false
	}
	return status == 0 || status >= 500 || (status < 300 && err != nil)
}

// Classified is what each connector's *Error reports of itself.
type Classified interface {
	error
	Retryable() bool
	Permanent() bool
	Unauthorized() bool
	Ambiguous() bool
	RetryAfterHint() time.Duration
}

// As returns err's E, if any.
func As[E error](err error) (E, bool) {
	var e E
	ok := errors.As(err, &e)
	return e, ok
}

// IsRetryable reports whether err is an E that is Retryable.
func IsRetryable[E Classified](err error) bool { e, ok := As[E](err); return ok && e.Retryable() }

// IsPermanent reports whether err is an E that is Permanent.
func IsPermanent[E Classified](err error) bool { e, ok := As[E](err); return ok && e.Permanent() }

// IsUnauthorized reports whether err is an E that is Unauthorized.
func IsUnauthorized[E Classified](err error) bool {
	e, ok := As[E](err)
	return ok && e.Unauthorized()
}

// IsAmbiguous reports whether err is an E that is Ambiguous.
func IsAmbiguous[E Classified](err error) bool { e, ok := As[E](err); return ok && e.Ambiguous() }

// RetryAfter returns the wait an E in err asked for, 0 when none.
func RetryAfter[E Classified](err error) time.Duration {
	if e, ok := As[E](err); ok {
		return e.RetryAfterHint()
	}
	return 0
}
