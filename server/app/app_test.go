package app_test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/client"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// Every RPC's request type has a validation rule: the interceptor fails
// closed on a type without one, so a forgotten rule would break the RPC.
func TestEveryRequestHasARule(t *testing.T) {
	env := New(t, Backends(t)[0], Options{})
	rules := env.Server.App.Rules()
	n := 0
	protoregistry.GlobalFiles.RangeFilesByPackage("switchboard.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := 0; i < fd.Services().Len(); i++ {
			svc := fd.Services().Get(i)
			for j := 0; j < svc.Methods().Len(); j++ {
				m := svc.Methods().Get(j)
				n++
				if !rules.Has(m.Input().FullName()) {
					t.Errorf("%s/%s: no validation rule for %s", svc.FullName(), m.Name(), m.Input().FullName())
				}
			}
		}
		return true
	})
	if n < 30 {
		t.Fatalf("found only %d RPCs", n)
	}
}

func TestHealthReflectionAndProtocols(t *testing.T) {
	env := New(t, Backends(t)[0], Options{})
	ctx := context.Background()

	// gRPC health, over the Connect protocol as curl would call it.
	res, err := http.Post(env.Server.URL+"/grpc.health.v1.Health/Check", "application/json", strings.NewReader(`{"service":"switchboard.v1.RoutingService"}`))
	NoErr(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "SERVING") {
		t.Fatalf("health: %d %s", res.StatusCode, body)
	}

	// Reflection lists the services, over gRPC (what grpcurl and buf curl use).
	for _, p := range []client.Protocol{client.GRPC, client.Connect} {
		opts := []connect.ClientOption{}
		if p == client.GRPC {
			opts = append(opts, connect.WithGRPC())
		}
		rc := grpcreflect.NewClient(client.HTTPClient(p, true), env.Server.URL, opts...)
		stream := rc.NewStream(ctx)
		names, err := stream.ListServices()
		NoErr(t, err)
		_, _ = stream.Close()
		for _, want := range []protoreflect.FullName{"switchboard.v1.IntegrationService", "switchboard.v1.RoutingService", "switchboard.v1.NotificationService", "grpc.health.v1.Health"} {
			if !slices.Contains(names, want) {
				t.Fatalf("reflection (%v) lists %v, not %s", p, names, want)
			}
		}
	}

	// One port speaks Connect, gRPC and gRPC-Web.
	for _, p := range []client.Protocol{client.Connect, client.GRPC, client.GRPCWeb} {
		if _, err := env.Clients(env.AdminKey, p).Account.GetAccount(ctx, &pb.GetAccountRequest{}); err != nil {
			t.Fatalf("%v: %v", p, err)
		}
	}

	// Plain HTTP GET for side-effect-free RPCs (Connect GET), as curl does.
	req, _ := http.NewRequest(http.MethodGet, env.Server.URL+"/switchboard.v1.DirectoryService/ListChannels?encoding=json&message=%7B%7D", nil)
	req.Header.Set("Authorization", "Bearer "+env.AdminKey)
	res, err = http.DefaultClient.Do(req)
	NoErr(t, err)
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET ListChannels: %d %s", res.StatusCode, body)
	}
}

func TestCORSAndWebPage(t *testing.T) {
	env := New(t, Backends(t)[0], Options{})
	req, _ := http.NewRequest(http.MethodOptions, env.Server.URL+"/switchboard.v1.IntegrationService/GetIntegrationSettings", nil)
	req.Header.Set("Origin", "http://localhost:5173")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,connect-protocol-version,content-type")
	res, err := http.DefaultClient.Do(req)
	NoErr(t, err)
	res.Body.Close()
	if res.Header.Get("Access-Control-Allow-Origin") == "" || !strings.Contains(strings.ToLower(res.Header.Get("Access-Control-Allow-Headers")), "authorization") {
		t.Fatalf("preflight: %d %v", res.StatusCode, res.Header)
	}
	for _, path := range []string{"/", "/settings/anything"} {
		res, err = http.Get(env.Server.URL + path)
		NoErr(t, err)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(body), "<html") {
			t.Fatalf("GET %s: %d %s", path, res.StatusCode, body)
		}
	}
}
