package zoho

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/crmhttp"
)

func init() {
	crm.Register(crm.Zoho, crm.Vendor{Open: open, ParseWebhook: parseWebhook, Credentials: credentials,
		// Zoho counts credits per day (Budget) and calls in flight per org;
		// it documents no per-second ceiling: five a second keeps a Free
		// edition's five concurrent calls busy without queueing at Zoho.
		Rate: crm.Rate{PerSecond: 5, Burst: 5},
		Address: "the Zoho account's data centre: com, eu, in, com.au, jp, ca, com.cn or sa (or https://www.zohoapis.{dc}), " +
			"with client_id:client_secret:refresh_token of a Zoho API console client as the token"})
}

// credentials reads what an admin pasted: the data centre as given, and
// the credential (JSON or client_id:client_secret:refresh_token) stored as
// Credential's JSON. Errors never hold the secret.
func credentials(baseURL, token string) (string, string, error) {
	c, err := ParseCredential(token)
	if err != nil {
		return "", "", err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", "", err
	}
	return strings.TrimRight(strings.TrimSpace(baseURL), "/"), string(b), nil
}

// pipelinesTTL is how long the Deals pipelines read for deal states and
// new deals are reused before being read again (each read costs a
// credit per layout plus one).
const pipelinesTTL = 10 * time.Minute

// NoteTitle is the title of every note Switchboard writes.
const NoteTitle = "Switchboard"

// Connector is Zoho CRM behind the crm seam. It implements crm.Connector
// and crm.Budgeted.
type Connector struct {
	c *Client

	load      chan struct{} // held while the pipelines are read
	mu        sync.Mutex
	pipelines []Pipeline
	readAt    time.Time
	// contacts remembers, by marker, the contact a CreateClient made (or
	// may have made: "" when its answer was lost) before its deal failed,
	// so the retry links it instead of making another.
	contacts map[string]string
}

var (
	_ crm.Connector = (*Connector)(nil)
	_ crm.Budgeted  = (*Connector)(nil)
)

// open makes a connector from cfg: BaseURL names the data centre (see
// DataCentre) and Token is the credential (see Credential).
func open(cfg crm.Config) (crm.Connector, error) {
	opts := crmhttp.Options(cfg, AllowAnyHost, WithHTTPClient, WithLimiter)
	if cfg.Meter != nil {
		opts = append(opts, WithMeter(cfg.Meter))
	}
	return Open(cfg.BaseURL, cfg.Token, opts...)
}

// Open returns the connector of the org in the data centre baseURL names,
// reached with credential. A bad address or credential is
// crm.ErrBadAddress.
func Open(baseURL, credential string, opts ...Option) (*Connector, error) {
	c, err := New(baseURL, credential, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", crm.ErrBadAddress, err)
	}
	return &Connector{c: c, load: make(chan struct{}, 1), contacts: map[string]string{}}, nil
}

// Client returns the connector's API client.
func (k *Connector) Client() *Client { return k.c }

// Budget reports the org's API credits: spent in the rolling 24 hours
// (by every replica when the connector was opened with a crm.Meter), the
// daily limit, when spent credits start to come back, and whether calls
// wait for that.
func (k *Connector) Budget(ctx context.Context) (crm.Budget, error) { return k.c.Budget(ctx) }

// seam translates the client's errors into the seam's.
func seam(err error) error {
	e, ok := asError(err)
	return crmhttp.Seam(err, ok && e.Unauthorized(), ok && (e.Retryable() || e.Status == 0 && !e.local))
}

