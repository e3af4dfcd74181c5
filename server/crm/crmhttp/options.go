package crmhttp

import (
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
