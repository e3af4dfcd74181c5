package errs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"
)

// Kinds of domain error. Match them with errors.Is.
var (
	ErrInvalid            = errors.New("invalid argument")
	ErrNotFound           = errors.New("not found")
	ErrStale              = errors.New("stale revision")
	ErrConflict           = errors.New("already exists")
	ErrForbidden          = errors.New("permission denied")
	ErrUnauthenticated    = errors.New("unauthenticated")
	ErrFailedPrecondition = errors.New("failed precondition")
	ErrAborted            = errors.New("aborted")
	ErrUnimplemented      = errors.New("unimplemented")
	ErrUnavailable        = errors.New("unavailable")
)

// Error is a domain error with a message safe to show to the caller.
type Error struct {
	Kind    error
	Message string
	// Details travel as Connect error details (google.rpc.* messages).
	Details []proto.Message
}

func (e *Error) Error() string { return e.Message }

// Is makes errors.Is(err, ErrNotFound) and friends work.
func (e *Error) Is(target error) bool { return e.Kind == target }

// New returns a domain error of the given kind.
func New(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// With returns e with details added.
func (e *Error) With(details ...proto.Message) *Error {
	e.Details = append(e.Details, details...)
	return e
}

// NotFound says a thing does not exist in the caller's account. Another
// account's things answer exactly the same.
func NotFound(what string, id any) *Error {
	return New(ErrNotFound, "%s %v not found", what, id)
}

// Forbidden says the caller may not do this.
func Forbidden(format string, args ...any) *Error { return New(ErrForbidden, format, args...) }

// Precondition says the system is not in a state that allows this.
func Precondition(format string, args ...any) *Error {
	return New(ErrFailedPrecondition, format, args...)
}

// Stale says the revision the caller sent is not the current one.
func Stale(sent, current int64) *Error {
	return New(ErrStale, "settings changed since revision %d (now %d): reload and apply your change again", sent, current)
}

// Violation is one bad field of a request.
type Violation struct {
	// Field is a path into the request, e.g. "settings.channels[0].members[1].weight".
	Field       string
	Description string
}

// Violations collects every bad field of a request, so a caller learns all
// of them at once.
type Violations []Violation

// Add records a bad field.
func (v *Violations) Add(field, format string, args ...any) {
	*v = append(*v, Violation{Field: field, Description: fmt.Sprintf(format, args...)})
}

// Err returns nil when nothing was recorded, else an invalid-argument error
// carrying every violation as a google.rpc.BadRequest detail.
func (v Violations) Err() error {
	if len(v) == 0 {
		return nil
	}
	br := &errdetails.BadRequest{}
	msgs := make([]string, 0, len(v))
	for _, f := range v {
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{
			Field:       f.Field,
			Description: f.Description,
		})
		msgs = append(msgs, f.Field+": "+f.Description)
	}
	msg := "invalid request: " + strings.Join(msgs, "; ")
	return (&Error{Kind: ErrInvalid, Message: msg}).With(br)
}

// Invalid returns an invalid-argument error naming one field.
func Invalid(field, format string, args ...any) error {
	var v Violations
	v.Add(field, format, args...)
	return v.Err()
}

var codes = []struct {
	kind error
	code connect.Code
}{
	{ErrInvalid, connect.CodeInvalidArgument},
	{ErrNotFound, connect.CodeNotFound},
	{ErrStale, connect.CodeAborted},
	{ErrAborted, connect.CodeAborted},
	{ErrConflict, connect.CodeAlreadyExists},
	{ErrForbidden, connect.CodePermissionDenied},
	{ErrUnauthenticated, connect.CodeUnauthenticated},
	{ErrFailedPrecondition, connect.CodeFailedPrecondition},
	{ErrUnimplemented, connect.CodeUnimplemented},
	{ErrUnavailable, connect.CodeUnavailable},
}

// ToConnect maps any error to a Connect error. Domain errors keep their
// message; context errors pass through; anything else is logged and answered
// as Internal with a generic message, never its text.
func ToConnect(ctx context.Context, log *slog.Logger, procedure string, err error) error {
	if err == nil {
		return nil
	}
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce
	}
	var de *Error
	if errors.As(err, &de) {
		for _, c := range codes {
			if errors.Is(de, c.kind) {
				out := connect.NewError(c.code, errors.New(de.Message))
				for _, d := range de.Details {
					if detail, derr := connect.NewErrorDetail(d); derr == nil {
						out.AddDetail(detail)
					}
				}
				return out
			}
		}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return connect.NewError(connect.CodeCanceled, errors.New("request canceled"))
	case errors.Is(err, context.DeadlineExceeded):
		return connect.NewError(connect.CodeDeadlineExceeded, errors.New("deadline exceeded"))
	case Unreachable(err):
		log.WarnContext(ctx, "database unreachable", "procedure", procedure, "err", err)
		return connect.NewError(connect.CodeUnavailable, errors.New("the database is unreachable for the moment: retry shortly"))
	}
	log.ErrorContext(ctx, "internal error", "procedure", procedure, "err", err)
	return connect.NewError(connect.CodeInternal, errors.New("internal error"))
}

var (
	unreachableMu sync.RWMutex
	unreachable   []func(error) bool
)

// RegisterUnreachable adds a test for errors that mean the database could
// not be reached or dropped the connection (the store registers its
// driver's): they answer Unavailable, which clients retry, never Internal.
func RegisterUnreachable(fn func(error) bool) {
	unreachableMu.Lock()
	defer unreachableMu.Unlock()
	unreachable = append(unreachable, fn)
}

// Unreachable reports whether err means the database could not be reached.
func Unreachable(err error) bool {
	unreachableMu.RLock()
	defer unreachableMu.RUnlock()
	for _, fn := range unreachable {
		if fn(err) {
			return true
		}
	}
	return false
}