// Directory reads the users (GET /users?type=AllUsers: a user whose
// status is not "active" is a deactivated employee) and the Deals
// pipelines of every layout (GET /settings/layouts?module=Deals, then GET
// /settings/pipeline?layout_id=… for each): a stage whose forecast type
// is "Closed Won" is won, "Closed Lost" lost, any other working. The
// first default pipeline is Main.
func (k *Connector) Directory(ctx context.Context) (crm.Directory, error) {
	users, err := k.c.ListUsers(ctx, AllUsers)
	if err != nil {
		return crm.Directory{}, seam(err)
	}
	pipes, err := k.readPipelines(ctx)
	if err != nil {
		return crm.Directory{}, seam(err)
	}
	var out crm.Directory
	for _, u := range users {
		name := u.FullName
		if name == "" {
			name = u.Email
		}
		out.Users = append(out.Users, crm.User{ID: u.ID, Name: name, Email: u.Email, Active: u.Active()})
	}
	for i, p := range pipes {
		cp := crm.Pipeline{ID: p.ID, Name: p.DisplayValue, Main: i == mainIndex(pipes)}
		for _, s := range p.Maps {
			kind := crm.Working
			switch {
			case s.Won():
				kind = crm.Won
			case s.Lost():
				kind = crm.Lost
			}
			cp.Stages = append(cp.Stages, crm.Stage{ID: stageValue(s), Name: s.DisplayValue, Kind: kind})
		}
		out.Pipelines = append(out.Pipelines, cp)
	}
	return out, nil
}

// stageValue is what a deal's Stage holds for s: its actual value.
func stageValue(s Stage) string {
	if s.ActualValue != "" {
		return s.ActualValue
	}
	return s.DisplayValue
}

// pipelineValue is what a deal's Pipeline is written with.
func pipelineValue(p Pipeline) string {
	if p.ActualValue != "" {
		return p.ActualValue
	}
	return p.DisplayValue
}

// mainIndex is the main pipeline's index: the first default, else the
// first.
func mainIndex(pipes []Pipeline) int {
	for i, p := range pipes {
		if p.Default {
			return i
		}
	}
	return 0
}

// readPipelines reads the pipelines of every active Deals layout, each
// pipeline once, and caches them.
func (k *Connector) readPipelines(ctx context.Context) ([]Pipeline, error) {
	layouts, err := k.c.ListLayouts(ctx, "Deals")
	if err != nil {
		return nil, err
	}
	var out []Pipeline
	seen := map[string]bool{}
	for _, l := range layouts {
		if l.Status != "" && !strings.EqualFold(l.Status, "active") {
			continue
		}
		ps, err := k.c.ListPipelines(ctx, l.ID)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			if !seen[p.ID] {
				seen[p.ID] = true
				out = append(out, p)
			}
		}
	}
	k.mu.Lock()
	k.pipelines, k.readAt = out, k.c.now()
	k.mu.Unlock()
	return out, nil
}

// cachedPipelines returns the pipelines, read again when older than
// pipelinesTTL or when fresh is set; one read at a time.
func (k *Connector) cachedPipelines(ctx context.Context, fresh bool) ([]Pipeline, error) {
	get := func() ([]Pipeline, bool) {
		k.mu.Lock()
		defer k.mu.Unlock()
		ok := k.pipelines != nil && k.c.now().Sub(k.readAt) < pipelinesTTL
		return k.pipelines, ok
	}
	if p, ok := get(); ok && !fresh {
		return p, nil
	}
	before := func() time.Time { k.mu.Lock(); defer k.mu.Unlock(); return k.readAt }()
	select {
	case k.load <- struct{}{}:
	case <-ctx.Done():
		return nil, &Error{Op: "GET /crm/v7/settings/pipeline", Err: ctx.Err(), local: true}
	}
	defer func() { <-k.load }()
	if p, ok := get(); ok && (!fresh || k.readAt != before) {
		return p, nil
	}
	return k.readPipelines(ctx)
}

// placement picks the pipeline and stage of a new deal: the ones named
// (by id or value), else the main pipeline's first stage that is not
// closed.
func placement(pipes []Pipeline, pipelineID, stageID string) (pipeline, stage string, err error) {
	if len(pipes) == 0 {
		return "", "", &Error{Op: "GET /crm/v7/settings/pipeline", Code: CodeInvalidData, Message: "the org has no Deals pipeline", Record: true}
	}
	p := pipes[mainIndex(pipes)]
	if pipelineID != "" {
		found := false
		for _, x := range pipes {
			if x.ID == pipelineID || pipelineValue(x) == pipelineID {
				p, found = x, true
				break
			}
		}
		if !found {
			return "", "", &Error{Op: "POST /crm/v7/Deals", Code: CodeInvalidData, Message: "no pipeline " + pipelineID, Field: "Pipeline", Record: true}
		}
	}
	for _, s := range p.Maps {
		if stageID == "" && !s.Won() && !s.Lost() || stageID != "" && (s.ID == stageID || stageValue(s) == stageID) {
			return pipelineValue(p), stageValue(s), nil
		}
	}
	return "", "", &Error{Op: "POST /crm/v7/Deals", Code: CodeInvalidData, Message: "no such open stage in pipeline " + p.DisplayValue, Field: "Stage", Record: true}
}

