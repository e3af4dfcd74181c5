package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"connectrpc.com/connect"
	connectcors "connectrpc.com/cors"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"connectrpc.com/otelconnect"
	"connectrpc.com/vanguard"
	"github.com/riverqueue/river"
	"github.com/rs/cors"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/switchboardhq/switchboard"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/gen/switchboard/v1/switchboardv1connect"
	"github.com/switchboardhq/switchboard/server/accounts"
	"github.com/switchboardhq/switchboard/server/auth"
	"github.com/switchboardhq/switchboard/server/bus"
	"github.com/switchboardhq/switchboard/server/crm"
	_ "github.com/switchboardhq/switchboard/server/crm/amocrm"    // registers amoCRM and Kommo
	_ "github.com/switchboardhq/switchboard/server/crm/bitrix24"  // registers Bitrix24
	_ "github.com/switchboardhq/switchboard/server/crm/hubspot"   // registers HubSpot
	_ "github.com/switchboardhq/switchboard/server/crm/pipedrive" // registers Pipedrive
	_ "github.com/switchboardhq/switchboard/server/crm/zoho"      // registers Zoho CRM
	"github.com/switchboardhq/switchboard/server/crmsync"
	"github.com/switchboardhq/switchboard/server/directory"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/metrics"
	"github.com/switchboardhq/switchboard/server/notify"
	"github.com/switchboardhq/switchboard/server/outbox"
	"github.com/switchboardhq/switchboard/server/preview"
	"github.com/switchboardhq/switchboard/server/ratelimit"
	"github.com/switchboardhq/switchboard/server/routing"
	"github.com/switchboardhq/switchboard/server/secrets"
	"github.com/switchboardhq/switchboard/server/settings"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/supervise"
	"github.com/switchboardhq/switchboard/server/validate"
	"github.com/switchboardhq/switchboard/server/webhooks"
)

// Options configure the server.
type Options struct {
	Store  *store.Store
	Logger *slog.Logger
	// AuthCacheTTL is how long a verified credential is remembered. A
	// revocation takes effect at once on the replica that made it and within
	// this time on others.
	AuthCacheTTL time.Duration
	// CORSOrigins are the browser origins allowed to call the API; empty or
	// "*" allows any (the API uses bearer credentials, not cookies).
	CORSOrigins []string
	// Notify tunes the push-decision streams.
	Notify notify.Options
	// Supervise tunes how unanswered counters reach the streams.
	Supervise supervise.WatchOptions
	// HistoryRetention: assignment history entries older than this are
	// deleted hourly (0: a year; negative: kept forever).
	HistoryRetention time.Duration
	// SecretKey seals stored CRM tokens (32 bytes); without it CRMs cannot
	// be connected.
	SecretKey []byte
	// PublicURL is where CRMs reach this server, for their webhook URL.
	PublicURL string
	// CRMAllowAnyHost lets a CRM live at any address (a fake CRM).
	CRMAllowAnyHost bool
	// CRMHTTP is the HTTP client for CRM calls (nil: the default).
	CRMHTTP *http.Client
	// CRMLimits replace the request ceilings CRM connectors registered,
	// per kind (a CRM plan with a higher one).
	CRMLimits map[crm.Kind]outbox.Limit
	// CRMSettle is how long a CRM write whose outcome is unknown waits
	// before it is looked for and retried (default 10 s).
	CRMSettle time.Duration
	// Outbox tunes the workers that deliver writes to the CRMs.
	Outbox outbox.Config
	// RateLimit tunes the requests each credential may make (default 500
	// per 5 s; Limit < 0: none but the keys' own).
	RateLimit ratelimit.Config
	// Metrics receive the server's figures (nil: a registry of its own).
	Metrics *metrics.Metrics
	// TracerProvider, when set, traces every RPC (OpenTelemetry); give the
	// store the same one to trace its statements as children. Nil: no
	// tracing, at no cost.
	TracerProvider trace.TracerProvider
	// Clock is the time availability (working hours, days off, presence
	// from streams) is decided at; nil means the wall clock. Tests move
	// it.
	Clock func() time.Time
}

