// Package phone normalizes every phone number that enters Switchboard to
// E.164, the same way everywhere (SPEC §8), using a libphonenumber port.
package phone

import (
	"errors"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// ErrNotAPhone is returned for input that is not a valid phone number.
var ErrNotAPhone = errors.New("not a valid phone number")

// maxLen bounds the input; no real notation of a number is longer.
const maxLen = 64

// Normalize returns the E.164 form of raw ("+79161234567").
//
// With convert8 on, an 11-digit number written with a leading 8 and no "+"
// ("8 (916) 123-45-67") is Russian: the 8 becomes +7. Otherwise a number is
// read as international, with or without its "+" or "00" ("8613812345678" is
// +86, China). Letters, or a number libphonenumber does not consider valid,
// are ErrNotAPhone.
func Normalize(raw string, convert8 bool) (string, error) {
	s := strings.TrimSpace(raw)
	s = strings.TrimPrefix(s, "tel:")
	if s == "" || len(s) > maxLen {
		return "", ErrNotAPhone
	}
	plus := false
	digits := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == '+':
			if plus || len(digits) > 0 {
				return "", ErrNotAPhone
			}
			plus = true
		case c == ' ' || c == '-' || c == '(' || c == ')' || c == '.' || c == '\t':
		default:
			return "", ErrNotAPhone
		}
	}
	d := string(digits)
	switch {
	case plus:
	case strings.HasPrefix(d, "00"):
		d = d[2:]
	case convert8 && len(d) == 11 && d[0] == '8':
		d = "7" + d[1:]
	}
	if len(d) < 7 || len(d) > 15 {
		return "", ErrNotAPhone
	}
	num, err := phonenumbers.Parse("+"+d, "")
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", ErrNotAPhone
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}
