package settings

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/accountsettings"
	"github.com/switchboardhq/switchboard/ent/assignmentevent"
	"github.com/switchboardhq/switchboard/ent/channel"
	"github.com/switchboardhq/switchboard/ent/contact"
	"github.com/switchboardhq/switchboard/ent/crmconnection"
	"github.com/switchboardhq/switchboard/ent/deal"
	"github.com/switchboardhq/switchboard/ent/stage"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/convert"
	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crmsync"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/outbox"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/supervise"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// CRMOptions say how the server reaches external CRMs: the sealer (without
// a key, connecting is refused), whether a CRM may live at any address,
// the HTTP client.
type CRMOptions struct {
	crmsync.Options
	// Outbox holds the writes to the CRM, for their sync state.
	Outbox *outbox.Outbox
	// Deactivated is told after a refresh deactivated employees, so their
	// remembered tokens stop working at once.
	Deactivated func()
}

// WebhookPath is where CRM webhooks arrive: WebhookPath + the connection's
// webhook key.
const WebhookPath = crmsync.WebhookPath

// callTimeout bounds one connect or refresh's calls to the CRM.
const callTimeout = 30 * time.Second

// Connection is an external CRM to link: its kind, its address and a
// long-lived token.
type Connection struct {
	Kind           crm.Kind
	BaseURL, Token string
	// WebhookSecret is the key the CRM signs its webhooks with ("": none).
	WebhookSecret string
}