// digits keeps a string's digits.
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// phoneQuery is what the phone search is asked: the number's last ten
// digits (its national significant number for most countries), so a
// contact stored as "8 (916) …" or "+7 916 …" is returned as well; every
// phone returned is judged by the caller's same.
func phoneQuery(e164 string) string {
	d := digits(e164)
	if len(d) > 10 {
		d = d[len(d)-10:]
	}
	return d
}

// FindContact searches contacts by phone (GET /Contacts/search?phone=…;
// 204 is no match) and returns the first whose Phone or Mobile same
// accepts.
func (k *Connector) FindContact(ctx context.Context, phone string, same func(raw string) bool) (*crm.Contact, error) {
	q := phoneQuery(phone)
	if q == "" {
		return nil, nil
	}
	cs, err := k.c.SearchContactsByPhone(ctx, q)
	if err != nil {
		return nil, seam(err)
	}
	for _, c := range cs {
		for _, raw := range c.Phones() {
			if same(raw) {
				return &crm.Contact{ID: c.ID, Name: c.Name(), ResponsibleID: c.OwnerID()}, nil
			}
		}
	}
	return nil, nil
}

// dealName is the deal's name with the record's marker.
func dealName(rec crm.ClientRecord) string {
	return strings.TrimSpace(rec.DealName + " " + rec.Marker)
}

// splitName splits a full name into First_Name and the mandatory
// Last_Name (the last word).
func splitName(name string) (first, last string) {
	f := strings.Fields(name)
	switch len(f) {
	case 0:
		return "", "Unknown"
	case 1:
		return "", f[0]
	}
	return strings.Join(f[:len(f)-1], " "), f[len(f)-1]
}

// CreateClient inserts the contact (POST /Contacts, its Description
// holding rec.Marker), unless rec.ContactID links an existing one, then
// the deal (POST /Deals: Deal_Name with the marker, Pipeline and Stage —
// the main pipeline's first open stage unless rec names them —,
// Contact_Name and Owner). A contact made by an attempt whose deal then
// failed is linked by the retry instead of being made again.
func (k *Connector) CreateClient(ctx context.Context, rec crm.ClientRecord) (crm.ClientRef, error) {
	pipes, err := k.cachedPipelines(ctx, false)
	if err != nil {
		return crm.ClientRef{}, seam(err)
	}
	pipeline, stage, err := placement(pipes, rec.PipelineID, rec.StageID)
	if err != nil {
		return crm.ClientRef{}, seam(err)
	}
	contactID := rec.ContactID
	if contactID == "" {
		if contactID, err = k.contactFor(ctx, rec); err != nil {
			return crm.ClientRef{}, seam(err)
		}
	}
	dealID, err := k.c.CreateDeal(ctx, NewDeal{Name: dealName(rec), Stage: stage, Pipeline: pipeline, ContactID: contactID, OwnerID: rec.ResponsibleID})
	if err != nil {
		return crm.ClientRef{}, seam(err)
	}
	if rec.Marker != "" {
		k.mu.Lock()
		delete(k.contacts, rec.Marker)
		k.mu.Unlock()
	}
	return crm.ClientRef{ContactID: contactID, DealID: dealID}, nil
}

