package crmsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/accountsettings"
	"github.com/switchboardhq/switchboard/ent/chat"
	"github.com/switchboardhq/switchboard/ent/contact"
	"github.com/switchboardhq/switchboard/ent/deal"
	"github.com/switchboardhq/switchboard/ent/employee"
	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/outbox"
	"github.com/switchboardhq/switchboard/server/phone"
	"github.com/switchboardhq/switchboard/server/routing"
	"github.com/switchboardhq/switchboard/server/secrets"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// Options say how the server reaches external CRMs.
type Options struct {
	// Sealer opens stored CRM tokens.
	Sealer *secrets.Sealer
	// AllowAnyHost lets a CRM live at any address (a fake CRM).
	AllowAnyHost bool
	// HTTP is the client CRM calls use (nil: each connector's default).
	HTTP *http.Client
	// Pacer, when set, keeps each account's calls within its CRM's rate
	// limit across replicas.
	Pacer *outbox.Pacer
	// PublicURL is where the CRM reaches this server ("https://sb.example.com"),
	// for the webhook URL; empty gives a relative one.
	PublicURL string
	// Limits replace the limits the connectors registered, per kind (a
	// CRM plan with a higher ceiling; a benchmark against a fake).
	Limits map[crm.Kind]outbox.Limit
	// Lease is how long one run may hold a chat or deal (default
	// DefaultLease); more than an outbox attempt may last.
	Lease time.Duration
	// Settle is how long a write whose outcome is unknown (a timeout, a
	// 5xx) holds its chat or deal before the next run looks for it
	// (default DefaultSettle).
	Settle time.Duration
}

// Owner is what a sealed token of an account is bound to.
func Owner(account int64) string { return "account " + strconv.FormatInt(account, 10) }

// Open opens the connection of the context's account to its external CRM;
// errs.ErrFailedPrecondition when there is none or its token does not open.
func Open(ctx context.Context, c *ent.Client, o Options) (crm.Connector, *ent.CrmConnection, error) {
	cc, err := c.CrmConnection.Query().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil, errs.Precondition("the account is not connected to its CRM: connect it first (ConnectCrm)")
	}
	if err != nil {
		return nil, nil, err
	}
	conn, err := OpenConnection(ctx, cc, o)
	return conn, cc, err
}

// OpenConnection opens the stored connection cc of the context's
// account, current or replaced.
func OpenConnection(ctx context.Context, cc *ent.CrmConnection, o Options) (crm.Connector, error) {
	acct, _ := tenant.FromContext(ctx)
	token, err := o.Sealer.Open(cc.TokenSealed, Owner(acct))
	if errors.Is(err, secrets.ErrNoKey) || errors.Is(err, secrets.ErrOpen) {
		return nil, errs.Precondition("the CRM token cannot be opened with this server's secret key (%v): start the server with the key it was stored with, or connect the CRM again", err)
	}
	if err != nil {
		return nil, err
	}
	cfg := crm.Config{Kind: crm.Kind(cc.Kind), BaseURL: cc.BaseURL, Token: string(token), AllowAnyHost: o.AllowAnyHost, HTTP: o.HTTP}
	if o.Pacer != nil {
		limit, ok := o.Limits[cfg.Kind]
		if !ok {
			limit, ok = outbox.LimitOf(cfg.Kind)
		}
		if ok {
			cfg.Limiter = o.Pacer.Limiter(strings.ToLower(string(cfg.Kind)), acct, limit)
		}
		cfg.Limiters = func(name string, r crm.Rate) interface{ Wait(context.Context) error } {
			return o.Pacer.Limiter(strings.ToLower(string(cfg.Kind))+"-"+name, acct, outbox.Limit{PerSecond: r.PerSecond, Burst: r.Burst})
		}
	}
	cfg.Meter = BudgetMeter(o, cfg.Kind, acct)
	conn, err := crm.Open(cfg)
	if err != nil {
		return nil, errs.Precondition("the stored CRM address %q is not usable: %v", cc.BaseURL, err)
	}
	return conn, nil
}

// SameCRM reports whether connection b reaches the same CRM account as a,
// so that the CRM ids a's contacts and deals were linked to hold in b:
// the same kind and address, and, where the address does not name the
// account (HubSpot, Zoho), the same account id. An account id not known
// on either side (a connection made before it was read) counts as the
// same.
func SameCRM(a, b *ent.CrmConnection) bool {
	if a == nil || b == nil || a.Kind != b.Kind || a.BaseURL != b.BaseURL {
		return false
	}
	return a.CrmAccount == "" || b.CrmAccount == "" || a.CrmAccount == b.CrmAccount
}

// ConnectionLock is the name of the lock (Store.LockTx) that a change of
// the account's CRM connection and a write of CRM ids on its clients
// take, so that ids of a connection just replaced are never written.
func ConnectionLock(account int64) int64 { return 0x534243_00000000 ^ account }

