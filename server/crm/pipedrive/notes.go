package pipedrive

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strings"
)

// Note is a note on a deal or person.
type Note struct {
	ID string
	// Content is the note's HTML.
	Content          string
	DealID, PersonID string
}

type noteJSON struct {
	ID       ID     `json:"id"`
	Content  string `json:"content"`
	DealID   ID     `json:"deal_id"`
	PersonID ID     `json:"person_id"`
}

// NoteHTML turns plain text into a note's HTML: escaped, each line break a
// <br>.
func NoteHTML(text string) string {
	s := html.EscapeString(strings.ReplaceAll(text, "\r\n", "\n"))
	return strings.ReplaceAll(s, "\n", "<br>")
}

// AddNote adds a note whose content is the HTML content to a deal (when
// dealID is set) else to a person (POST /v1/notes {content, deal_id |
// person_id}; notes have no v2 endpoint) and returns its id. Source:
// developers.pipedrive.com docs/api/v1/Notes#addNote.
func (c *Client) AddNote(ctx context.Context, dealID, personID, content string) (string, error) {
	r := request{method: http.MethodPost, path: "/v1/notes"}
	body := map[string]any{"content": content}
	field, id := "deal_id", dealID
	if id == "" {
		field, id = "person_id", personID
	}
	n, err := num(r.op(), field, id)
	if err != nil {
		return "", err
	}
	body[field] = n
	r.body = body
	return c.create(ctx, r)
}

// ListNotes returns the notes of a deal (when dealID is set) else of a
// person (GET /v1/notes?deal_id= | person_id=, every page). Source:
// developers.pipedrive.com docs/api/v1/Notes#getNotes.
func (c *Client) ListNotes(ctx context.Context, dealID, personID string) ([]Note, error) {
	const op = "GET /v1/notes"
	field, id := "deal_id", dealID
	if id == "" {
		field, id = "person_id", personID
	}
	p, err := idPath(op, id)
	if err != nil {
		return nil, err
	}
	var out []Note
	err = c.listV1(ctx, "/v1/notes", url.Values{field: {p}}, func(raw json.RawMessage) error {
		var page []noteJSON
		if err := decode(op, raw, &page); err != nil {
			return err
		}
		for _, j := range page {
			out = append(out, Note{ID: string(j.ID), Content: j.Content, DealID: string(j.DealID), PersonID: string(j.PersonID)})
		}
		return nil
	})
	return out, err
}
