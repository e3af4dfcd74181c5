package phone

import (
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// ErrNotAPhone is returned for input that is not a valid phone number.
var ErrNotAPhone = errors.New("not a valid phone number")

const (
	// maxLen bounds the input in characters; no real notation of a number
	// is longer (the API refuses longer senders before they get here).
	maxLen = 64
	// E.164 allows at most 15 digits; with a prefix (8, 0, 00, 810, a
	// carrier code) a written number has a few more.
	minDigits, maxDigits = 5, 20
	// international is the region for a number read with its country code.
	international = "ZZ"
)

// Options say how an account reads numbers written without a country code.
type Options struct {
	// HomeRegion is the ISO 3166 region ("RU") whose numbering plan reads a
	// number written without "+" or "00": "916 123-45-67" and
	// "8 916 123-45-67" are both +79161234567 in RU. Empty: such numbers
	// are read as international ("8613812345678" is +86, China).
	HomeRegion string
	// Convert8 reads 11 digits starting with 8, written without "+", as
	// Russian (+7) whatever the home region (SPEC §8's convert_8_to_plus7).
	Convert8 bool
}

// ForAccount returns the options of an account from its settings: the home
// region it chose, or, when it never chose one (nil), RU while
// convert_8_to_plus7 is on and none (international) while it is off.
func ForAccount(homeRegion *string, convert8 bool) Options {
	o := Options{Convert8: convert8}
	switch {
	case homeRegion != nil:
		o.HomeRegion = *homeRegion
	case convert8:
		o.HomeRegion = "RU"
	}
	return o
}

// IsRegion reports whether code is a region the numbering plans know
// ("RU", "KZ", "BR"; upper case).
func IsRegion(code string) bool {
	return phonenumbers.GetSupportedRegions()[code]
}

// Normalize returns the one E.164 form of the person's number raw
// ("+79161234567").
//
// The raw string goes to libphonenumber as written, so any punctuation or
// digit it understands is accepted: no-break spaces, every kind of dash,
// full-width digits, a leading "tel:". Every other kind of space counts as
// one, and invisible format characters (bidi marks) as none.
//
// A number starting with "+" or "00" carries its country code; one without
// is read in the home region, then (convert_8_to_plus7) as Russian if it is
// 11 digits starting with 8, then as international: gateways send
// "79161234567" and "8613812345678" without a "+". The first reading that
// is a valid number wins.
//
// A reading the library only validates after dropping a digit is refused
// (the national prefix it may drop is the home region's own "8" or "0",
// or a "(0)" written after the country code), and so is a number with
// letters (vanity numbers, extensions). A messenger's legacy form of a
// number (WhatsApp's Brazilian mobiles without the ninth digit, Mexican
// mobiles with "1" after +52) normalizes to the number itself; Forms lists
// them. Everything else is ErrNotAPhone.
//
// Normalize is a fixed point: Normalize(Normalize(x)) == Normalize(x).
func Normalize(raw string, o Options) (string, error) {
	s := strings.TrimSpace(strings.Map(space, raw))
	if len(s) >= 4 && strings.EqualFold(s[:4], "tel:") {
		s = strings.TrimSpace(s[4:])
	}
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxLen {
		return "", ErrNotAPhone
	}
	start := -1 // the first digit or plus sign: where the number begins
	for i, r := range s {
		if unicode.IsLetter(r) {
			return "", ErrNotAPhone
		}
		if start < 0 && (isPlus(r) || unicode.IsDigit(r)) {
			start = i
		}
	}
	digits := phonenumbers.NormalizeDigitsOnly(s)
	if start < 0 || len(digits) < minDigits || len(digits) > maxDigits {
		return "", ErrNotAPhone
	}
	first, _ := utf8.DecodeRuneInString(s[start:])
	switch {
	case isPlus(first):
		return read(s, international)
	case strings.HasPrefix(digits, "00"):
		return read("+"+afterDigits(s, 2), international)
	}
	if o.HomeRegion != "" {
		if e, err := read(s, o.HomeRegion); err == nil {
			return e, nil
		}
	}
	if o.Convert8 && len(digits) == 11 && digits[0] == '8' {
		if e, err := read(s, "RU"); err == nil {
			return e, nil
		}
	}
	return read("+"+s[start:], international)
}

// space makes every kind of space a plain one and drops invisible format
// characters (bidi marks a contact card adds, soft hyphens): pasted text
// carries them, and they are no digit.
func space(r rune) rune {
	switch {
	case unicode.Is(unicode.Zs, r):
		return ' '
	case unicode.Is(unicode.Cf, r):
		return -1
	}
	return r
}

func isPlus(r rune) bool { return r == '+' || r == '＋' }

// afterDigits returns s after its first n digits.
func afterDigits(s string, n int) string {
	for i, r := range s {
		if n == 0 {
			return s[i:]
		}
		if unicode.IsDigit(r) {
			n--
		}
	}
	return ""
}

// read parses s in region and returns the canonical E.164 form of the
// number, if the parse kept every digit and the number is valid.
func read(s, region string) (string, error) {
	num, err := phonenumbers.ParseAndKeepRawInput(s, region)
	if err != nil || !keptDigits(num, s, region) {
		return "", ErrNotAPhone
	}
	if e, ok := canonical(num); ok && isE164(e) {
		return e, nil
	}
	return "", ErrNotAPhone
}

// isE164 guards against the library's corner cases (a national number of
// only zeros formats as the raw input): "+", then 7 to 15 digits.
func isE164(e string) bool {
	if len(e) < 8 || len(e) > 16 || e[0] != '+' || e[1] == '0' {
		return false
	}
	for i := 1; i < len(e); i++ {
		if e[i] < '0' || e[i] > '9' {
			return false
		}
	}
	return true
}

// keptDigits reports whether the number the library read from s accounts
// for every digit of s: what precedes its national significant number may
// only be its country code (after "+", an international prefix, or
// nothing), or the region's national prefix (with a carrier code), never a
// digit the library dropped to make the rest valid ("+95 01234567" is not
// +951234567).
func keptDigits(num *phonenumbers.PhoneNumber, s, region string) bool {
	d := phonenumbers.NormalizeDigitsOnly(s)
	nsn := phonenumbers.GetNationalSignificantNumber(num)
	if !strings.HasSuffix(d, nsn) {
		return false
	}
	before := d[:len(d)-len(nsn)]
	cc := strconv.Itoa(int(num.GetCountryCode()))
	switch num.GetCountryCodeSource() {
	case phonenumbers.PhoneNumber_FROM_NUMBER_WITH_PLUS_SIGN:
		if before == cc {
			return true
		}
		// "+44 (0)20 7946 0958": the national prefix written in
		// parentheses after the country code, to be dialled at home only.
		ndd := phonenumbers.GetNddPrefixForRegion(phonenumbers.GetRegionCodeForCountryCode(int(num.GetCountryCode())), true)
		return ndd != "" && before == cc+ndd && strings.Contains(strings.Join(strings.Fields(s), ""), "("+ndd+")")
	case phonenumbers.PhoneNumber_FROM_NUMBER_WITH_IDD:
		return len(before) > len(cc) && strings.HasSuffix(before, cc)
	case phonenumbers.PhoneNumber_FROM_NUMBER_WITHOUT_PLUS_SIGN:
		return before == cc
	case phonenumbers.PhoneNumber_FROM_DEFAULT_COUNTRY:
		if before == "" {
			return true
		}
		ndd := phonenumbers.GetNddPrefixForRegion(region, true)
		return ndd != "" && before == ndd+num.GetPreferredDomesticCarrierCode()
	}
	return false
}

// canonical returns the E.164 form of a number the library read, mapping a
// messenger's legacy form to the number itself (docs/DECISIONS.md says
// where each rule comes from).
func canonical(num *phonenumbers.PhoneNumber) (string, bool) {
	cc, nsn := num.GetCountryCode(), phonenumbers.GetNationalSignificantNumber(num)
	if num.GetNationalNumber() == 0 {
		return "", false
	}
	switch cc {
	case 55:
		// Brazil: mobiles gained a ninth digit, a leading 9 (ANATEL,
		// 2012–2016); WhatsApp ids registered before keep the 8-digit
		// subscriber number (which started with 6–9).
		if len(nsn) == 10 && nsn[2] >= '6' && nsn[2] <= '9' {
			if e, ok := valid(cc, nsn[:2]+"9"+nsn[2:], true); ok {
				return e, true
			}
		}
	case 52:
		// Mexico: mobiles were dialled from abroad as +52 1 …; the "1"
		// was abolished in 2019 (IFT), WhatsApp ids still carry it.
		if len(nsn) == 11 && nsn[0] == '1' {
			if e, ok := valid(cc, nsn[1:], false); ok {
				return e, true
			}
		}
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}

// valid returns the E.164 form of country code cc and national significant
// number nsn if that is a valid number (a mobile one, if mobile).
func valid(cc int32, nsn string, mobile bool) (string, bool) {
	n, err := strconv.ParseUint(nsn, 10, 64)
	if err != nil || nsn[0] == '0' {
		return "", false
	}
	num := &phonenumbers.PhoneNumber{CountryCode: &cc, NationalNumber: &n}
	if !phonenumbers.IsValidNumber(num) {
		return "", false
	}
	if t := phonenumbers.GetNumberType(num); mobile && t != phonenumbers.MOBILE && t != phonenumbers.FIXED_LINE_OR_MOBILE {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}

// Forms returns the identities a client known by the normalized number e
// may have been stored under: e first, then the legacy forms of it that
// earlier versions kept as they came (a Brazilian "+55 11 7…" mobile
// without its ninth digit was a valid number of its own). Lookups use all
// of them; new clients are stored under e.
func Forms(e string) []string {
	out := []string{e}
	switch {
	case strings.HasPrefix(e, "+55") && len(e) == 14 && e[5] == '9' && e[6] >= '6' && e[6] <= '9':
		out = append(out, e[:5]+e[6:])
	case strings.HasPrefix(e, "+52") && len(e) == 13:
		out = append(out, "+521"+e[3:])
	}
	return out
}
