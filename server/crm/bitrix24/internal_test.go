package bitrix24

import (
	"net/url"
	"testing"
)

func TestPHPQuery(t *testing.T) {
	got := phpQuery(map[string]any{
		"fields": map[string]any{
			"TITLE":       "Sofa & chairs #sb-1",
			"CONTACT_IDS": []any{"$result[contact]"},
			"PHONE":       []any{map[string]any{"VALUE": "+79161234567", "VALUE_TYPE": "WORK"}},
			"OPENED":      true,
			"NOTHING":     nil,
		},
		"id": 42,
	})
	want := "fields[CONTACT_IDS][0]=%24result%5Bcontact%5D&fields[OPENED]=Y" +
		"&fields[PHONE][0][VALUE]=%2B79161234567&fields[PHONE][0][VALUE_TYPE]=WORK" +
		"&fields[TITLE]=Sofa+%26+chairs+%23sb-1&id=42"
	if got != want {
		t.Fatalf("phpQuery =\n%s\nwant\n%s", got, want)
	}
	q, err := url.ParseQuery(got)
	if err != nil || q.Get("fields[CONTACT_IDS][0]") != "$result[contact]" || q.Get("fields[TITLE]") != "Sofa & chairs #sb-1" {
		t.Errorf("does not decode back: %v %v", q, err)
	}
}

func TestPortalBucketShared(t *testing.T) {
	a := portalBucket("Shared.bitrix24.ru", 2, 50)
	b := portalBucket("shared.bitrix24.ru", 5, 250)
	if a != b {
		t.Fatal("two clients of one portal have two buckets")
	}
	if a.Burst() != 250 || a.Limit() != 5 {
		t.Errorf("bucket %v/%d, want the latest limits 5/250", a.Limit(), a.Burst())
	}
	if portalBucket("other.bitrix24.ru", 2, 50) == a {
		t.Error("two portals share a bucket")
	}
}