// BudgetMeter counts what an account spends of its CRM's daily budget
// (Zoho's API credits) for every replica together; nil without a pacer.
func BudgetMeter(o Options, kind crm.Kind, account int64) crm.Meter {
	if o.Pacer == nil {
		return nil
	}
	return o.Pacer.Meter(strings.ToLower(string(kind))+"-budget", account)
}

// Router is how a step changes a responsible here: as a transfer, with its
// pushes.
type Router interface {
	AssignFromCRM(ctx context.Context, chatID, employeeID int64) error
}

// Syncer runs the steps.
type Syncer struct {
	st     *store.Store
	o      Options
	router Router
}

// New returns a syncer.
func New(st *store.Store, o Options, router Router) *Syncer {
	return &Syncer{st: st, o: o, router: router}
}

// Marker tags a new client's deal in the CRM, so a retry finds it.
func Marker(dealID int64) string { return "#sb" + strconv.FormatInt(dealID, 10) }

// NewClient creates a new client's contact and deal in the CRM (SPEC §4,
// §8a) and links them to the local ones. A contact with the client's phone
// that the CRM has already is reused and keeps its CRM responsible, which
// then becomes the responsible here too. retry says that an earlier run
// failed: it may have created the deal, so it is looked for first. ctx is
// scoped to the deal's account.
func (s *Syncer) NewClient(ctx context.Context, dealID int64, retry bool) (err error) {
	c := s.st.Ent
	d, err := c.Deal.Get(ctx, dealID)
	if ent.IsNotFound(err) {
		return nil // the client was removed meanwhile (the test client)
	}
	if err != nil || d.CrmID != nil {
		return err
	}
	// One run at a time per deal: a second one (a job rescued while the
	// first still runs) waits rather than creating the deal twice. A lease
	// left behind is a run that died: it may have created the deal.
	retry = retry || d.CrmSyncUntil != nil
	now := time.Now()
	n, err := c.Deal.Update().Where(deal.ID(dealID), deal.CrmIDIsNil(),
		deal.Or(deal.CrmSyncUntilIsNil(), deal.CrmSyncUntilLT(now))).SetCrmSyncUntil(now.Add(s.lease())).Save(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		if d, err = c.Deal.Get(ctx, dealID); err != nil || d.CrmID != nil {
			return err
		}
		return ErrBusy
	}
	defer func() {
		bg := context.WithoutCancel(ctx)
		s.release(err,
			func(time.Time) error { return c.Deal.UpdateOneID(dealID).ClearCrmSyncUntil().Exec(bg) },
			func(until time.Time) error { return c.Deal.UpdateOneID(dealID).SetCrmSyncUntil(until).Exec(bg) })
	}()
	ct, err := c.Contact.Get(ctx, d.ContactID)
	if err != nil {
		return err
	}
	as, err := c.AccountSettings.Query().Only(ctx)
	if err != nil {
		return err
	}
	if as.CrmKind == accountsettings.CrmKindNATIVE || as.CrmKind == accountsettings.CrmKindNONE {
		return nil // the store is the CRM
	}
	conn, cc, err := Open(ctx, c, s.o)
	if err != nil {
		return err
	}
	ch, err := c.Channel.Get(ctx, d.ChannelID)
	if err != nil {
		return err
	}
	rec := crm.ClientRecord{Marker: Marker(d.ID), Name: ct.Name, Phone: ct.Phone, DealName: fmt.Sprintf("%s, %s", ct.Name, ch.Name)}
	if d.PipelineID != nil {
		if p, err := c.Pipeline.Get(ctx, *d.PipelineID); err == nil && p.CrmID != nil {
			rec.PipelineID = *p.CrmID
		}
	}
	if d.StageID != nil {
		if st, err := c.Stage.Get(ctx, *d.StageID); err == nil && st.CrmID != nil {
			rec.StageID = *st.CrmID
		}
	}
	sent := ct.ResponsibleID
	if sent != nil {
		if e, err := c.Employee.Get(ctx, *sent); err == nil && e.CrmUserID != nil {
			rec.ResponsibleID = *e.CrmUserID
		}
	}
	if retry {
		ref, err := conn.FindCreated(ctx, rec)
		if err != nil {
			return err
		}
		if ref != nil {
			// The deal may have gone to the responsible of a contact the
			// CRM had already (the run that made it knew): the CRM's
			// responsible, when it is not the one sent, is the client's.
			st, err := conn.Deal(ctx, ref.DealID)
			if err != nil {
				return err
			}
			crmResponsible := ""
			if st.ResponsibleID != "" && st.ResponsibleID != "0" && st.ResponsibleID != rec.ResponsibleID {
				crmResponsible = st.ResponsibleID
			}
			return s.link(ctx, cc, d, ct, *ref, crmResponsible, sent)
		}
	}
	crmResponsible := ""
	switch {
	case ct.CrmID != nil:
		rec.ContactID = *ct.CrmID
	case ct.Phone != "":
		opts := phone.ForAccount(as.HomeRegion, as.Convert8ToPlus7)
		forms := phone.Forms(ct.Phone)
		same := func(raw string) bool {
			e, err := phone.Normalize(raw, opts)
			if err != nil {
				return false
			}
			for _, f := range forms {
				if e == f {
					return true
				}
			}
			return false
		}
		found, err := conn.FindContact(ctx, ct.Phone, same)
		if err != nil {
			return err
		}
		if found != nil {
			rec.ContactID = found.ID
			if found.ResponsibleID != "" && found.ResponsibleID != "0" {
				rec.ResponsibleID, crmResponsible = found.ResponsibleID, found.ResponsibleID
			}
		}
	}
	ref, err := conn.CreateClient(ctx, rec)
	if err != nil {
		return err
	}
	return s.link(ctx, cc, d, ct, ref, crmResponsible, sent)
}