// Connect links the account to an external CRM (see the contract): it
// reads the CRM's directory, then stores the sealed token and applies the
// directory in one transaction.
func Connect(ctx context.Context, st *store.Store, o CRMOptions, c Connection) (*pb.ConnectCrmResponse, error) {
	kind := c.Kind
	if !crm.Supported(kind) {
		return nil, errs.Invalid("crm_kind", "connecting %s is not available: %s are", kind, supportedKinds())
	}
	if !o.Sealer.HasKey() {
		return nil, errs.Precondition("this server cannot store CRM credentials: start it with --secret-key (or SWITCHBOARD_SECRET_KEY) set to 32 random bytes, for example from `openssl rand -base64 32`")
	}
	// A secret the CRM has no use for is refused before the CRM is asked
	// anything: whatever it answers, the request is wrong.
	if c.WebhookSecret != "" && !crm.Signs(kind) {
		return nil, errs.Invalid("webhook_secret", "%s does not sign its webhooks with a secret of its own: leave it empty", kind)
	}
	acct, _ := tenant.FromContext(ctx)
	// What the admin pasted may put a secret where the address goes (a
	// Bitrix24 webhook URL): errors name the host at most.
	baseURL, token, err := crm.Credentials(kind, c.BaseURL, c.Token)
	if errors.Is(err, crm.ErrBadAddress) {
		return nil, errs.Invalid("base_url", "%v: use %s", err, crm.AddressHint(kind))
	}
	if err != nil {
		return nil, errs.Invalid("token", "%v", err)
	}
	conn, err := crm.Open(crm.Config{Kind: kind, BaseURL: baseURL, Token: token, AllowAnyHost: o.AllowAnyHost, HTTP: o.HTTP,
		Meter: crmsync.BudgetMeter(o.Options, kind, acct)})
	if err != nil {
		return nil, errs.Invalid("base_url", "%s is not an address of %s: use %s", hostOf(baseURL), kind, crm.AddressHint(kind))
	}
	dir, err := readDirectory(ctx, conn)
	if err != nil {
		return nil, err
	}
	// Where the address does not name the CRM account (HubSpot, Zoho),
	// its own id tells a reconnect to another one apart. Unread, it is
	// unknown, and the ids are kept as before.
	actx, cancel := context.WithTimeout(ctx, callTimeout)
	crmAccount, err := crm.AccountOf(actx, conn)
	cancel()
	if err != nil {
		slog.WarnContext(ctx, "crm: the CRM account's id could not be read; a reconnect to another account at this address keeps the ids",
			"kind", kind, "err", err)
		crmAccount = ""
	}
	sealed, err := o.Sealer.Seal([]byte(token), crmsync.Owner(acct))
	if err != nil {
		return nil, err
	}
	var sealedSecret []byte
	if c.WebhookSecret != "" {
		if sealedSecret, err = o.Sealer.Seal([]byte(c.WebhookSecret), crmsync.Owner(acct)); err != nil {
			return nil, err
		}
	}
	key := make([]byte, 24)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	webhookKey := base64.RawURLEncoding.EncodeToString(key)
	hash := sha256.Sum256([]byte(webhookKey))
	sealedKey, err := o.Sealer.Seal([]byte(webhookKey), crmsync.Owner(acct))
	if err != nil {
		return nil, err
	}
	// A CRM told where to send its changes (crm.Subscriber) signs them with
	// the subscription's token: the webhooks hold it to that one.
	var tokenHash []byte
	if _, ok := conn.(crm.Subscriber); ok {
		sum := sha256.Sum256([]byte(crmsync.SubscriptionToken(webhookKey)))
		tokenHash = sum[:]
	}
	out := &pb.ConnectCrmResponse{Refresh: &pb.RefreshFromCrmResponse{}}
	deactivated := 0
	var prev *ent.CrmConnection
	err = st.Tx(ctx, func(tx *ent.Tx) error {
		// Jobs of the connection replaced write its ids under this lock:
		// they finish first (and their ids are forgotten below), or find
		// the new connection and write nothing.
		if err := st.LockTx(ctx, tx, crmsync.ConnectionLock(acct)); err != nil {
			return err
		}
		as, err := tx.AccountSettings.Query().Only(ctx)
		if err != nil {
			return err
		}
		prev, err = tx.CrmConnection.Query().First(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return err
		}
		if _, err := tx.CrmConnection.Delete().Exec(ctx); err != nil {
			return err
		}
		// The ids the contacts and deals have are the previous CRM's: kept
		// when it is the same CRM again, forgotten otherwise (another
		// company's records count from the same numbers).
		next := &ent.CrmConnection{Kind: crmconnection.Kind(kind), BaseURL: baseURL, CrmAccount: crmAccount}
		if !crmsync.SameCRM(prev, next) {
			if err := tx.Deal.Update().Where(deal.CrmIDNotNil()).ClearCrmID().Exec(ctx); err != nil {
				return err
			}
			if err := tx.Contact.Update().Where(contact.CrmIDNotNil()).ClearCrmID().Exec(ctx); err != nil {
				return err
			}
		}
		now := time.Now()
		err = tx.CrmConnection.Create().SetKind(crmconnection.Kind(kind)).SetBaseURL(baseURL).SetWebhookSecretSealed(sealedSecret).
			SetTokenSealed(sealed).SetWebhookKeyHash(hash[:]).SetWebhookKeySealed(sealedKey).SetWebhookTokenHash(tokenHash).
			SetRefreshedAt(now).SetCrmAccount(crmAccount).Exec(ctx)
		if store.IsUniqueViolation(err) {
			// Connected at the same moment elsewhere: run again, replacing it.
			return fmt.Errorf("connection made concurrently: %w", store.ErrRetry)
		}
		if err != nil {
			return err
		}
		if err := tx.AccountSettings.UpdateOne(as).SetCrmKind(accountsettings.CrmKind(kind)).AddRevision(1).SetUpdatedAt(now).Exec(ctx); err != nil {
			return err
		}
		if deactivated, err = applyDirectory(ctx, tx, dir, out.Refresh); err != nil {
			return err
		}
		if err := summarize(ctx, tx.Client(), out.Refresh); err != nil {
			return err
		}
		out.Settings, err = Load(ctx, tx.Client())
		return err
	})
	if err != nil {
		return nil, err
	}
	if deactivated > 0 && o.Deactivated != nil {
		o.Deactivated()
	}
	out.Refresh.CrmKind = out.Settings.CrmKind
	out.Refresh.RefreshTime = timestamppb.Now()
	out.WebhookUrl = crmsync.WebhookURL(o.PublicURL, webhookKey)
	unsubscribe(ctx, o, prev)
	subscribe(ctx, st, o, conn, webhookKey, hash[:], out.Refresh)
	return out, nil
}

