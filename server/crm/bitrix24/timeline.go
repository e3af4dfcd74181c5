package bitrix24

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/switchboardhq/switchboard/server/crm/crmhttp"
)

// Owner types of a timeline comment (ENTITY_TYPE).
const (
	OwnerDeal    = "deal"
	OwnerContact = "contact"
)

// Comment is a timeline comment.
type Comment struct {
	ID      string
	Comment string
}

// AddComment writes a comment to a deal's or contact's timeline
// (crm.timeline.comment.add {fields: {ENTITY_ID, ENTITY_TYPE, COMMENT}};
// only the lowercase "fields" key is accepted) and returns its id. Source:
// apidocs.bitrix24.com
// api-reference/crm/timeline/comments/crm-timeline-comment-add.html.
func (c *Client) AddComment(ctx context.Context, ownerType, ownerID, text string) (string, error) {
	if text == "" {
		return "", &Error{Method: "crm.timeline.comment.add", Err: fmt.Errorf("empty comment"), local: true}
	}
	a, err := c.Call(ctx, "crm.timeline.comment.add", map[string]any{
		"fields": map[string]any{"ENTITY_ID": ownerID, "ENTITY_TYPE": ownerType, "COMMENT": text},
	})
	if err != nil {
		return "", err
	}
	return idResult("crm.timeline.comment.add", a.Result)
}

// ListComments returns every comment of a deal's or contact's timeline
// (crm.timeline.comment.list {filter: {ENTITY_ID, ENTITY_TYPE}, select:
// [ID, COMMENT]}, every page). Source: apidocs.bitrix24.com
// api-reference/crm/timeline/comments/crm-timeline-comment-list.html.
func (c *Client) ListComments(ctx context.Context, ownerType, ownerID string) ([]Comment, error) {
	params := map[string]any{
		"filter": map[string]any{"ENTITY_ID": ownerID, "ENTITY_TYPE": ownerType},
		"select": []string{"ID", "COMMENT"},
	}
	var out []Comment
	err := c.list(ctx, "crm.timeline.comment.list", params, func(raw json.RawMessage) (int, error) {
		page, err := decodeList[struct {
			ID      crmhttp.String `json:"ID"`
			Comment string         `json:"COMMENT"`
		}](raw)
		for _, x := range page {
			out = append(out, Comment{ID: string(x.ID), Comment: x.Comment})
		}
		return len(page), err
	})
	return out, err
}
