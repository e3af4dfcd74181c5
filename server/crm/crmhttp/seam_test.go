package crmhttp

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/switchboardhq/switchboard/server/crm"
)

// ownLimiter is a connector's own Limiter type.
type ownLimiter interface {
	Wait(ctx context.Context) error
}

type nopLimiter struct{}

func (nopLimiter) Wait(context.Context) error { return nil }

func TestOptions(t *testing.T) {
	anyHost := func() string { return "any host" }
	withHTTP := func(h *http.Client) string { return "http" }
	withLimiter := func(l ownLimiter) string {
		if l == nil {
			return "nil limiter"
		}
		return "limiter"
	}
	tests := []struct {
		name string
		cfg  crm.Config
		want []string
	}{
		{"nothing", crm.Config{BaseURL: "https://x"}, nil},
		{"any host", crm.Config{AllowAnyHost: true}, []string{"any host"}},
		{"http", crm.Config{HTTP: http.DefaultClient}, []string{"http"}},
		{"limiter", crm.Config{Limiter: nopLimiter{}}, []string{"limiter"}},
		{"all, in order", crm.Config{Limiter: nopLimiter{}, HTTP: http.DefaultClient, AllowAnyHost: true}, []string{"any host", "http", "limiter"}},
	}
	for _, tt := range tests {
		if got := Options(tt.cfg, anyHost, withHTTP, withLimiter); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSeam(t *testing.T) {
	cause := errors.New("answer")
	tests := []struct {
		name                      string
		err                       error
		unauthorized, unreachable bool
		want                      []error
		same                      bool
	}{
		{"nil", nil, true, true, nil, false},
		{"unauthorized", cause, true, false, []error{crm.ErrUnauthorized, cause}, false},
		{"unauthorized wins", cause, true, true, []error{crm.ErrUnauthorized, cause}, false},
		{"unreachable", cause, false, true, []error{crm.ErrUnreachable, cause}, false},
		{"neither", cause, false, false, nil, true},
	}
	for _, tt := range tests {
		got := Seam(tt.err, tt.unauthorized, tt.unreachable)
		if tt.err == nil && got != nil || tt.same && got != tt.err {
			t.Errorf("%s: %v", tt.name, got)
		}
		for _, w := range tt.want {
			if !errors.Is(got, w) {
				t.Errorf("%s: %v is not %v", tt.name, got, w)
			}
		}
		if tt.unauthorized && errors.Is(got, crm.ErrUnreachable) {
			t.Errorf("%s: %v is both", tt.name, got)
		}
	}
}
