package phone_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/switchboardhq/switchboard/server/phone"
	"github.com/switchboardhq/switchboard/server/phone/phonetest"
)

var (
	ru   = phone.Options{HomeRegion: "RU", Convert8: true} // the seed: "our numbers are Russian"
	none = phone.Options{}                                 // convert_8_to_plus7 off: international
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in   string
		o    phone.Options
		want string // "" means phone.ErrNotAPhone
	}{
		{"8 (916) 123-45-67", ru, "+79161234567"},
		{"8 (916) 123-45-67", none, ""}, // +89… is no country
		{"+7 916 123 45 67", ru, "+79161234567"},
		{"+7 916 123 45 67", none, "+79161234567"},
		{"79161234567", ru, "+79161234567"},
		{"79161234567", none, "+79161234567"},
		{"8613812345678", ru, "+8613812345678"}, // 13 digits: not a Russian 8
		{"8613812345678", none, "+8613812345678"},
		{"+8 916 123 45 67", ru, ""}, // an explicit + is never converted
		{"0079161234567", none, "+79161234567"},
		{"0079161234567", ru, "+79161234567"},
		{"810 86 138 1234 5678", ru, "+8613812345678"}, // Russia's own international prefix
		{"tel:+44 20 7946 0958", none, "+442079460958"},
		{"+44 (0)20 7946 0958", none, "+442079460958"},
		{"+1 (650) 253-0000", ru, "+16502530000"},
		{"89161234567", ru, "+79161234567"},
		{"89161234567", phone.Options{Convert8: true}, "+79161234567"},                       // no home region: the setting alone
		{"8 916 123 45 67", phone.Options{HomeRegion: "CN", Convert8: true}, "+79161234567"}, // convert_8_to_plus7 beside another home
		{"138 1234 5678", phone.Options{HomeRegion: "CN"}, "+8613812345678"},
		{"☎ 8 916 123 45 67", ru, "+79161234567"},
		{"++79161234567", ru, "+79161234567"}, // the library reads it; so do we

		// Pasted characters (issue 11, kind 1).
		{"+7\u00a0916\u00a0123\u00a045\u00a067", ru, "+79161234567"},
		{"+7\u00a0916\u00a0123\u00a045\u00a067", none, "+79161234567"},
		{"8 (916) 123–45–67", ru, "+79161234567"},
		{"8 (916) 123—45—67", ru, "+79161234567"},
		{"8 (916) 123‑45‑67", ru, "+79161234567"},
		{"+7 916 123−45−67", ru, "+79161234567"},
		{"８ (９１６) １２３-４５-６７", ru, "+79161234567"},
		{"＋７ ９１６ １２３ ４５ ６７", none, "+79161234567"},
		{"+7\u2009916\u2009123\u200945\u200967", ru, "+79161234567"},
		{"+7\u202f916\u202f123\u202f45\u202f67", ru, "+79161234567"}, // narrow no-break spaces
		{"\u202a+7 916 123-45-67\u202c", ru, "+79161234567"},         // bidi marks from a contact card
		{"+7 916\u200e 123 45 67", ru, "+79161234567"},
		{"+7 916\u00ad123\u00ad45\u00ad67", ru, "+79161234567"}, // soft hyphens
		{"+7.916.123.45.67", none, "+79161234567"},
		{"+7/916/123-45-67", none, "+79161234567"},

		// Numbers without their country code (kind 2).
		{"9501234567", ru, "+79501234567"},
		{"950 123-45-67", ru, "+79501234567"},
		{"8 950 123-45-67", ru, "+79501234567"},
		{"916 123-45-67", ru, "+79161234567"},
		{"9501234567", none, ""}, // +95 0… is Myanmar only without its 0
		{"+9501234567", none, ""},
		{"+95 1 234567", none, "+951234567"}, // Myanmar written as Myanmar is fine
		{"916 123-45-67", none, ""},
		{"812 123-45-67", ru, "+78121234567"}, // a St Petersburg landline starts with 8 itself
		{"8 (812) 123-45-67", ru, "+78121234567"},
		{"+7 (812) 123-45-67", none, "+78121234567"},
		{"(812) 123-45-67", ru, "+78121234567"},
		{"88121234567", ru, "+78121234567"},

		// Messenger id forms (kind 3).
		{"551187654321", ru, "+5511987654321"},
		{"+55 11 8765-4321", none, "+5511987654321"},
		{"+55 11 98765-4321", none, "+5511987654321"},
		{"+55 31 8765-4321", none, "+5531987654321"},
		{"+55 11 3456-7890", none, "+551134567890"}, // a landline keeps its 8 digits
		{"+52 1 55 1234 5678", none, "+525512345678"},
		{"+52 55 1234 5678", none, "+525512345678"},

		{"", ru, ""},
		{"   ", ru, ""},
		{"hello", ru, ""},
		{"1-800-FLOWERS", none, ""},
		{"+7 916 123 45 67 ext 5", ru, ""},
		{"+7 916 123 45 67 доб. 5", ru, ""},
		{"7916+1234567", ru, ""},
		{"12345", ru, ""},
		{"+7 000 000 00 00", ru, ""},
		{"9999999999999999999", ru, ""},
		{"8 916 123 45 67, 8 916 765 43 21", ru, ""},
		{"+7 (0916) 123 45 67", ru, ""},
		{"81080000000000", ru, ""},                   // +800 with a national number of zeros: the library formats it as typed
		{"+7 (8) 916 123 45 67", ru, "+79161234567"}, // the national prefix in parentheses, as "(0)"
		{"+7 8 916 123 45 67", ru, ""},               // but not bare
	}
	for _, tt := range tests {
		got, err := phone.Normalize(tt.in, tt.o)
		if tt.want == "" {
			if !errors.Is(err, phone.ErrNotAPhone) {
				t.Errorf("Normalize(%q, %+v) = %q, %v; want ErrNotAPhone", tt.in, tt.o, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Normalize(%q, %+v) = %q, %v; want %q", tt.in, tt.o, got, err, tt.want)
		}
	}
}

func TestOnePersonIsOneClient(t *testing.T) {
	n := 0
	for _, p := range phonetest.OnePerson {
		for _, s := range p.Spellings {
			n++
			got, err := phone.Normalize(s, p.O)
			if err != nil || got != p.Want {
				t.Errorf("Normalize(%q, %+v) = %q, %v; want %q", s, p.O, got, err, p.Want)
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d spellings", n)
	}
}

func TestForAccount(t *testing.T) {
	cn := "CN"
	empty := ""
	for _, tt := range []struct {
		home     *string
		convert8 bool
		want     phone.Options
	}{
		{nil, true, phone.Options{HomeRegion: "RU", Convert8: true}},
		{nil, false, phone.Options{}},
		{&cn, true, phone.Options{HomeRegion: "CN", Convert8: true}},
		{&empty, true, phone.Options{Convert8: true}},
	} {
		if got := phone.ForAccount(tt.home, tt.convert8); got != tt.want {
			t.Errorf("ForAccount(%v, %v) = %+v; want %+v", tt.home, tt.convert8, got, tt.want)
		}
	}
	if !phone.IsRegion("RU") || !phone.IsRegion("BR") || phone.IsRegion("ru") || phone.IsRegion("XX") || phone.IsRegion("") {
		t.Error("IsRegion")
	}
}

func TestForms(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"+5511987654321", []string{"+5511987654321", "+551187654321"}},
		{"+5511977654321", []string{"+5511977654321", "+551177654321"}},
		{"+551134567890", []string{"+551134567890"}},
		{"+525512345678", []string{"+525512345678", "+5215512345678"}},
		{"+79161234567", []string{"+79161234567"}},
	} {
		if got := phone.Forms(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("Forms(%q) = %q; want %q", tt.in, got, tt.want)
		}
		// Every form normalizes to the number itself.
		for _, f := range phone.Forms(tt.in) {
			if got, err := phone.Normalize(f, none); err != nil || got != tt.in {
				t.Errorf("Normalize(%q) = %q, %v; want %q", f, got, err, tt.in)
			}
		}
	}
}

var fuzzOptions = []phone.Options{none, ru, {Convert8: true}, {HomeRegion: "CN"}, {HomeRegion: "BR"}, {HomeRegion: "KR", Convert8: true}}

// FuzzNormalize checks that no input panics, and that what phone.Normalize accepts
// is E.164 and normalizes to itself (a fixed point) under any options. The
// flag is convert_8_to_plus7 of an account that never chose a home region;
// a few other home regions are tried on every input too.
func FuzzNormalize(f *testing.F) {
	seeds := []string{"8 (916) 123-45-67", "+7 916 123 45 67", "79161234567", "8613812345678", "0079161234567",
		"tel:+1 650 253 0000", "", "+", "((((", "8", "+44 (0)20 7946 0958", "810 86 138 1234 5678"}
	for _, p := range phonetest.OnePerson {
		seeds = append(seeds, p.Spellings...)
	}
	for _, s := range seeds {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, in string, convert8 bool) {
		for _, o := range append([]phone.Options{phone.ForAccount(nil, convert8)}, fuzzOptions...) {
			out, err := phone.Normalize(in, o)
			if err != nil {
				if !errors.Is(err, phone.ErrNotAPhone) {
					t.Fatalf("Normalize(%q) returned a foreign error %v", in, err)
				}
				continue
			}
			if len(out) < 2 || out[0] != '+' {
				t.Fatalf("Normalize(%q) = %q, not E.164", in, out)
			}
			for _, c := range out[1:] {
				if c < '0' || c > '9' {
					t.Fatalf("Normalize(%q) = %q, not E.164", in, out)
				}
			}
			for _, o2 := range fuzzOptions {
				again, err := phone.Normalize(out, o2)
				if err != nil || again != out {
					t.Fatalf("Normalize(%q, %+v) = %q, but phone.Normalize(%q, %+v) = %q, %v", in, o, out, out, o2, again, err)
				}
			}
		}
	})
}

// BenchmarkNormalize: a gateway's international id, a national number
// read in the home region, and one that falls through to international.
func BenchmarkNormalize(b *testing.B) {
	for _, in := range []string{"+79161234567", "8 (916) 123-45-67", "551187654321"} {
		b.Run(in, func(b *testing.B) {
			for b.Loop() {
				if _, err := phone.Normalize(in, ru); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
