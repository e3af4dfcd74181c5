package auth

import (
	"context"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/credential"
	"github.com/switchboardhq/switchboard/ent/employee"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// Policy says which procedures employee tokens may call. Every other
// procedure needs an account API key.
type Policy map[string]bool

// Authenticator checks the Authorization header of every request.
type Authenticator struct {
	db     *ent.Client
	policy Policy
	ttl    time.Duration

	mu    sync.Mutex
	cache map[[32]byte]cached
	// epoch moves with every Forget: a credential read while one happened
	// may be revoked already, so it is not remembered.
	epoch uint64
	// forgot is closed, and replaced, by every Forget: long-lived streams
	// wait on it to check their credential again.
	forgot chan struct{}
	// tell, when set, tells the other replicas to forget too.
	tell func()
}

type cached struct {
	p       Principal
	expires time.Time
}

// NewAuthenticator returns an authenticator over the store. Verified
// credentials are remembered for ttl (0: not at all); revocations on this
// server take effect at once, on other replicas within ttl.
func NewAuthenticator(db *ent.Client, policy Policy, ttl time.Duration) *Authenticator {
	return &Authenticator{db: db, policy: policy, ttl: ttl, cache: map[[32]byte]cached{}, forgot: make(chan struct{})}
}

// Forget drops every remembered credential, here and (see Spread) on the
// other replicas, so a revocation or deactivation takes effect on the next
// request.
func (a *Authenticator) Forget() {
	a.forgetHere()
	if a.tell != nil {
		a.tell()
	}
}

func (a *Authenticator) forgetHere() {
	a.mu.Lock()
	clear(a.cache)
	a.epoch++
	close(a.forgot)
	a.forgot = make(chan struct{})
	a.mu.Unlock()
}

// Forgot returns a channel closed at the next Forget, here or on another
// replica: a credential may have been revoked since.
func (a *Authenticator) Forgot() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.forgot
}

// Recheck fails with Unauthenticated when the principal's credential was
// revoked, or its employee deactivated, since it was authenticated: what a
// stream that outlives its first check calls after Forgot (taking the next
// Forgot channel first, so no revocation goes unseen).
func (a *Authenticator) Recheck(ctx context.Context, p Principal) error {
	cred, err := a.db.Credential.Get(tenant.System(ctx), p.CredentialID)
	if ent.IsNotFound(err) {
		return errs.New(errs.ErrUnauthenticated, "invalid or revoked credentials")
	}
	if err != nil {
		return err
	}
	_, err = a.principal(ctx, cred)
	return err
}

// Spread makes Forget reach the other replicas: tell is called on every
// Forget, and the returned function is to be called when another replica
// forgets.
func (a *Authenticator) Spread(tell func()) (heard func()) {
	a.tell = tell
	return a.forgetHere
}

// Authenticate resolves a bearer secret to its principal.
func (a *Authenticator) Authenticate(ctx context.Context, header string) (Principal, error) {
	secret, ok := strings.CutPrefix(header, "Bearer ")
	secret = strings.TrimSpace(secret)
	if !ok || secret == "" {
		return Principal{}, errs.New(errs.ErrUnauthenticated, "missing credentials: send \"Authorization: Bearer <api key or employee token>\"")
	}
	if len(secret) > 200 {
		return Principal{}, errs.New(errs.ErrUnauthenticated, "invalid credentials")
	}
	hash := Hash(secret)
	key := [32]byte(hash)
	now := time.Now()
	var epoch uint64
	if a.ttl > 0 {
		a.mu.Lock()
		c, hit := a.cache[key]
		epoch = a.epoch
		a.mu.Unlock()
		if hit && now.Before(c.expires) {
			return c.p, nil
		}
	}
	sys := tenant.System(ctx)
	cred, err := a.db.Credential.Query().Where(credential.SecretHash(hash)).Only(sys)
	if ent.IsNotFound(err) {
		return Principal{}, errs.New(errs.ErrUnauthenticated, "invalid or revoked credentials")
	}
	if err != nil {
		return Principal{}, err
	}
	p, err := a.principal(ctx, cred)
	if err != nil {
		return Principal{}, err
	}
	if a.ttl > 0 {
		a.mu.Lock()
		if len(a.cache) > 100_000 {
			clear(a.cache)
		}
		if a.epoch == epoch {
			a.cache[key] = cached{p: p, expires: now.Add(a.ttl)}
		}
		a.mu.Unlock()
	}
	return p, nil
}

