package secrets

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"testing"
)

func TestSealOpen(t *testing.T) {
	key := make([]byte, KeySize)
	_, _ = rand.Read(key)
	s, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Seal([]byte("long-lived token"), "account 1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.Seal([]byte("long-lived token"), "account 1")
	if bytes.Equal(a, b) || bytes.Contains(a, []byte("long-lived")) {
		t.Fatal("sealing is not randomized or leaks the plaintext")
	}
	got, err := s.Open(a, "account 1")
	if err != nil || string(got) != "long-lived token" {
		t.Fatalf("open: %q, %v", got, err)
	}
	if _, err := s.Open(a, "account 2"); !errors.Is(err, ErrOpen) {
		t.Fatalf("another owner opened it: %v", err)
	}
	a[len(a)-1] ^= 1
	if _, err := s.Open(a, "account 1"); !errors.Is(err, ErrOpen) {
		t.Fatalf("a damaged value opened: %v", err)
	}
	other, _ := New(bytes.Repeat([]byte{7}, KeySize))
	if _, err := other.Open(b, "account 1"); !errors.Is(err, ErrOpen) {
		t.Fatalf("another key opened it: %v", err)
	}
	if _, err := s.Open([]byte("x"), "account 1"); !errors.Is(err, ErrOpen) {
		t.Fatalf("short value: %v", err)
	}
}

func TestNoKey(t *testing.T) {
	s, err := New(nil)
	if err != nil || s.HasKey() {
		t.Fatalf("%v %v", s, err)
	}
	if _, err := s.Seal([]byte("x"), "a"); !errors.Is(err, ErrNoKey) {
		t.Fatalf("sealed without a key: %v", err)
	}
}

func TestParseKey(t *testing.T) {
	key := bytes.Repeat([]byte{0xab}, KeySize)
	for _, in := range []string{hex.EncodeToString(key), base64.StdEncoding.EncodeToString(key), base64.RawURLEncoding.EncodeToString(key), "  " + hex.EncodeToString(key) + "\n"} {
		got, err := ParseKey(in)
		if err != nil || !bytes.Equal(got, key) {
			t.Fatalf("ParseKey(%q) = %x, %v", in, got, err)
		}
	}
	if k, err := ParseKey(""); k != nil || err != nil {
		t.Fatalf("empty: %v %v", k, err)
	}
	for _, bad := range []string{"abc", hex.EncodeToString(key[:16]), "not base64 at all!!"} {
		if _, err := ParseKey(bad); err == nil {
			t.Fatalf("ParseKey(%q) accepted", bad)
		}
	}
}