// contactFor returns the contact of a new client: one an earlier attempt
// with the same marker made (or, when its answer was lost, the one with
// the marker in its Description among the contacts with its phone), else
// a new one.
func (k *Connector) contactFor(ctx context.Context, rec crm.ClientRecord) (string, error) {
	k.mu.Lock()
	id, tried := k.contacts[rec.Marker]
	k.mu.Unlock()
	if rec.Marker != "" && tried {
		if id != "" {
			return id, nil
		}
		found, err := k.markedContact(ctx, rec)
		if err != nil || found != "" {
			return found, err
		}
	}
	first, last := splitName(rec.Name)
	id, err := k.c.CreateContact(ctx, NewContact{FirstName: first, LastName: last, Phone: rec.Phone, Description: rec.Marker, OwnerID: rec.ResponsibleID})
	switch {
	case err == nil:
		k.remember(rec.Marker, id)
	case IsAmbiguous(err):
		k.remember(rec.Marker, "")
	}
	return id, err
}

// markedContact finds the contact an earlier attempt made for rec: the
// one with the marker in its Description, among the contacts with rec's
// phone, else (a client known by a messenger handle) among those the
// marker finds; "" when none.
func (k *Connector) markedContact(ctx context.Context, rec crm.ClientRecord) (string, error) {
	q := map[string][]string{"fields": {"Description"}, "word": {rec.Marker}}
	if p := phoneQuery(rec.Phone); p != "" {
		q = map[string][]string{"fields": {"Description"}, "phone": {p}}
	}
	cs, err := search[struct {
		ID          string `json:"id"`
		Description string `json:"Description"`
	}](ctx, k.c, "Contacts", q)
	if err != nil {
		return "", err
	}
	for _, c := range cs {
		if crm.HasMarker(c.Description, rec.Marker) {
			k.remember(rec.Marker, c.ID)
			return c.ID, nil
		}
	}
	return "", nil
}

func (k *Connector) remember(marker, contactID string) {
	if marker == "" {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.contacts) > 10000 { // a bound: entries normally live until the deal is made
		clear(k.contacts)
	}
	k.contacts[marker] = contactID
}

// FindCreated looks for a deal whose name holds rec's marker (GET
// /Deals/search by Deal_Name, judged with crm.HasMarker), lowest id
// first as the CRM returns them. When there is none, the contact a failed
// attempt made (its Description holds the marker) is looked for too and
// kept for the CreateClient that follows, which links it instead of
// making another.
func (k *Connector) FindCreated(ctx context.Context, rec crm.ClientRecord) (*crm.ClientRef, error) {
	if rec.Marker == "" {
		return nil, nil
	}
	deals, err := k.c.SearchDealsByName(ctx, rec.Marker)
	if err != nil {
		return nil, seam(err)
	}
	for _, d := range deals {
		if crm.HasMarker(d.DealName, rec.Marker) {
			ref := &crm.ClientRef{ContactID: d.ContactID(), DealID: d.ID}
			if ref.ContactID == "" {
				ref.ContactID = rec.ContactID
			}
			return ref, nil
		}
	}
	// No deal: the attempt that failed may still have made the contact,
	// in another connector (an earlier job, another server). Remembered
	// here, it is linked by the CreateClient that follows.
	k.mu.Lock()
	_, known := k.contacts[rec.Marker]
	k.mu.Unlock()
	if rec.ContactID == "" && !known {
		if _, err := k.markedContact(ctx, rec); err != nil {
			return nil, seam(err)
		}
	}
	return nil, nil
}

// SetResponsible makes userID the owner of the deal and of the contact
// (PUT /Deals/{id}, PUT /Contacts/{id}).
func (k *Connector) SetResponsible(ctx context.Context, ref crm.ClientRef, userID string) error {
	if ref.DealID != "" {
		if err := k.c.SetOwner(ctx, "Deals", ref.DealID, userID); err != nil {
			return seam(err)
		}
	}
	if ref.ContactID != "" {
		if err := k.c.SetOwner(ctx, "Contacts", ref.ContactID, userID); err != nil {
			return seam(err)
		}
	}
	return nil
}