// App is a wired server.
type App struct {
	opts  Options
	bus   *bus.Bus
	hub   *notify.Hub
	out   *outbox.Outbox
	auth  *auth.Authenticator
	rules validate.Rules
	mux   *http.ServeMux
	// rest are the services the REST mapping serves (see RESTPrefix).
	rest []*vanguard.Service
	// router makes every routing decision of this replica.
	router *routing.Router
	// metrics are this replica's figures; stopEvents ends their reading
	// of the outbox's events.
	metrics    *metrics.Metrics
	stopEvents func()
	// watcher pushes unanswered counters to the streams.
	watcher *supervise.Watcher
}

// EmployeeProcedures are the procedures employee tokens may call; the rest
// need an account API key.
var EmployeeProcedures = auth.Policy{
	switchboardv1connect.AccountServiceGetAccountProcedure:                true,
	switchboardv1connect.DirectoryServiceListChannelsProcedure:            true,
	switchboardv1connect.DirectoryServiceListEmployeesProcedure:           true,
	switchboardv1connect.DirectoryServiceSetPresenceProcedure:             true,
	switchboardv1connect.DirectoryServiceListPipelinesProcedure:           true,
	switchboardv1connect.RoutingServiceRouteOutgoingMessageProcedure:      true,
	switchboardv1connect.RoutingServiceCheckAccessProcedure:               true,
	switchboardv1connect.RoutingServiceListVisibleChatsProcedure:          true,
	switchboardv1connect.RoutingServiceListChatMessagesProcedure:          true,
	switchboardv1connect.RoutingServiceAssignResponsibleProcedure:         true,
	switchboardv1connect.RoutingServiceCloseDealProcedure:                 true,
	switchboardv1connect.NotificationServiceSubscribeProcedure:            true,
	switchboardv1connect.NotificationServiceListNotificationsProcedure:    true,
	switchboardv1connect.SupervisionServiceGetUnansweredCountersProcedure: true,
}