// unsubscribe tells the CRM of a replaced connection prev that was told
// to send its changes here (Zoho's notification channel) to stop, best
// effort: otherwise it goes on sending for up to a day, to a webhook key
// that no longer answers.
func unsubscribe(ctx context.Context, o CRMOptions, prev *ent.CrmConnection) {
	if prev == nil || prev.SubscribedUntil == nil || len(prev.WebhookKeySealed) == 0 {
		return
	}
	key, err := o.Sealer.Open(prev.WebhookKeySealed, crmsync.Owner(prev.AccountID))
	if err != nil {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	conn, err := crmsync.OpenConnection(cctx, prev, o.Options)
	if err == nil {
		err = crmsync.Unsubscribe(cctx, conn, string(key))
	}
	if err != nil {
		slog.InfoContext(ctx, "crm: the replaced connection's subscription could not be closed; it lapses by itself", "kind", prev.Kind, "err", err)
	}
}

// subscribe tells a CRM that sends its changes only where it is told
// (crm.Subscriber) to send them to this server, and remembers until when;
// the outbox renews it from then on. A failure is reported with what the
// connect read, not as the connect's: the connection stands, and the
// next renewal tries again. Only the connection this connect made
// (keyHash) is marked: another connect may have replaced it meanwhile,
// and the channel opened here is not that one's.
func subscribe(ctx context.Context, st *store.Store, o CRMOptions, conn crm.Connector, key string, keyHash []byte, out *pb.RefreshFromCrmResponse) {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	until, ok, err := crmsync.Subscribe(cctx, conn, o.PublicURL, key)
	if !ok {
		return
	}
	if err == nil {
		err = st.Ent.CrmConnection.Update().Where(crmconnection.WebhookKeyHash(keyHash)).SetSubscribedUntil(until).Exec(ctx)
	}
	if errors.Is(err, crmsync.ErrNoPublicURL) {
		// Renewals cannot mend this: say what will.
		out.Findings = append(out.Findings, "the CRM can only send its changes to a full address: start the server with --public-url and connect again, or deals changed there will not come back here")
		return
	}
	if err != nil {
		out.Findings = append(out.Findings, fmt.Sprintf("the CRM could not be told where to send its changes (%v): deals changed there come back here once it is (the server tries every hour)", err))
		// Renewals pick it up: due at once.
		_ = st.Ent.CrmConnection.Update().Where(crmconnection.WebhookKeyHash(keyHash)).SetSubscribedUntil(time.Now()).Exec(context.WithoutCancel(ctx))
	}
}

// supportedKinds lists the CRMs that can be connected ("AMOCRM, KOMMO").
func supportedKinds() string {
	var names []string
	for _, k := range crm.Kinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// hostOf is the scheme and host of an address, quoted: what an error may
// repeat of it.
func hostOf(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return "the address given"
	}
	return strconv.Quote(u.Scheme + "://" + u.Host)
}

// readDirectory reads the CRM's users and pipelines, telling a refused
// token and an unreachable CRM apart.
func readDirectory(ctx context.Context, conn crm.Connector) (crm.Directory, error) {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	dir, err := conn.Directory(cctx)
	switch {
	case err == nil:
		return dir, nil
	case errors.Is(err, crm.ErrUnauthorized):
		return dir, errs.Invalid("token", "the CRM refused the token: it must be a valid long-lived token of an administrator (it may be wrong, expired or revoked)")
	case crm.RetryAfter(err) > 0:
		return dir, errs.New(errs.ErrUnavailable, "the CRM asks to wait %s before the next request: try again then", crm.RetryAfter(err).Round(time.Second))
	case errors.Is(err, crm.ErrUnreachable), ctx.Err() == nil && cctx.Err() != nil:
		return dir, errs.Invalid("base_url", "the CRM at this address did not answer: check the address")
	}
	// What answered is not the CRM's API. No details: the API must not
	// tell a caller what listens where.
	return dir, errs.Invalid("base_url", "what answers at this address is not the CRM's API: check the address")
}

// refreshFromCRM reads the directory from the account's CRM and applies it.
func refreshFromCRM(ctx context.Context, st *store.Store, o CRMOptions, out *pb.RefreshFromCrmResponse) error {
	conn, _, err := crmsync.Open(ctx, st.Ent, o.Options)
	if err != nil {
		return err
	}
	dir, err := readDirectory(ctx, conn)
	if err != nil {
		var e *errs.Error
		if errors.As(err, &e) {
			// The stored connection, not a request field, is what failed.
			return errs.Precondition("refreshing from the CRM failed: %s; connect it again if the token or address changed", e.Message)
		}
		return err
	}
	deactivated := 0
	err = st.Tx(ctx, func(tx *ent.Tx) error {
		var err error
		if deactivated, err = applyDirectory(ctx, tx, dir, out); err != nil {
			return err
		}
		if err := tx.CrmConnection.Update().SetRefreshedAt(time.Now()).Exec(ctx); err != nil {
			return err
		}
		return summarize(ctx, tx.Client(), out)
	})
	if err == nil && deactivated > 0 && o.Deactivated != nil {
		o.Deactivated()
	}
	return err
}

// applyDirectory makes the CRM's users the account's employees and its
// pipelines and stages the account's, in tx, recording what changed in
// out. Employees are never deleted: a user inactive in the CRM or gone
// from it is deactivated. Pipelines and stages gone from the CRM are
// removed unless a channel's new clients still go there, which is reported
// instead. It returns how many employees it deactivated.
func applyDirectory(ctx context.Context, tx *ent.Tx, dir crm.Directory, out *pb.RefreshFromCrmResponse) (int, error) {
	change := func(format string, a ...any) { out.Changes = append(out.Changes, fmt.Sprintf(format, a...)) }
	// access: the changes that change who may see and write chats (an
	// employee deactivated or reactivated), for the assignment history.
	var access []string
	activity := func(format string, a ...any) {
		change(format, a...)
		access = append(access, fmt.Sprintf(format, a...))
	}
	emps, err := tx.Employee.Query().All(ctx)
	if err != nil {
		return 0, err
	}
	byCrm := map[string]*ent.Employee{}
	for _, e := range emps {
		if e.CrmUserID != nil {
			byCrm[*e.CrmUserID] = e
		}
	}
	// An employee made before the CRM was connected (its CRM user id is
	// none of the CRM's) is the CRM user with its e-mail, else its exact
	// name: linked, keeping its channels, rather than doubled.
	inCRM := map[string]bool{}
	for _, u := range dir.Users {
		inCRM[u.ID] = true
	}
	var unlinked []*ent.Employee
	for _, e := range emps {
		if e.CrmUserID == nil || !inCRM[*e.CrmUserID] {
			unlinked = append(unlinked, e)
		}
	}
	link := func(u crm.User) *ent.Employee {
		for _, same := range []func(*ent.Employee) bool{
			func(e *ent.Employee) bool { return u.Email != "" && strings.EqualFold(e.Email, u.Email) },
			func(e *ent.Employee) bool { return e.Name == strings.TrimSpace(u.Name) },
		} {
			for i, e := range unlinked {
				if e != nil && same(e) {
					unlinked[i] = nil
					return e
				}
			}
		}
		return nil
	}
	seen := map[string]bool{}
	for _, u := range dir.Users {
		seen[u.ID] = true
		name := strings.TrimSpace(u.Name)
		if name == "" {
			name = "CRM user " + u.ID
		}
		name, email := clip(name, 200), clip(u.Email, 320)
		e := byCrm[u.ID]
		if e == nil {
			if e = link(u); e != nil {
				if err := tx.Employee.UpdateOne(e).SetCrmUserID(u.ID).Exec(ctx); err != nil {
					return 0, err
				}
				change("linked employee %s to CRM user %s", e.Name, u.ID)
				id := u.ID
				e.CrmUserID = &id
				byCrm[u.ID] = e
			}
		}
		if e == nil {
			if err := tx.Employee.Create().SetName(name).SetEmail(email).SetCrmUserID(u.ID).SetActive(u.Active).Exec(ctx); err != nil {
				return 0, err
			}
			out.EmployeesAdded++
			change("added employee %s", name)
			continue
		}
		upd := tx.Employee.UpdateOne(e)
		dirty := false
		if e.Name != name || e.Email != email {
			upd.SetName(name).SetEmail(email)
			out.EmployeesUpdated++
			change("updated employee %s", name)
			dirty = true
		}
		if e.Active != u.Active {
			upd.SetActive(u.Active)
			dirty = true
			if u.Active {
				out.EmployeesReactivated++
				activity("reactivated employee %s: active in the CRM again", name)
			} else {
				out.EmployeesDeactivated++
				activity("deactivated employee %s: no longer active in the CRM", name)
			}
		}
		if dirty {
			if err := upd.Exec(ctx); err != nil {
				return 0, err
			}
		}
	}
	for _, e := range emps {
		if !e.Active || (e.CrmUserID != nil && seen[*e.CrmUserID]) {
			continue
		}
		// Once a CRM is connected its users are the employees: one that is
		// not (gone from it, or never in it) is deactivated, never deleted.
		if err := tx.Employee.UpdateOne(e).SetActive(false).Exec(ctx); err != nil {
			return 0, err
		}
		out.EmployeesDeactivated++
		activity("deactivated employee %s: not a user of the CRM", e.Name)
	}
	if len(access) > 0 {
		if err := supervise.Record(ctx, tx, supervise.Event{Cause: assignmentevent.CauseSETTINGS_EDIT, Actor: supervise.CRM,
			Explanation: "a refresh from the CRM: " + strings.Join(access, "; "), Changes: access}); err != nil {
			return 0, err
		}
	}
	if err := applyPipelines(ctx, tx, dir.Pipelines, out, change); err != nil {
		return 0, err
	}
	return int(out.EmployeesDeactivated), nil
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

var stageKinds = map[crm.StageKind]stage.Kind{crm.Working: stage.KindOPEN, crm.Incoming: stage.KindINCOMING, crm.Won: stage.KindWON, crm.Lost: stage.KindLOST}

func applyPipelines(ctx context.Context, tx *ent.Tx, pipelines []crm.Pipeline, out *pb.RefreshFromCrmResponse, change func(string, ...any)) error {
	existing, err := tx.Pipeline.Query().WithStages().All(ctx)
	if err != nil {
		return err
	}
	byCrm := map[string]*ent.Pipeline{}
	for _, p := range existing {
		if p.CrmID != nil {
			byCrm[*p.CrmID] = p
		}
	}
	// The main pipeline first: a channel without its own choice starts new
	// clients in the first open stage of the first pipeline.
	ordered := make([]crm.Pipeline, 0, len(pipelines))
	for _, p := range pipelines {
		if p.Main {
			ordered = append(ordered, p)
		}
	}
	for _, p := range pipelines {
		if !p.Main {
			ordered = append(ordered, p)
		}
	}
	keepPipeline, keepStage := map[int64]bool{}, map[int64]bool{}
	for pos, cp := range ordered {
		name := clip(cmpOr(strings.TrimSpace(cp.Name), "Pipeline "+cp.ID), 200)
		p := byCrm[cp.ID]
		if p == nil {
			if p, err = tx.Pipeline.Create().SetName(name).SetPosition(pos).SetCrmID(cp.ID).Save(ctx); err != nil {
				return err
			}
			out.PipelinesChanged++
			change("added pipeline %s", name)
		} else if p.Name != name || p.Position != pos {
			if err := tx.Pipeline.UpdateOne(p).SetName(name).SetPosition(pos).Exec(ctx); err != nil {
				return err
			}
			out.PipelinesChanged++
			change("updated pipeline %s", name)
		}
		keepPipeline[p.ID] = true
		stages := map[string]*ent.Stage{}
		for _, st := range p.Edges.Stages {
			if st.CrmID != nil {
				stages[*st.CrmID] = st
			}
		}
		for spos, cs := range cp.Stages {
			sname := clip(cmpOr(strings.TrimSpace(cs.Name), "Stage "+cs.ID), 200)
			kind := stageKinds[cs.Kind]
			st := stages[cs.ID]
			if st == nil {
				if st, err = tx.Stage.Create().SetPipelineID(p.ID).SetName(sname).SetPosition(spos).SetCrmID(cs.ID).SetKind(kind).Save(ctx); err != nil {
					return err
				}
				if p.Edges.Stages != nil || byCrm[cp.ID] != nil {
					change("added stage %s to %s", sname, name)
				}
			} else if st.Name != sname || st.Position != spos || st.Kind != kind {
				if err := tx.Stage.UpdateOne(st).SetName(sname).SetPosition(spos).SetKind(kind).Exec(ctx); err != nil {
					return err
				}
				change("updated stage %s of %s", sname, name)
			}
			keepStage[st.ID] = true
		}
	}
	// What the CRM no longer has (or never had: pipelines made before the
	// CRM was connected) goes, unless a channel still points there.
	chans, err := tx.Channel.Query().Where(channel.Or(channel.PipelineIDNotNil(), channel.StageIDNotNil())).All(ctx)
	if err != nil {
		return err
	}
	usedPipeline, usedStage := map[int64]string{}, map[int64]string{}
	for _, ch := range chans {
		if ch.PipelineID != nil {
			usedPipeline[*ch.PipelineID] = ch.Name
		}
		if ch.StageID != nil {
			usedStage[*ch.StageID] = ch.Name
		}
	}
	for _, p := range existing {
		for _, st := range p.Edges.Stages {
			if keepStage[st.ID] {
				continue
			}
			if ch, ok := usedStage[st.ID]; ok {
				out.Findings = append(out.Findings, fmt.Sprintf("new clients on channel %s go to stage %s of %s, which the CRM does not have: choose another stage", ch, st.Name, p.Name))
				keepPipeline[p.ID] = true
				continue
			}
			if err := tx.Stage.DeleteOne(st).Exec(ctx); err != nil {
				return err
			}
			change("removed stage %s of %s", st.Name, p.Name)
		}
		if keepPipeline[p.ID] {
			continue
		}
		if ch, ok := usedPipeline[p.ID]; ok {
			out.Findings = append(out.Findings, fmt.Sprintf("new clients on channel %s go to pipeline %s, which the CRM does not have: choose another pipeline", ch, p.Name))
			continue
		}
		if err := tx.Pipeline.DeleteOne(p).Exec(ctx); err != nil {
			return err
		}
		out.PipelinesChanged++
		change("removed pipeline %s", p.Name)
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// connectionToPB converts the stored connection (never its token).
func connectionToPB(c *ent.CrmConnection) *pb.CrmConnection {
	out := &pb.CrmConnection{
		CrmKind:     convert.EnumToPB[pb.CrmKind](pb.CrmKind_value, "CRM_KIND_", c.Kind),
		BaseUrl:     c.BaseURL,
		ConnectTime: convert.Time(c.CreatedAt),
	}
	if c.RefreshedAt != nil {
		out.RefreshTime = convert.Time(*c.RefreshedAt)
	}
	return out
}
