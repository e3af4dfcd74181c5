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
	"github.com/riverqueue/river"
	"github.com/rs/cors"

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
	"github.com/switchboardhq/switchboard/server/notify"
	"github.com/switchboardhq/switchboard/server/outbox"
	"github.com/switchboardhq/switchboard/server/routing"
	"github.com/switchboardhq/switchboard/server/secrets"
	"github.com/switchboardhq/switchboard/server/settings"
	"github.com/switchboardhq/switchboard/server/store"
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
	// Clock is the time availability (working hours, days off) is decided
	// at; nil means the wall clock. Tests move it.
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
	// router makes every routing decision of this replica.
	router *routing.Router
}

// EmployeeProcedures are the procedures employee tokens may call; the rest
// need an account API key.
var EmployeeProcedures = auth.Policy{
	switchboardv1connect.AccountServiceGetAccountProcedure:             true,
	switchboardv1connect.DirectoryServiceListChannelsProcedure:         true,
	switchboardv1connect.DirectoryServiceListEmployeesProcedure:        true,
	switchboardv1connect.DirectoryServiceListPipelinesProcedure:        true,
	switchboardv1connect.DirectoryServiceSetPresenceProcedure:          true,
	switchboardv1connect.RoutingServiceRouteOutgoingMessageProcedure:   true,
	switchboardv1connect.RoutingServiceCheckAccessProcedure:            true,
	switchboardv1connect.RoutingServiceListVisibleChatsProcedure:       true,
	switchboardv1connect.RoutingServiceListChatMessagesProcedure:       true,
	switchboardv1connect.RoutingServiceAssignResponsibleProcedure:      true,
	switchboardv1connect.RoutingServiceCloseDealProcedure:              true,
	switchboardv1connect.NotificationServiceSubscribeProcedure:         true,
	switchboardv1connect.NotificationServiceListNotificationsProcedure: true,
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
	if opts.Outbox.Register == nil {
		opts.Outbox.Register = func(ws *river.Workers) {
			crmsync.Register(ws, crmWorkers)
			river.AddWorker(ws, waiting)
		}
		opts.Outbox.Periodic = append(crmsync.Periodic(), routing.WaitingPeriodic())
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

	// Compressing small messages costs more than it saves; large lists and
	// decisions still go compressed to clients that accept it.
	interceptors := connect.WithHandlerOptions(
		connect.WithInterceptors(errs.Interceptor(opts.Logger), a.auth.Interceptor(), a.rules.Interceptor()),
		connect.WithCompressMinBytes(4096),
	)
	st := opts.Store
	a.mount(switchboardv1connect.NewAccountServiceHandler(accounts.NewService(st, a.auth), interceptors))
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
	a.mount(switchboardv1connect.NewDirectoryServiceHandler(dirSvc, interceptors))
	a.hub = notify.NewHub(st, opts.Logger, a.bus, opts.Notify)
	router := routing.NewRouter(st, a.bus, a.hub.Committed)
	if opts.Clock != nil {
		router.SetClock(opts.Clock)
	}
	a.router = router
	waiting.Router = router
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
	a.mount(switchboardv1connect.NewIntegrationServiceHandler(setSvc, interceptors))
	a.mux.Handle(settings.WebhookPath, webhooks.New(st, router, syncOpts, opts.Logger, settings.WebhookPath, opts.PublicURL))
	a.mount(switchboardv1connect.NewRoutingServiceHandler(routing.NewService(router), interceptors))
	a.mount(switchboardv1connect.NewNotificationServiceHandler(notify.NewService(st, a.hub, a.auth), interceptors))

	services := []string{
		switchboardv1connect.AccountServiceName,
		switchboardv1connect.DirectoryServiceName,
		switchboardv1connect.IntegrationServiceName,
		switchboardv1connect.RoutingServiceName,
		switchboardv1connect.NotificationServiceName,
	}
	a.mount(grpchealth.NewHandler(&healthChecker{services: services, store: st.Health()}))
	reflector := grpcreflect.NewStaticReflector(append(services, grpchealth.HealthV1ServiceName)...)
	a.mount(grpcreflect.NewHandlerV1(reflector))
	a.mount(grpcreflect.NewHandlerV1Alpha(reflector))
	a.mux.Handle("/", webHandler())
	if err := out.Start(context.Background()); err != nil {
		return nil, fmt.Errorf("start the outbox: %w", err)
	}
	return a, nil
}

func (a *App) mount(path string, h http.Handler) { a.mux.Handle(path, h) }

// Rules returns the request checks, for tests that every RPC has one.
func (a *App) Rules() validate.Rules { return a.rules }

// Router is the replica's router.
func (a *App) Router() *routing.Router { return a.router }

// Outbox is the replica's outbox: CRM writes are enqueued on it.
func (a *App) Outbox() *outbox.Outbox { return a.out }

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
	err := a.out.Stop(ctx)
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
