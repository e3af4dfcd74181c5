package phone

import (
	"errors"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in       string
		convert8 bool
		want     string // "" means ErrNotAPhone
	}{
		{"8 (916) 123-45-67", true, "+79161234567"},
		{"8 (916) 123-45-67", false, ""}, // +89… is no country
		{"+7 916 123 45 67", true, "+79161234567"},
		{"+7 916 123 45 67", false, "+79161234567"},
		{"79161234567", true, "+79161234567"},
		{"79161234567", false, "+79161234567"},
		{"8613812345678", true, "+8613812345678"}, // 13 digits: not a Russian 8
		{"8613812345678", false, "+8613812345678"},
		{"+8 916 123 45 67", true, ""}, // an explicit + is never converted
		{"0079161234567", false, "+79161234567"},
		{"tel:+44 20 7946 0958", false, "+442079460958"},
		{"+1 (650) 253-0000", true, "+16502530000"},
		{"89161234567", true, "+79161234567"},
		{"", true, ""},
		{"   ", true, ""},
		{"hello", true, ""},
		{"1-800-FLOWERS", false, ""},
		{"+7 916 123 45 67 ext 5", true, ""},
		{"++79161234567", true, ""},
		{"7916+1234567", true, ""},
		{"12345", true, ""},
		{"+7 000 000 00 00", true, ""},
		{"9999999999999999999", true, ""},
	}
	for _, tt := range tests {
		got, err := Normalize(tt.in, tt.convert8)
		if tt.want == "" {
			if !errors.Is(err, ErrNotAPhone) {
				t.Errorf("Normalize(%q, %v) = %q, %v; want ErrNotAPhone", tt.in, tt.convert8, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Normalize(%q, %v) = %q, %v; want %q", tt.in, tt.convert8, got, err, tt.want)
		}
	}
}

// FuzzNormalize checks that no input panics, and that what Normalize accepts
// is E.164 and normalizes to itself (it is a fixed point).
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"8 (916) 123-45-67", "+7 916 123 45 67", "79161234567", "8613812345678", "0079161234567", "tel:+1 650 253 0000", "", "+", "((((", "8"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, in string, convert8 bool) {
		out, err := Normalize(in, convert8)
		if err != nil {
			if !errors.Is(err, ErrNotAPhone) {
				t.Fatalf("Normalize(%q) returned a foreign error %v", in, err)
			}
			return
		}
		if len(out) < 2 || out[0] != '+' {
			t.Fatalf("Normalize(%q) = %q, not E.164", in, out)
		}
		for _, c := range out[1:] {
			if c < '0' || c > '9' {
				t.Fatalf("Normalize(%q) = %q, not E.164", in, out)
			}
		}
		again, err := Normalize(out, convert8)
		if err != nil || again != out {
			t.Fatalf("Normalize(%q) = %q, but Normalize(%q) = %q, %v", in, out, out, again, err)
		}
	})
}
