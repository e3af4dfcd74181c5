package pipedrive

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/crmhttp"
)

// The ids of the status stages Directory adds to every pipeline: Pipedrive
// closes a deal by its status, not by a stage.
const (
	StageWon  = "won"
	StageLost = "lost"
)

func init() {
	crm.Register(crm.Pipedrive, crm.Vendor{Open: open, ParseWebhook: parseWebhook,
		// DefaultWindowLimit requests per 2-second window, spread evenly.
		Rate:    crm.Rate{PerSecond: DefaultWindowLimit / 2, Burst: DefaultWindowLimit / 2},
		Address: "https://{company}.pipedrive.com, with a personal API token (Personal preferences → API)"})
}

// connector is Pipedrive behind the crm seam.
type connector struct {
	c *Client
	// persons remembers, by marker, the person a CreateClient made before
	// its deal failed, so that a retry in this process links it instead of
	// making another one. It is shared by every connector of the token.
	persons *personMemo
}

// open makes a connector from cfg: BaseURL is the company
// ("https://example.pipedrive.com") and Token its API token; cfg.Limiter
// paces every request after the token's own pacing, cfg.HTTP sends them.
func open(cfg crm.Config) (crm.Connector, error) {
	return Open(cfg.BaseURL, cfg.Token, crmhttp.Options(cfg, AllowAnyHost, WithHTTPClient, WithLimiter)...)
}

// Open returns the connector of the company at baseURL with the API token.
// A bad address or token is crm.ErrBadAddress.
func Open(baseURL, token string, opts ...Option) (crm.Connector, error) {
	c, err := New(baseURL, token, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", crm.ErrBadAddress, err)
	}
	return connector{c: c, persons: &c.pace.persons}, nil
}

// seam translates the client's errors into the seam's: a refused token is
// crm.ErrUnauthorized, no answer or a 5xx crm.ErrUnreachable.
func seam(err error) error {
	e, ok := asError(err)
	return crmhttp.Seam(err, ok && e.Unauthorized(), ok && e.Unreachable())
}

// Directory reads the users (GET /v1/users; active_flag false is an
// inactive user) and the pipelines with their stages (GET
// /api/v2/pipelines, GET /api/v2/stages). Every stage is a working one;
// after them come the status stages StageWon and StageLost. The pipeline
// with the lowest order_nr is Main.
func (k connector) Directory(ctx context.Context) (crm.Directory, error) {
	users, err := k.c.ListUsers(ctx)
	if err != nil {
		return crm.Directory{}, seam(err)
	}
	ps, err := k.c.ListPipelines(ctx)
	if err != nil {
		return crm.Directory{}, seam(err)
	}
	var out crm.Directory
	for _, u := range users {
		out.Users = append(out.Users, crm.User{ID: u.ID, Name: u.Name, Email: u.Email, Active: u.Active})
	}
	for i, p := range ps {
		cp := crm.Pipeline{ID: p.ID, Name: p.Name, Main: i == 0}
		for _, s := range p.Stages {
			cp.Stages = append(cp.Stages, crm.Stage{ID: s.ID, Name: s.Name, Kind: crm.Working})
		}
		cp.Stages = append(cp.Stages,
			crm.Stage{ID: StageWon, Name: "Won", Kind: crm.Won},
			crm.Stage{ID: StageLost, Name: "Lost", Kind: crm.Lost})
		out.Pipelines = append(out.Pipelines, cp)
	}
	return out, nil
}

// digits keeps a string's ASCII digits.
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// phoneTerm is what the person search is asked for a number: its last 10
// digits (the national number of +7 and +1 numbers), all of them when
// fewer. How Pipedrive matches phone spellings is not documented: a term
// without the country code finds "8 (916) …" and "+7 916 …" alike when it
// matches within the digits.
func phoneTerm(e164 string) string {
	d := digits(e164)
	if len(d) > 10 {
		d = d[len(d)-10:]
	}
	return d
}

// FindContact searches persons by phone (GET /api/v2/persons/search,
// fields=phone) and returns the first, by the search's order, with a phone
// same accepts.
func (k connector) FindContact(ctx context.Context, phone string, same func(raw string) bool) (*crm.Contact, error) {
	term := phoneTerm(phone)
	if len(term) < 2 {
		return nil, nil
	}
	ps, err := k.c.SearchPersonsByPhone(ctx, term)
	if err != nil {
		return nil, seam(err)
	}
	for _, p := range ps {
		for _, raw := range p.Phones {
			if same(raw) {
				return &crm.Contact{ID: p.ID, Name: p.Name, ResponsibleID: p.OwnerID}, nil
			}
		}
	}
	return nil, nil
}

// dealTitle is the deal's title with the record's marker.
func dealTitle(rec crm.ClientRecord) string {
	return strings.TrimSpace(rec.DealName + " " + rec.Marker)
}

// personName is the name a new client's person is given: a client known
// only by a messenger handle has no phone to find its person by, so its
// name carries the record's marker, which the persons search finds.
func personName(rec crm.ClientRecord) string {
	if rec.Phone != "" || rec.Marker == "" {
		return rec.Name
	}
	return strings.TrimSpace(rec.Name + " " + rec.Marker)
}

