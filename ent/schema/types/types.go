// Package types holds the Go types stored in JSON columns. It is apart from
// package schema so the generated code can use them without an import cycle.
package types

import "time"

// Attachment is a media link of a message.
type Attachment struct {
	URL      string `json:"url"`
	MimeType string `json:"mime_type,omitempty"`
	FileName string `json:"file_name,omitempty"`
}

// Now is the current time at the precision the store keeps (microseconds,
// PostgreSQL's), so a time read back equals the time written.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
