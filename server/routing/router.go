package routing

import (
	"context"

	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/accountsettings"
	"github.com/switchboardhq/switchboard/ent/channel"
	"github.com/switchboardhq/switchboard/ent/contact"
	"github.com/switchboardhq/switchboard/ent/message"
	"github.com/switchboardhq/switchboard/ent/notification"
	"github.com/switchboardhq/switchboard/ent/schema/types"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/bus"
	"github.com/switchboardhq/switchboard/server/convert"
	"github.com/switchboardhq/switchboard/server/directory/snapshot"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/notify"
	"github.com/switchboardhq/switchboard/server/phone"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// Router routes messages. It is safe for concurrent use; every decision is
// made in one database transaction.
type Router struct {
	st     *store.Store
	dir    *snapshot.Cache
	bus    *bus.Bus
	access *accessCache
	// committed is told after a transaction that stored push decisions
	// commits (pos is its log position on PostgreSQL), so live subscribers
	// wake up.
	committed func(accountID, pos int64)
	// crm enqueues CRM writes (nil: none).
	crm CRMWrites
	// jobs schedules reply deadlines (nil: none; deadline.go).
	jobs Jobs
	// w makes the writes that differ by database.
	w writer
	// clock is the time availability is decided at (SPEC §11); tests move
	// it.
	clock func() time.Time
	// chatsChanged is told, after the commit, that an account's chats may
	// wait for an answer differently: a message was stored or a client
	// changed hands.
	chatsChanged func(accountID int64)
	// fault, set only by tests (export_test.go), runs where a timer's work
	// can be cut short: in its transaction after its writes (tx set) and
	// after its commit (tx nil). An error it returns is the work's, as a
	// crash or a lost connection at that point would be.
	fault atomic.Pointer[faultFunc]
}

type faultFunc func(ctx context.Context, tx *ent.Tx, point string) error

// faultAt runs the test's fault at point (nothing outside tests).
func (r *Router) faultAt(ctx context.Context, tx *ent.Tx, point string) error {
	if f := r.fault.Load(); f != nil {
		return (*f)(ctx, tx, point)
	}
	return nil
}

// OnChatsChanged has fn told, after each commit that stored a message or
// moved a client's responsible, the account whose chats changed. Call it
// before serving.
func (r *Router) OnChatsChanged(fn func(accountID int64)) { r.chatsChanged = fn }

// chatsMoved tells of a committed change to the context's account's chats.
func (r *Router) chatsMoved(ctx context.Context) {
	if acct, ok := tenant.FromContext(ctx); ok && r.chatsChanged != nil {
		r.chatsChanged(acct)
	}
}

// SetClock makes the router decide availability (working hours, days off)
// at the times clock gives. Tests set it before routing; the default is
// the wall clock.
func (r *Router) SetClock(clock func() time.Time) { r.clock = clock }

// CRMWrites puts the CRM's side of a decision into the outbox, in the
// decision's transaction (SPEC §8a): kind is the account's CRM kind.
type CRMWrites interface {
	NewClient(ctx context.Context, tx *ent.Tx, kind string, accountID, dealID int64) error
	Responsible(ctx context.Context, tx *ent.Tx, kind string, accountID, clientID int64) error
	// Logged: a message of chatID was stored at; the account's
	// save_messages says what the CRM's feed gets (SPEC §7).
	Logged(ctx context.Context, tx *ent.Tx, as *ent.AccountSettings, chatID int64, at time.Time) error
}

// SetCRMWrites makes the router enqueue CRM writes for accounts linked to
// an external CRM. Call it before serving.
func (r *Router) SetCRMWrites(w CRMWrites) { r.crm = w }

// external reports whether the account's CRM is another system, which
// then hears of the decision through the outbox.
func (r *Router) external(as *ent.AccountSettings) bool {
	return r.crm != nil && as != nil && as.CrmKind != accountsettings.CrmKindNATIVE && as.CrmKind != accountsettings.CrmKindNONE
}

// AccessCacheTTL bounds how long CheckAccess trusts what it remembers
// without reading it again, should a bus message be lost.
const AccessCacheTTL = 2 * time.Second

// NewRouter returns a router over the store, told of other replicas'
// changes by b. committed (optional) is called after every commit that
// stored push decisions.
func NewRouter(st *store.Store, b *bus.Bus, committed func(accountID, pos int64)) *Router {
	if committed == nil {
		committed = func(int64, int64) {}
	}
	r := &Router{st: st, dir: snapshot.NewCache(), bus: b, access: newAccessCache(AccessCacheTTL), committed: committed, w: writers(st)[0], clock: now}
	r.access.watch(st, b)
	return r
}

// told tells the hub about a commit that stored decisions.
func (r *Router) told(ctx context.Context, decisions []*pb.NotificationDecision) {
	acct, ok := tenant.FromContext(ctx)
	if !ok || len(decisions) == 0 {
		return
	}
	c, _ := notify.ParseCursor(decisions[len(decisions)-1].Cursor)
	r.committed(acct, c.Pos)
}

// errDuplicate: a concurrent request with the same gateway message id
// committed first; its answer is the answer.
var errDuplicate = errors.New("routing: duplicate gateway message id")

// Content is what a message says.
type Content struct {
	Text        string
	Attachments []types.Attachment
}

func contentFromPB(c *pb.MessageContent) Content {
	out := Content{Text: c.GetText()}
	for _, a := range c.GetAttachments() {
		out.Attachments = append(out.Attachments, types.Attachment{URL: a.Url, MimeType: a.MimeType, FileName: a.FileName})
	}
	return out
}

// sender identifies a client: its normalized phone or handle, and the key
// incoming messages find it by.
type sender struct {
	identity, phone, handle string
}

// identify normalizes the sender of a message on a channel (SPEC §8). A
// handle is scoped by messenger: the same name on Telegram and Instagram is
// two people.
func identify(phoneIn, handleIn string, kind channel.Kind, plan phone.Options, test bool) (sender, error) {
	if test {
		return sender{identity: testIdentity}, nil
	}
	if phoneIn != "" {
		p, err := phone.Normalize(phoneIn, plan)
		if err != nil {
			return sender{}, errs.Invalid("sender_phone", "%q is not a phone number", clip(phoneIn, 64))
		}
		return sender{identity: p, phone: p}, nil
	}
	h := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(handleIn), "@"))
	if h == "" || strings.ContainsAny(h, " \t\n\r") {
		return sender{}, errs.Invalid("sender_handle", "%q is not a messenger handle", clip(handleIn, 64))
	}
	return sender{identity: strings.ToLower(string(kind)) + ":@" + h, handle: "@" + h}, nil
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// loadSettings reads the account settings and refuses routing when the
// integration was deleted.
func (r *Router) loadSettings(ctx context.Context, c *ent.Client) (*ent.AccountSettings, error) {
	as, err := c.AccountSettings.Query().Only(ctx)
	if err != nil {
		return nil, err
	}
	if as.CrmKind == accountsettings.CrmKindNONE {
		return nil, errs.Precondition("the account has no integration: save the integration settings first")
	}
	return as, nil
}

