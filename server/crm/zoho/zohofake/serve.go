package zohofake

import (
	"context"
	"net"
	"net/http"
	"time"
)

// Serve runs a fake org with the seed data on addr (e.g.
// "127.0.0.1:8093") until ctx ends; opts configure it (WithClient for the
// credential it accepts). Connect to it with the base URL
// "http://{addr}", AllowAnyHost and Credential().
func Serve(ctx context.Context, addr string, opts ...Option) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s := New(opts...)
	s.mu.Lock()
	s.URL = "http://" + ln.Addr().String()
	s.mu.Unlock()
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
}
