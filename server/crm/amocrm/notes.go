package amocrm

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/switchboardhq/switchboard/server/crm"
	"net/http"
	"net/url"
	"time"
)

// Entity names an entity type in API paths.
type Entity string

// Entity types that hold notes.
const (
	Leads    Entity = "leads"
	Contacts Entity = "contacts"
)

func (e Entity) valid() bool { return e == Leads || e == Contacts }

// NoteType is a note's note_type
// (https://developers.kommo.com/reference/notes-types).
type NoteType string

// Note types Switchboard writes.
const (
	// NoteCommon is an ordinary note: params {text}.
	NoteCommon NoteType = "common"
	// NoteServiceMessage is a note signed by a service: params {service, text}.
	NoteServiceMessage NoteType = "service_message"
	// NoteExtendedServiceMessage is a service message that takes longer
	// text and can be collapsed in the CRM's interface; chat logs use it.
	NoteExtendedServiceMessage NoteType = "extended_service_message"
)

// ServiceName signs Switchboard's service-message notes.
const ServiceName = "Switchboard"

// NewNote is a note to add to a lead or contact.
type NewNote struct {
	EntityID int64
	// Type defaults to NoteExtendedServiceMessage.
	Type NoteType
	Text string
	// Service signs a service message; defaults to ServiceName.
	Service string
	// RequestID is echoed back in the answer and NOT stored: to find the
	// note again after an ambiguous failure, put a marker in Text too and
	// use FindNote.
	RequestID string
}

// CreatedNote is the CRM's answer for one added note.
type CreatedNote struct {
	ID        int64
	EntityID  int64
	RequestID string
}

// Note is a stored note.
type Note struct {
	ID        int64
	EntityID  int64
	Type      NoteType
	Text      string
	Service   string
	CreatedAt time.Time
}

type noteParams struct {
	Text    string `json:"text"`
	Service string `json:"service,omitempty"`
}

type noteOut struct {
	EntityID  int64      `json:"entity_id"`
	NoteType  NoteType   `json:"note_type"`
	Params    noteParams `json:"params"`
	RequestID string     `json:"request_id,omitempty"`
}

// AddNotes adds notes to leads or contacts in one bulk
// POST /api/v4/{leads|contacts}/notes and returns the answers in request
// order, each with the request_id it was sent with.
// Source: https://www.amocrm.ru/developers/content/crm_platform/events-and-notes
func (c *Client) AddNotes(ctx context.Context, entity Entity, notes []NewNote) ([]CreatedNote, error) {
	path := fmt.Sprintf("/api/v4/%s/notes", entity)
	if !entity.valid() {
		return nil, &Error{Op: "POST " + path, Err: fmt.Errorf("entity %q", entity), local: true}
	}
	if len(notes) == 0 || len(notes) > pageLimit {
		return nil, &Error{Op: "POST " + path, Err: fmt.Errorf("%d notes; 1 to %d per request", len(notes), pageLimit), local: true}
	}
	body := make([]noteOut, 0, len(notes))
	for _, n := range notes {
		o := noteOut{EntityID: n.EntityID, NoteType: n.Type, Params: noteParams{Text: n.Text}, RequestID: n.RequestID}
		if o.NoteType == "" {
			o.NoteType = NoteExtendedServiceMessage
		}
		if o.NoteType == NoteServiceMessage || o.NoteType == NoteExtendedServiceMessage {
			o.Params.Service = n.Service
			if o.Params.Service == "" {
				o.Params.Service = ServiceName
			}
		}
		body = append(body, o)
	}
	var l halList
	if _, err := c.do(ctx, http.MethodPost, path, nil, body, &l); err != nil {
		return nil, err
	}
	var items []struct {
		ID        int64      `json:"id"`
		EntityID  int64      `json:"entity_id"`
		RequestID flexString `json:"request_id"`
	}
	if raw, ok := l.Embedded["notes"]; ok {
		if err := jsonUnmarshal(raw, &items); err != nil {
			return nil, &Error{Op: "POST " + path, Status: 200, Err: err}
		}
	}
	out := make([]CreatedNote, 0, len(items))
	for _, it := range items {
		out = append(out, CreatedNote{ID: it.ID, EntityID: it.EntityID, RequestID: string(it.RequestID)})
	}
	return out, nil
}

type noteJSON struct {
	ID        int64           `json:"id"`
	EntityID  int64           `json:"entity_id"`
	NoteType  NoteType        `json:"note_type"`
	CreatedAt int64           `json:"created_at"`
	Params    json.RawMessage `json:"params"`
}

// ListNotes returns every note of one lead or contact
// (GET /api/v4/{leads|contacts}/{id}/notes, every page). Text and Service
// are filled for the text-bearing types; other types keep only their ids.
func (c *Client) ListNotes(ctx context.Context, entity Entity, entityID int64) ([]Note, error) {
	path := fmt.Sprintf("/api/v4/%s/%d/notes", entity, entityID)
	if !entity.valid() {
		return nil, &Error{Op: "GET " + path, Err: fmt.Errorf("entity %q", entity), local: true}
	}
	raw, err := collect[noteJSON](ctx, c, path, url.Values{}, "notes")
	if err != nil {
		return nil, err
	}
	out := make([]Note, 0, len(raw))
	for _, j := range raw {
		n := Note{ID: j.ID, EntityID: j.EntityID, Type: j.NoteType, CreatedAt: unix(j.CreatedAt)}
		var p struct {
			Text    flexString `json:"text"`
			Service flexString `json:"service"`
		}
		if json.Unmarshal(j.Params, &p) == nil {
			n.Text, n.Service = string(p.Text), string(p.Service)
		}
		out = append(out, n)
	}
	return out, nil
}

// FindNote looks for a note of one lead or contact whose text contains
// marker: how a note whose add failed ambiguously (IsAmbiguous) is found
// before it is sent again. The CRM does not store request_id, so the
// marker must be part of the text.
func (c *Client) FindNote(ctx context.Context, entity Entity, entityID int64, marker string) (Note, bool, error) {
	if marker == "" {
		return Note{}, false, &Error{Op: "GET /api/v4/" + string(entity) + "/notes", Err: fmt.Errorf("empty marker"), local: true}
	}
	notes, err := c.ListNotes(ctx, entity, entityID)
	if err != nil {
		return Note{}, false, err
	}
	for _, n := range notes {
		if crm.HasMarker(n.Text, marker) {
			return n, true, nil
		}
	}
	return Note{}, false, nil
}