// channelIn returns a channel of the directory, refusing one that is not
// in the integration.
func channelIn(snap *snapshot.Snapshot, id int64, field string) (*ent.Channel, error) {
	ch := snap.Channels[id]
	if ch == nil {
		return nil, errs.NotFound("channel", id)
	}
	if !ch.InIntegration {
		return nil, errs.Precondition("channel %q is not in the integration: include it first (%s)", ch.Name, field)
	}
	return ch, nil
}

// employeeIn returns an employee of the directory; one created after the
// snapshot was taken is read from the store.
func employeeIn(ctx context.Context, c *ent.Client, snap *snapshot.Snapshot, id int64) (*ent.Employee, error) {
	if e := snap.Employees[id]; e != nil {
		return e, nil
	}
	e, err := c.Employee.Get(ctx, id)
	return e, store.NotFound(err, "employee", id)
}

// current returns the account's directory as of now (for the paths that do
// not read the settings anyway).
func (r *Router) current(ctx context.Context, c *ent.Client) (*snapshot.Snapshot, error) {
	as, err := c.AccountSettings.Query().Select(accountsettings.FieldDirectoryVersion).Only(ctx)
	if err != nil {
		return nil, err
	}
	return r.dir.Get(ctx, c, as.DirectoryVersion)
}

// replay reads back a message the gateway sent before, by direction and
// gateway id: the message, the answer stored with it (into out), and the
// pushes stored with it, in log order.
//
// same says whether the stored message is the one the request describes: a
// gateway id used for another message (another channel or sender, another
// employee or chat) is ALREADY_EXISTS, and nothing of the stored one is
// shown.
func (r *Router) replay(ctx context.Context, dir message.Direction, gatewayID string, out proto.Message,
	same func(*ent.Message) (bool, error)) (*pb.Message, []*pb.NotificationDecision, bool, error) {
	if gatewayID == "" {
		return nil, nil, false, nil
	}
	m, err := r.st.Ent.Message.Query().Where(message.DirectionEQ(dir), message.GatewayMessageID(gatewayID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, err
	}
	if ok, err := same(m); err != nil || !ok {
		if err == nil {
			err = errs.New(errs.ErrConflict, "gateway message id %q was used for another message: give every message its own id (unique per account and direction)", clip(gatewayID, 64))
		}
		return nil, nil, false, err
	}
	if len(m.Decision) == 0 {
		return nil, nil, false, fmt.Errorf("message %d has no stored decision", m.ID)
	}
	if err := proto.Unmarshal(m.Decision, out); err != nil {
		return nil, nil, false, err
	}
	ns, err := r.st.Ent.Notification.Query().Where(notification.MessageID(m.ID)).
		Order(ent.Asc(notification.FieldTxid), ent.Asc(notification.FieldID)).All(ctx)
	if err != nil {
		return nil, nil, false, err
	}
	pbs := make([]*pb.NotificationDecision, len(ns))
	for i, n := range ns {
		pbs[i] = notify.ToPB(n)
	}
	return convert.Message(m), pbs, true, nil
}

// findClient finds the client by identity and locks it until the
// transaction ends (a claim or transfer of it waits, and this transaction
// decides on the responsible they would change); nil when it is new. A
// phone number is also looked up in the legacy forms a client may have
// been stored under (phone.Forms); its own form comes first.
func findClient(ctx context.Context, tx *ent.Tx, who sender) (*ent.Contact, error) {
	forms := []string{who.identity}
	if who.phone != "" {
		forms = phone.Forms(who.phone)
	}
	cs, err := store.ForUpdate(tx.Contact.Query().Where(contact.IdentityIn(forms...))).All(ctx)
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	for _, f := range forms {
		for _, c := range cs {
			if c.Identity == f {
				return c, nil
			}
		}
	}
	return cs[0], nil
}

func now() time.Time { return types.Now() }
