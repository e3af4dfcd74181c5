package validate

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/switchboardhq/switchboard/server/errs"
)

// Rules maps a request message's full name to its check.
type Rules map[protoreflect.FullName]func(proto.Message, *errs.Violations)

// Add registers the check of request type T.
func Add[T proto.Message](r Rules, check func(T, *errs.Violations)) {
	var zero T
	r[zero.ProtoReflect().Descriptor().FullName()] = func(m proto.Message, v *errs.Violations) {
		check(m.(T), v)
	}
}

// Has reports whether a request type has a rule.
func (r Rules) Has(name protoreflect.FullName) bool {
	_, ok := r[name]
	return ok
}

// Check runs the rule of msg's type. A type without a rule fails closed.
func (r Rules) Check(msg proto.Message) error {
	check, ok := r[msg.ProtoReflect().Descriptor().FullName()]
	if !ok {
		return fmt.Errorf("validate: no rule for %s", msg.ProtoReflect().Descriptor().FullName())
	}
	var v errs.Violations
	noNUL(&v, "", msg.ProtoReflect())
	check(msg, &v)
	return v.Err()
}

// noNUL refuses NUL characters in every string of a request: no text field
// needs them, and PostgreSQL cannot store them.
func noNUL(v *errs.Violations, at string, m protoreflect.Message) {
	m.Range(func(f protoreflect.FieldDescriptor, val protoreflect.Value) bool {
		path := string(f.Name())
		if at != "" {
			path = at + "." + path
		}
		switch {
		case f.IsList():
			l := val.List()
			for i := 0; i < l.Len(); i++ {
				p := fmt.Sprintf("%s[%d]", path, i)
				if f.Kind() == protoreflect.MessageKind {
					noNUL(v, p, l.Get(i).Message())
				} else if f.Kind() == protoreflect.StringKind && strings.ContainsRune(l.Get(i).String(), 0) {
					v.Add(p, "must not contain NUL characters")
				}
			}
		case f.IsMap():
		case f.Kind() == protoreflect.MessageKind:
			noNUL(v, path, val.Message())
		case f.Kind() == protoreflect.StringKind && strings.ContainsRune(val.String(), 0):
			v.Add(path, "must not contain NUL characters")
		}
		return true
	})
}

// Interceptor validates every request (unary and the first message of
// server streams) before the handler sees it.
func (r Rules) Interceptor() connect.Interceptor { return interceptor{r} }

type interceptor struct{ rules Rules }

func (i interceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if msg, ok := req.Any().(proto.Message); ok {
			if err := i.rules.Check(msg); err != nil {
				return nil, err
			}
		}
		return next(ctx, req)
	}
}

func (i interceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (i interceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		return next(ctx, &validatingConn{StreamingHandlerConn: conn, rules: i.rules})
	}
}

type validatingConn struct {
	connect.StreamingHandlerConn
	rules Rules
}

func (c *validatingConn) Receive(m any) error {
	if err := c.StreamingHandlerConn.Receive(m); err != nil {
		return err
	}
	if msg, ok := m.(proto.Message); ok {
		return c.rules.Check(msg)
	}
	return nil
}

// Text records a violation unless s has between min and max characters of
// valid UTF-8.
func Text(v *errs.Violations, field, s string, min, max int) {
	if !utf8.ValidString(s) {
		v.Add(field, "must be valid UTF-8")
		return
	}
	n := utf8.RuneCountInString(s)
	switch {
	case n < min && min == 1:
		v.Add(field, "is required")
	case n < min:
		v.Add(field, "must have at least %d characters", min)
	case n > max:
		v.Add(field, "must have at most %d characters (has %d)", max, n)
	}
}

// Enum records a violation unless e is a defined value of its enum (and,
// when required, not the zero value).
func Enum(v *errs.Violations, field string, e protoreflect.Enum, required bool) {
	n := e.Number()
	if n == 0 {
		if required {
			v.Add(field, "is required")
		}
		return
	}
	if e.Descriptor().Values().ByNumber(n) == nil {
		v.Add(field, "%d is not a valid %s", n, e.Descriptor().Name())
	}
}

// PageSize records a violation unless 0 <= n <= max.
func PageSize(v *errs.Violations, field string, n int32, max int32) {
	if n < 0 || n > max {
		v.Add(field, "must be between 0 and %d", max)
	}
}