// link records the CRM's ids of the deal and contact, made through the
// connection made; then makes the client's responsible here the CRM's (a
// contact the CRM had already), or tells the CRM of a responsible changed
// here while the deal was being created. When the account has connected
// another CRM since (or none), the ids are the old CRM's: nothing is
// linked.
func (s *Syncer) link(ctx context.Context, made *ent.CrmConnection, d *ent.Deal, ct *ent.Contact, ref crm.ClientRef, crmResponsible string, sent *int64) error {
	stale := false
	err := s.st.Tx(ctx, func(tx *ent.Tx) error {
		// Under the connection's lock: a connect that replaces it either
		// committed already (and is read here) or waits for this one and
		// then forgets the ids with the rest.
		if err := s.st.LockTx(ctx, tx, ConnectionLock(d.AccountID)); err != nil {
			return err
		}
		now, err := tx.CrmConnection.Query().First(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return err
		}
		if now == nil || now.ID != made.ID && !SameCRM(made, now) {
			stale = true
			return nil
		}
		if err := tx.Deal.Update().Where(deal.ID(d.ID), deal.CrmIDIsNil()).SetCrmID(ref.DealID).Exec(ctx); err != nil {
			return err
		}
		return tx.Contact.Update().Where(contact.ID(ct.ID), contact.CrmIDIsNil()).SetCrmID(ref.ContactID).Exec(ctx)
	})
	if err != nil {
		return err
	}
	if stale {
		slog.DebugContext(ctx, "crm: not linking a client to what the previous CRM made: the account connected another CRM meanwhile",
			"account", d.AccountID, "deal", d.ID, "crm", made.Kind)
		return nil
	}
	if crmResponsible != "" {
		emp, err := s.st.Ent.Employee.Query().Where(employee.CrmUserID(crmResponsible)).Only(ctx)
		if err == nil && (ct.ResponsibleID == nil || *ct.ResponsibleID != emp.ID) {
			cht, err := s.st.Ent.Chat.Query().Where(chat.ContactID(ct.ID), chat.ChannelID(d.ChannelID)).Only(ctx)
			if err != nil {
				return err
			}
			return s.router.AssignFromCRM(routing.AdoptingContact(ctx), cht.ID, emp.ID)
		}
		if err != nil && !ent.IsNotFound(err) {
			return err
		}
		return nil
	}
	now, err := s.st.Ent.Contact.Get(ctx, ct.ID)
	if err != nil {
		return err
	}
	if !sameID(now.ResponsibleID, sent) {
		return s.Responsible(ctx, ct.ID)
	}
	return nil
}

func sameID(a, b *int64) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }

// Responsible tells the CRM the client's responsible (SPEC §8a: a
// distribution, claim or transfer here). A client whose deal is not in the
// CRM yet is skipped: creating it sends the responsible of that moment.
func (s *Syncer) Responsible(ctx context.Context, contactID int64) error {
	c := s.st.Ent
	ct, err := c.Contact.Get(ctx, contactID)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil || ct.CrmID == nil || ct.ResponsibleID == nil {
		return err
	}
	e, err := c.Employee.Get(ctx, *ct.ResponsibleID)
	if err != nil || e.CrmUserID == nil {
		return err
	}
	ref := crm.ClientRef{ContactID: *ct.CrmID}
	if d, err := c.Deal.Query().Where(deal.ContactID(ct.ID), deal.StateEQ(deal.StateOPEN), deal.CrmIDNotNil()).
		Order(ent.Desc(deal.FieldID)).First(ctx); err == nil {
		ref.DealID = *d.CrmID
	} else if !ent.IsNotFound(err) {
		return err
	}
	conn, _, err := Open(ctx, c, s.o)
	if err != nil {
		return err
	}
	return conn.SetResponsible(ctx, ref, *e.CrmUserID)
}
