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

// WorkingHours is when an employee takes new clients, read in the account's
// time zone. Weekly empty means every day, all day; DaysOff still apply.
type WorkingHours struct {
	Weekly []WorkingPeriod `json:"weekly,omitempty"`
	// DaysOff are dates "YYYY-MM-DD" the employee does not work.
	DaysOff []string `json:"days_off,omitempty"`
}

// WorkingPeriod is one span of working time on one weekday: from Start to
// End, minutes after midnight (0 ≤ Start < End ≤ 1440).
type WorkingPeriod struct {
	Day   time.Weekday `json:"day"`
	Start int          `json:"start"`
	End   int          `json:"end"`
}
