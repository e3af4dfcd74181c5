package crmhttp

import (
	"context"
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
