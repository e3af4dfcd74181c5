package client

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"

	"connectrpc.com/connect"

	"github.com/switchboardhq/switchboard/gen/switchboard/v1/switchboardv1connect"
)

// Protocol is the wire protocol a client speaks.
type Protocol int

// Protocols.
const (
	// Connect over HTTP/1.1 (JSON-capable, what browsers and curl use).
	Connect Protocol = iota
	// GRPC over cleartext HTTP/2.
	GRPC
	// GRPCWeb over HTTP/1.1.
	GRPCWeb
)

func (p Protocol) String() string {
	switch p {
	case GRPC:
		return "grpc"
	case GRPCWeb:
		return "grpcweb"
	}
	return "connect"
}

// Clients holds one client per service.
type Clients struct {
	Account      switchboardv1connect.AccountServiceClient
	Directory    switchboardv1connect.DirectoryServiceClient
	Integration  switchboardv1connect.IntegrationServiceClient
	Routing      switchboardv1connect.RoutingServiceClient
	Notification switchboardv1connect.NotificationServiceClient
	Supervision  switchboardv1connect.SupervisionServiceClient
}

// HTTPClient returns an HTTP client for the protocol: cleartext HTTP/2 for
// gRPC (and for Connect when h2c is true), HTTP/1.1 otherwise.
func HTTPClient(p Protocol, h2c bool) *http.Client {
	t := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{}).DialContext,
		MaxIdleConnsPerHost: 256,
		TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12},
	}
	if p == GRPC || h2c {
		t.Protocols = new(http.Protocols)
		t.Protocols.SetUnencryptedHTTP2(true)
	}
	return &http.Client{Transport: t}
}

// New returns clients for the server at baseURL, sending key as the bearer
// credential (none when empty).
func New(baseURL, key string, p Protocol, httpClient *http.Client, opts ...connect.ClientOption) *Clients {
	if httpClient == nil {
		httpClient = HTTPClient(p, false)
	}
	switch p {
	case GRPC:
		opts = append(opts, connect.WithGRPC())
	case GRPCWeb:
		opts = append(opts, connect.WithGRPCWeb())
	}
	if key != "" {
		opts = append(opts, connect.WithInterceptors(Bearer(key)))
	}
	return &Clients{
		Account:      switchboardv1connect.NewAccountServiceClient(httpClient, baseURL, opts...),
		Directory:    switchboardv1connect.NewDirectoryServiceClient(httpClient, baseURL, opts...),
		Integration:  switchboardv1connect.NewIntegrationServiceClient(httpClient, baseURL, opts...),
		Routing:      switchboardv1connect.NewRoutingServiceClient(httpClient, baseURL, opts...),
		Notification: switchboardv1connect.NewNotificationServiceClient(httpClient, baseURL, opts...),
		Supervision:  switchboardv1connect.NewSupervisionServiceClient(httpClient, baseURL, opts...),
	}
}

// Bearer returns a client interceptor that sends "Authorization: Bearer key".
func Bearer(key string) connect.Interceptor { return bearer("Bearer " + key) }

type bearer string

func (b bearer) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		req.Header().Set("Authorization", string(b))
		return next(ctx, req)
	}
}

func (b bearer) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		conn.RequestHeader().Set("Authorization", string(b))
		return conn
	}
}

func (b bearer) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}
