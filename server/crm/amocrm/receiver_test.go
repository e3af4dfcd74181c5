package amocrm_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// startReceiver serves h as a webhook destination and returns its URL.
func startReceiver(t *testing.T, h http.Handler) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}
