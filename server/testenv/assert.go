package testenv

import (
	"errors"
	"slices"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
)

// WantCode fails the test unless err has the Connect code want.
func WantCode(t testing.TB, err error, want connect.Code) {
	t.Helper()
	if got := connect.CodeOf(err); err == nil || got != want {
		t.Fatalf("got code %v (err %v), want %v", got, err, want)
	}
}

// NoErr fails the test on an error.
func NoErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// Must returns v, failing the test on an error.
func Must[T any](t testing.TB) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// FieldViolations returns the fields named by err's google.rpc.BadRequest
// detail.
func FieldViolations(err error) []string {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return nil
	}
	var out []string
	for _, d := range ce.Details() {
		v, derr := d.Value()
		if derr != nil {
			continue
		}
		if br, ok := v.(*errdetails.BadRequest); ok {
			for _, f := range br.FieldViolations {
				out = append(out, f.Field)
			}
		}
	}
	return out
}

// WantViolations fails unless err is INVALID_ARGUMENT naming every field.
func WantViolations(t testing.TB, err error, fields ...string) {
	t.Helper()
	WantCode(t, err, connect.CodeInvalidArgument)
	got := FieldViolations(err)
	for _, f := range fields {
		if !slices.Contains(got, f) {
			t.Fatalf("violations %v do not name %q (err %v)", got, f, err)
		}
	}
}