// New wires the server.
func New(opts Options) (*App, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	a := &App{opts: opts, rules: validate.Rules{}, mux: http.NewServeMux()}
	if opts.Outbox.Logger == nil {
		opts.Outbox.Logger = opts.Logger
	}
	// The CRM workers run the syncer, made below once the router exists.
	crmWorkers := &crmsync.Workers{}
	// The waiting line's timer (routing/waitingjob.go), the same way.
	waiting := &routing.WaitingWorker{}
	deadlines := &routing.DeadlineWorker{}
	if opts.Outbox.Register == nil {
		opts.Outbox.Register = func(ws *river.Workers) {
			crmsync.Register(ws, crmWorkers)
			supervise.Register(ws, opts.Store.Ent, opts.HistoryRetention)
			river.AddWorker(ws, waiting)
			river.AddWorker(ws, deadlines)
		}
		opts.Outbox.Periodic = append(crmsync.Periodic(), append(supervise.Periodic(opts.HistoryRetention), routing.WaitingPeriodic())...)
	}
	out, err := outbox.New(opts.Store, opts.Outbox)
	if err != nil {
		return nil, err
	}
	a.out = out
	a.bus = bus.New(opts.Store, opts.Logger)
	a.auth = auth.NewAuthenticator(opts.Store.Ent, EmployeeProcedures, opts.AuthCacheTTL)
	heard := a.auth.Spread(func() { a.bus.Publish(bus.Credentials, "") })
	a.bus.Handle(bus.Credentials, func(string) { heard() })
	a.bus.OnReconnect(heard)

	accounts.Rules(a.rules)
	directory.Rules(a.rules)
	settings.Rules(a.rules)
	routing.Rules(a.rules)
	notify.Rules(a.rules)
	supervise.Rules(a.rules)
	preview.Rules(a.rules)

	if opts.Metrics == nil {
		opts.Metrics = metrics.New()
	}
	a.metrics = opts.Metrics
	a.metrics.WatchDB(opts.Store.DB)
	// Outermost first: the trace's span around everything, the metrics
	// outside the error mapping (they count the codes callers get), the
	// rate limit once the caller is known.
	var chain []connect.Interceptor
	if opts.TracerProvider != nil {
		otel, err := otelconnect.NewInterceptor(otelconnect.WithTracerProvider(opts.TracerProvider), otelconnect.WithoutMetrics(),
			otelconnect.WithPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})))
		if err != nil {
			return nil, err
		}
		chain = append(chain, otel)
	}
	limiter := ratelimit.New(opts.Store.Limits(), opts.RateLimit)
	chain = append(chain, a.metrics.Interceptor(), errs.Interceptor(opts.Logger), a.auth.Interceptor(), limiter.Interceptor(), a.rules.Interceptor())
	// Compressing small messages costs more than it saves; large lists and
	// decisions still go compressed to clients that accept it.
	interceptors := connect.WithHandlerOptions(
		connect.WithInterceptors(chain...),
		connect.WithCompressMinBytes(4096),
	)
	st := opts.Store
	a.service(switchboardv1connect.NewAccountServiceHandler(accounts.NewService(st, a.auth), interceptors))
	// Someone may have become available for waiting clients (SPEC §11):
	// hand them out after the change commits. A failure is logged; the
	// clients keep waiting and the next change or message retries.
	assignWaiting := func(ctx context.Context) {
		if _, err := a.router.AssignWaitingAll(ctx); err != nil && ctx.Err() == nil {
			opts.Logger.Error("assigning waiting clients", "err", err)
		}
	}
	dirSvc := directory.NewService(st, a.auth)
	dirSvc.OnOnline(assignWaiting)
	a.service(switchboardv1connect.NewDirectoryServiceHandler(dirSvc, interceptors))
	a.hub = notify.NewHub(st, opts.Logger, a.bus, opts.Notify)
	router := routing.NewRouter(st, a.bus, a.hub.Committed)
	if opts.Clock != nil {
		router.SetClock(opts.Clock)
	}
	a.router = router
	waiting.Router = router
	deadlines.Router = router
	router.SetJobs(out)
	sealer, err := secrets.New(opts.SecretKey)
	if err != nil {
		return nil, err
	}
	syncOpts := crmsync.Options{Sealer: sealer, AllowAnyHost: opts.CRMAllowAnyHost, HTTP: opts.CRMHTTP, Pacer: out.Pacer(),
		Settle: opts.CRMSettle, Limits: opts.CRMLimits, PublicURL: opts.PublicURL}
	if opts.Outbox.JobTimeout > 0 {
		syncOpts.Lease = 2 * opts.Outbox.JobTimeout
	}
	crmWorkers.Syncer = crmsync.New(st, syncOpts, router)
	router.SetCRMWrites(crmsync.Enqueuer{Out: out})
	crmOpts := settings.CRMOptions{Options: syncOpts, Outbox: out, Deactivated: a.auth.Forget}
	setSvc := settings.NewService(st, router, crmOpts)
	setSvc.OnSaved(assignWaiting)
	a.service(switchboardv1connect.NewIntegrationServiceHandler(setSvc, interceptors))
	a.mux.Handle(settings.WebhookPath, webhooks.New(st, router, syncOpts, opts.Logger, settings.WebhookPath, opts.PublicURL))
	a.service(switchboardv1connect.NewRoutingServiceHandler(routing.NewService(router), interceptors))
	a.watcher = supervise.NewWatcher(st, a.bus, opts.Logger, opts.Supervise)
	router.OnChatsChanged(a.watcher.Changed)
	// An employee opening a stream after its streams had all closed may
	// count as available again (SPEC §11, presence from streams).
	notifySvc := notify.NewService(st, a.hub, a.auth).WithCounters(a.watcher).WithClock(opts.Clock).OnBack(assignWaiting)
	a.service(switchboardv1connect.NewNotificationServiceHandler(notifySvc, interceptors))
	a.service(switchboardv1connect.NewSupervisionServiceHandler(supervision{supervise.NewService(st), preview.NewService(st)}, interceptors))
	// REST (the protos' google.api.http paths, all under /v1/) is
	// transcoded by vanguard into Connect calls of the same handlers, so
	// it passes the same interceptors; Connect, gRPC and gRPC-Web requests
	// never reach the transcoder.
	rest, err := vanguard.NewTranscoder(a.rest)
	if err != nil {
		return nil, fmt.Errorf("REST mapping: %w", err)
	}
	a.mux.Handle(RESTPrefix, rest)
	a.mux.HandleFunc("GET "+OpenAPIPath, serveOpenAPI)

	services := []string{
		switchboardv1connect.AccountServiceName,
		switchboardv1connect.DirectoryServiceName,
		switchboardv1connect.IntegrationServiceName,
		switchboardv1connect.RoutingServiceName,
		switchboardv1connect.NotificationServiceName,
		switchboardv1connect.SupervisionServiceName,
	}
	a.mount(grpchealth.NewHandler(&healthChecker{services: services, store: st.Health()}))
	reflector := grpcreflect.NewStaticReflector(append(services, grpchealth.HealthV1ServiceName)...)
	a.mount(grpcreflect.NewHandlerV1(reflector))
	a.mount(grpcreflect.NewHandlerV1Alpha(reflector))
	a.mux.Handle("/", webHandler())
	events, stop := out.Events()
	a.stopEvents = stop
	a.metrics.WatchOutbox(events)
	if err := out.Start(context.Background()); err != nil {
		return nil, fmt.Errorf("start the outbox: %w", err)
	}
	return a, nil
}

