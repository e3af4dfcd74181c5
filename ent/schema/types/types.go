// Package types holds the Go types stored in JSON columns. It is apart from
// package schema so the generated code can use them without an import cycle.
package types

// Attachment is a media link of a message.
type Attachment struct {
	URL      string `json:"url"`
	MimeType string `json:"mime_type,omitempty"`
	FileName string `json:"file_name,omitempty"`
}