// Deal reads the deal's stage and owner (GET /Deals/{id}); whether the
// stage is won or lost comes from its pipeline's stages (read again once
// when the stage is not among the cached ones).
func (k *Connector) Deal(ctx context.Context, dealID string) (crm.DealState, error) {
	d, err := k.c.GetDeal(ctx, dealID)
	if err != nil {
		return crm.DealState{}, seam(err)
	}
	st := crm.DealState{ResponsibleID: d.OwnerID()}
	for _, fresh := range []bool{false, true} {
		pipes, err := k.cachedPipelines(ctx, fresh)
		if err != nil {
			return crm.DealState{}, seam(err)
		}
		if s, ok := stageOf(pipes, d); ok {
			st.Won, st.Lost = s.Won(), s.Lost()
			return st, nil
		}
	}
	// A stage no pipeline lists: Zoho's default names are the last word.
	st.Won, st.Lost = strings.EqualFold(d.Stage, ForecastClosedWon), strings.EqualFold(d.Stage, ForecastClosedLost)
	return st, nil
}

// stageOf finds a deal's stage: in its pipeline (by id or name) first,
// else in any pipeline.
func stageOf(pipes []Pipeline, d Deal) (Stage, bool) {
	match := func(p Pipeline) (Stage, bool) {
		for _, s := range p.Maps {
			if stageValue(s) == d.Stage || s.DisplayValue == d.Stage {
				return s, true
			}
		}
		return Stage{}, false
	}
	if d.Pipeline != nil {
		for _, p := range pipes {
			if d.Pipeline.ID != "" && p.ID == d.Pipeline.ID || d.Pipeline.ID == "" && (pipelineValue(p) == d.Pipeline.Name || p.DisplayValue == d.Pipeline.Name) {
				if s, ok := match(p); ok {
					return s, true
				}
			}
		}
	}
	for _, p := range pipes {
		if s, ok := match(p); ok {
			return s, true
		}
	}
	return Stage{}, false
}

// AddNote writes a note titled NoteTitle with text and marker to the deal
// (else the contact): POST /{module}/{id}/Notes; when maybeWritten, not
// if a note holding marker is there already (GET /{module}/{id}/Notes).
func (k *Connector) AddNote(ctx context.Context, ref crm.ClientRef, text, marker string, maybeWritten bool) error {
	module, id := "Deals", ref.DealID
	if id == "" {
		module, id = "Contacts", ref.ContactID
	}
	if marker != "" && maybeWritten {
		notes, err := k.c.ListNotes(ctx, module, id)
		if err != nil {
			return seam(err)
		}
		for _, n := range notes {
			if crm.HasMarker(n.Content, marker) {
				return nil
			}
		}
	}
	if marker != "" {
		text = text + "\n" + marker
	}
	_, err := k.c.AddNote(ctx, module, id, NoteTitle, text)
	return seam(err)
}

// SubscriptionLife is how long a notification channel is asked to last;
// Switchboard renews it well before (crmsync). Source:
// api/v7/notifications/enable.html (channel_expiry is capped at a day).
const SubscriptionLife = 23 * time.Hour

// channelID is the notification channel's id for token: derived from it,
// so renewing replaces the same channel and closing finds it.
func channelID(token string) int64 {
	h := fnv.New64a()
	h.Write([]byte(token))
	return int64(h.Sum64()%1_000_000_000_000) + 1
}

// Subscribe opens (or renews) the notification channel of deals' edits to
// notifyURL with token (at most 50 characters): its id is derived from the
// token, so renewing replaces the same channel.
func (k *Connector) Subscribe(ctx context.Context, notifyURL, token string) (time.Time, error) {
	until := time.Now().Add(SubscriptionLife)
	ch := Channel{ID: channelID(token), Events: []string{"Deals.edit"}, NotifyURL: notifyURL, Token: token, Expiry: until}
	if err := k.c.Watch(ctx, ch); err != nil {
		return time.Time{}, seam(err)
	}
	return until, nil
}

// Unsubscribe closes the notification channel Subscribe opened with
// token (DELETE /actions/watch).
func (k *Connector) Unsubscribe(ctx context.Context, token string) error {
	return seam(k.c.Unwatch(ctx, channelID(token)))
}

// Account reads the org's id (GET /org): the data centre's address is
// every org's there.
func (k *Connector) Account(ctx context.Context) (string, error) {
	id, err := k.c.OrgID(ctx)
	return id, seam(err)
}

var (
	_ crm.Subscriber = (*Connector)(nil)
	_ crm.Identified = (*Connector)(nil)
)
