package ids

import (
	"strconv"

	"github.com/switchboardhq/switchboard/server/errs"
)

// Format renders a store id for the API.
func Format(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

// FormatPtr renders an optional store id; nil is "".
func FormatPtr(id *int64) string {
	if id == nil {
		return ""
	}
	return Format(*id)
}

// Value parses an id that validation already checked; anything else is 0,
// which matches nothing.
func Value(s string) int64 {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// Valid reports whether s is a well-formed id.
func Valid(s string) bool { return Value(s) > 0 }

// Check records a violation when s is not a well-formed id. Empty s is a
// violation only when required.
func Check(v *errs.Violations, field, s string, required bool) {
	switch {
	case s == "" && required:
		v.Add(field, "is required")
	case s != "" && !Valid(s):
		v.Add(field, "%q is not a valid id", clip(s))
	}
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
