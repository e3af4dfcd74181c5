package crmhttp

import (
	"fmt"
	"net/http"

	"github.com/switchboardhq/switchboard/server/crm"
)

// Options turns what cfg says of the transport into a connector's client
// options, in this order: anyHost when cfg.AllowAnyHost, withHTTP with
// cfg.HTTP and withLimiter with cfg.Limiter when they are set. L is the
// connector's own Limiter type, which a cfg.Limiter satisfies.
func Options[O any, L Limiter](cfg crm.Config, anyHost func() O, withHTTP func(*http.Client) O, withLimiter func(L) O) []O {
	var opts []O
	if cfg.AllowAnyHost {
		opts = append(opts, anyHost())
	}
	if cfg.HTTP != nil {
		opts = append(opts, withHTTP(cfg.HTTP))
	}
	if l, ok := cfg.Limiter.(L); ok {
		opts = append(opts, withLimiter(l))
	}
	return opts
}

// Seam wraps a connector's error for the crm seam, as the connector
// judged it: with crm.ErrUnauthorized when unauthorized, else with
// crm.ErrUnreachable when unreachable, else not at all. nil stays nil.
func Seam(err error, unauthorized, unreachable bool) error {
	switch {
	case err == nil:
		return nil
	case unauthorized:
		return fmt.Errorf("%w: %w", crm.ErrUnauthorized, err)
	case unreachable:
		return fmt.Errorf("%w: %w", crm.ErrUnreachable, err)
	}
	return err
}
