package app_test

import (
	"context"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/accounts"
	"github.com/switchboardhq/switchboard/server/app"
	"github.com/switchboardhq/switchboard/server/client"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/testenv"
)

// With a tracer provider, an RPC is a server span and the database's
// statements it ran are its children.
func TestTracing(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
		st, err := store.Open(context.Background(), store.Config{URL: b.NewURL(t), TracerProvider: tp})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		_, key, err := accounts.Create(context.Background(), st, "Acme", "")
		if err != nil {
			t.Fatal(err)
		}
		srv := testenv.StartServer(t, st, testenv.Options{Configure: func(o *app.Options) { o.TracerProvider = tp }})
		c := client.New(srv.URL, key, client.Connect, nil)
		if _, err := c.Directory.ListEmployees(context.Background(), &pb.ListEmployeesRequest{}); err != nil {
			t.Fatal(err)
		}
		var rpc sdktrace.ReadOnlySpan
		for _, s := range rec.Ended() {
			if s.Name() == "switchboard.v1.DirectoryService/ListEmployees" && s.SpanKind() == trace.SpanKindServer {
				rpc = s
			}
		}
		if rpc == nil {
			t.Fatalf("no server span for ListEmployees among %v", names(rec.Ended()))
		}
		var children []string
		for _, s := range rec.Ended() {
			if s.Parent().SpanID() == rpc.SpanContext().SpanID() && strings.HasPrefix(s.Name(), "sql.") {
				children = append(children, s.Name())
			}
		}
		if len(children) == 0 {
			t.Fatalf("the RPC's span has no database child; spans: %v", names(rec.Ended()))
		}
	})
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name())
	}
	return out
}