// principal is who a stored credential speaks for, unless it is revoked or
// its employee deactivated.
func (a *Authenticator) principal(ctx context.Context, cred *ent.Credential) (Principal, error) {
	if cred.RevokedAt != nil {
		return Principal{}, errs.New(errs.ErrUnauthenticated, "invalid or revoked credentials")
	}
	p := Principal{AccountID: cred.AccountID, Kind: APIKey, CredentialID: cred.ID, RateLimit: int(cred.RateLimit)}
	if cred.Kind != credential.KindEMPLOYEE_TOKEN {
		return p, nil
	}
	if cred.EmployeeID == nil {
		return Principal{}, errs.New(errs.ErrUnauthenticated, "invalid credentials")
	}
	p.Kind = EmployeeToken
	p.EmployeeID = *cred.EmployeeID
	active, err := a.db.Employee.Query().
		Where(employee.ID(p.EmployeeID), employee.AccountID(p.AccountID), employee.Active(true)).
		Exist(tenant.System(ctx))
	if err != nil {
		return Principal{}, err
	}
	if !active {
		return Principal{}, errs.New(errs.ErrUnauthenticated, "the token's employee is deactivated")
	}
	return p, nil
}

func (a *Authenticator) authorize(ctx context.Context, procedure, header string) (context.Context, error) {
	p, err := a.Authenticate(ctx, header)
	if err != nil {
		return ctx, err
	}
	if p.IsEmployee() && !a.policy[procedure] {
		return ctx, errs.Forbidden("an employee token cannot call %s: it needs an account API key", procedure)
	}
	return NewContext(ctx, p), nil
}

// Interceptor returns the Connect interceptor that authenticates every call.
func (a *Authenticator) Interceptor() connect.Interceptor { return interceptor{a} }

type interceptor struct{ a *Authenticator }

func (i interceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		ctx, err := i.a.authorize(ctx, req.Spec().Procedure, req.Header().Get("Authorization"))
		if err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

func (i interceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (i interceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		// Taken before the check, so that a revocation after it closes it.
		forgot := i.a.Forgot()
		ctx, err := i.a.authorize(ctx, conn.Spec().Procedure, conn.RequestHeader().Get("Authorization"))
		if err != nil {
			return err
		}
		return next(context.WithValue(ctx, forgotKey{}, forgot), conn)
	}
}

type forgotKey struct{}

// Forgotten returns, for a stream, a channel closed at the first Forget
// since its credential was checked (nil, never closed, elsewhere). A stream
// that outlives its check waits on it, then calls Recheck.
func Forgotten(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(forgotKey{}).(<-chan struct{})
	return ch
}

// Caller returns the request's principal; handlers run behind the
// interceptor, so it is always there.
func Caller(ctx context.Context) Principal {
	p, _ := FromContext(ctx)
	return p
}

// ActingEmployee resolves which employee a request acts as. With an employee
// token that is the token's employee, and a different requested id is
// refused. With an API key it is the requested id (0 when empty).
func ActingEmployee(ctx context.Context, requested int64) (int64, error) {
	p := Caller(ctx)
	if !p.IsEmployee() {
		return requested, nil
	}
	if requested != 0 && requested != p.EmployeeID {
		return 0, errs.Forbidden("an employee token acts only as its own employee")
	}
	return p.EmployeeID, nil
}