// CreateClient creates the person (POST /api/v2/persons with the phone and
// owner; a client without a phone has the marker in its name), unless
// rec.ContactID links an existing one, then the deal (POST /api/v2/deals)
// with the marker in its title, the person, the owner, the pipeline and
// the stage; StageWon or StageLost creates it with that status instead.
// Two writes: when the deal fails after the person was made, a retry of
// the same marker in this process (any connector of the token) links that
// person; a person whose own answer was lost is found again by the retry's
// FindCreated: by its phone (the caller's FindContact), or by the marker
// in its name.
func (k connector) CreateClient(ctx context.Context, rec crm.ClientRecord) (crm.ClientRef, error) {
	personID := rec.ContactID
	if personID == "" {
		personID = k.persons.get(rec.Marker)
	}
	if personID == "" {
		id, err := k.c.AddPerson(ctx, NewPerson{Name: personName(rec), Phone: rec.Phone, OwnerID: rec.ResponsibleID})
		if err != nil {
			return crm.ClientRef{}, seam(err)
		}
		personID = id
		k.persons.put(rec.Marker, id)
	}
	d := NewDeal{Title: dealTitle(rec), PipelineID: rec.PipelineID, StageID: rec.StageID,
		OwnerID: rec.ResponsibleID, PersonID: personID}
	switch rec.StageID {
	case StageWon, StageLost:
		d.StageID, d.Status = "", rec.StageID
	}
	dealID, err := k.c.AddDeal(ctx, d)
	if err != nil {
		return crm.ClientRef{}, seam(err)
	}
	k.persons.drop(rec.Marker)
	return crm.ClientRef{ContactID: personID, DealID: dealID}, nil
}

// recentScan is how many of the newest deals FindCreated reads when the
// search finds nothing.
const recentScan = 100

// FindCreated looks for a deal whose title holds rec's marker, judged with
// crm.HasMarker: by the deals search (GET /api/v2/deals/search,
// fields=title), then, since a search index may trail a write, among the
// newest recentScan deals (GET /api/v2/deals, newest first). When there
// is none, a client without a phone may still have its person from the
// failed attempt: it is looked for the same way by the marker in its name
// (GET /api/v2/persons/search, fields=name; GET /api/v2/persons) and kept
// for the CreateClient that follows, which links it.
func (k connector) FindCreated(ctx context.Context, rec crm.ClientRecord) (*crm.ClientRef, error) {
	if len(rec.Marker) < 2 {
		return nil, nil
	}
	deals, err := k.c.SearchDealsByTitle(ctx, rec.Marker)
	if err != nil {
		return nil, seam(err)
	}
	if ref := k.marked(deals, rec); ref != nil {
		return ref, nil
	}
	if deals, err = k.c.RecentDeals(ctx, recentScan); err != nil {
		return nil, seam(err)
	}
	if ref := k.marked(deals, rec); ref != nil {
		return ref, nil
	}
	if rec.Phone != "" || rec.ContactID != "" || k.persons.get(rec.Marker) != "" {
		return nil, nil
	}
	for _, find := range []func() ([]Person, error){
		func() ([]Person, error) { return k.c.SearchPersonsByName(ctx, rec.Marker) },
		func() ([]Person, error) { return k.c.RecentPersons(ctx, recentScan) },
	} {
		ps, err := find()
		if err != nil {
			return nil, seam(err)
		}
		for _, p := range ps {
			if crm.HasMarker(p.Name, rec.Marker) {
				k.persons.put(rec.Marker, p.ID)
				return nil, nil
			}
		}
	}
	return nil, nil
}

// marked is the first of deals whose title holds rec's marker, nil when
// none does.
func (k connector) marked(deals []Deal, rec crm.ClientRecord) *crm.ClientRef {
	for _, d := range deals {
		if crm.HasMarker(d.Title, rec.Marker) {
			ref := &crm.ClientRef{ContactID: d.PersonID, DealID: d.ID}
			if ref.ContactID == "" {
				ref.ContactID = rec.ContactID
			}
			k.persons.drop(rec.Marker)
			return ref
		}
	}
	return nil
}

// SetResponsible makes userID the owner of the deal (PATCH
// /api/v2/deals/{id}) and of the person (PATCH /api/v2/persons/{id}),
// whichever ref names.
func (k connector) SetResponsible(ctx context.Context, ref crm.ClientRef, userID string) error {
	if ref.DealID != "" {
		if err := k.c.SetDealOwner(ctx, ref.DealID, userID); err != nil {
			return seam(err)
		}
	}
	if ref.ContactID != "" {
		return seam(k.c.SetPersonOwner(ctx, ref.ContactID, userID))
	}
	return nil
}

// Deal reads the deal's status and owner (GET /api/v2/deals/{id}).
func (k connector) Deal(ctx context.Context, dealID string) (crm.DealState, error) {
	d, err := k.c.GetDeal(ctx, dealID)
	if err != nil {
		return crm.DealState{}, seam(err)
	}
	return crm.DealState{Won: d.Status == StatusWon, Lost: d.Status == StatusLost, ResponsibleID: d.OwnerID}, nil
}

// AddNote writes text and marker as a note of the deal, else the person
// (POST /v1/notes, the text as HTML); when maybeWritten, not if a note with
// marker is there already (GET /v1/notes).
func (k connector) AddNote(ctx context.Context, ref crm.ClientRef, text, marker string, maybeWritten bool) error {
	if marker != "" && maybeWritten {
		notes, err := k.c.ListNotes(ctx, ref.DealID, ref.ContactID)
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
	_, err := k.c.AddNote(ctx, ref.DealID, ref.ContactID, NoteHTML(text))
	return seam(err)
}

// personMemo is a small, bounded map from marker to person id.
type personMemo struct {
	mu sync.Mutex
	m  map[string]string
}

const personMemoMax = 1024

func (p *personMemo) get(marker string) string {
	if marker == "" {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.m[marker]
}

func (p *personMemo) put(marker, id string) {
	if marker == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]string{}
	}
	if len(p.m) >= personMemoMax {
		clear(p.m)
	}
	p.m[marker] = id
}

func (p *personMemo) drop(marker string) {
	p.mu.Lock()
	delete(p.m, marker)
	p.mu.Unlock()
}