func (a *App) mount(path string, h http.Handler) { a.mux.Handle(path, h) }

// service mounts a switchboard.v1 service and serves it over REST too.
func (a *App) service(path string, h http.Handler) {
	a.mount(path, h)
	a.rest = append(a.rest, vanguard.NewService(path, h))
}

// RESTPrefix starts every path of the REST mapping; OpenAPIPath serves its
// OpenAPI document, without credentials.
const (
	RESTPrefix  = "/v1/"
	OpenAPIPath = "/openapi.json"
)

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(switchboard.OpenAPI)
}

// supervision is SupervisionService: counters and history, and the
// settings preview (which saves a proposal and rolls it back, so it lives
// beside settings rather than below it).
type supervision struct {
	*supervise.Service
	preview *preview.Service
}

func (s supervision) PreviewSettings(ctx context.Context, req *pb.PreviewSettingsRequest) (*pb.PreviewSettingsResponse, error) {
	return s.preview.PreviewSettings(ctx, req)
}

// Rules returns the request checks, for tests that every RPC has one.
func (a *App) Rules() validate.Rules { return a.rules }

// Router is the replica's router.
func (a *App) Router() *routing.Router { return a.router }

// Outbox is the replica's outbox: CRM writes are enqueued on it.
func (a *App) Outbox() *outbox.Outbox { return a.out }

// Metrics are the replica's figures: serve Metrics().Handler() as /metrics.
func (a *App) Metrics() *metrics.Metrics { return a.metrics }

// Hub is the replica's notification hub.
func (a *App) Hub() *notify.Hub { return a.hub }

// Handler returns the server's HTTP handler, with CORS.
// AccessCacheStats says how many CheckAccess calls this replica answered
// from memory and how many read the database.
func (a *App) AccessCacheStats() (answered, read uint64) { return a.router.AccessCacheStats() }

func (a *App) Handler() http.Handler {
	origins := a.opts.CORSOrigins
	if len(origins) == 0 {
		origins = []string{"*"}
	}
	return cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: connectcors.AllowedMethods(),
		AllowedHeaders: append(connectcors.AllowedHeaders(), "Authorization"),
		ExposedHeaders: connectcors.ExposedHeaders(),
		MaxAge:         7200,
	}).Handler(a.mux)
}

// Close ends every notification stream cleanly and stops background work:
// the outbox's running jobs get until ctx ends to finish, then are
// cancelled (and retried by another replica or the next start). Call it
// before shutting the HTTP server down, which waits for streams.
func (a *App) Close(ctx context.Context) error {
	a.hub.Close()
	a.watcher.Close()
	err := a.out.Stop(ctx)
	a.stopEvents()
	a.bus.Close()
	return err
}

// healthChecker answers the gRPC health check: SERVING while the database
// answers, NOT_SERVING while it cannot be reached (a readiness view: a
// load balancer stops sending traffic and resumes by itself).
type healthChecker struct {
	services []string
	store    *store.Health
}

func (h *healthChecker) Check(ctx context.Context, req *grpchealth.CheckRequest) (*grpchealth.CheckResponse, error) {
	if req.Service != "" && !slices.Contains(h.services, req.Service) {
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("unknown service %q", req.Service))
	}
	if !h.store.OK(ctx) {
		return &grpchealth.CheckResponse{Status: grpchealth.StatusNotServing}, nil
	}
	return &grpchealth.CheckResponse{Status: grpchealth.StatusServing}, nil
}
