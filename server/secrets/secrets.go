package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of a secret key: 32 bytes (AES-256).
const KeySize = 32

// ErrNoKey: the server was started without a secret key, so it cannot
// store credentials.
var ErrNoKey = errors.New("secrets: the server has no secret key")

// ErrOpen: a sealed value does not open with this key and owner (another
// key, another owner, or damaged).
var ErrOpen = errors.New("secrets: the value does not open with this key")

// Sealer seals and opens values. The zero value (no key) refuses both with
// ErrNoKey.
type Sealer struct {
	aead cipher.AEAD
}

// ParseKey reads a secret key given as 64 hex digits or as standard or
// URL-safe base64 of 32 bytes ("" is no key: nil, nil).
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if b, err := hex.DecodeString(s); err == nil && len(b) == KeySize {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == KeySize {
			return b, nil
		}
	}
	return nil, fmt.Errorf("secrets: a secret key is %d bytes, as 64 hex digits or base64 (generate one with: openssl rand -base64 32)", KeySize)
}

// New returns a sealer for key (nil: a sealer without a key).
func New(key []byte) (*Sealer, error) {
	if key == nil {
		return &Sealer{}, nil
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("secrets: key of %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// HasKey reports whether the sealer can seal.
func (s *Sealer) HasKey() bool { return s != nil && s.aead != nil }

// Seal encrypts plaintext for owner: nonce || ciphertext || tag.
func (s *Sealer) Seal(plaintext []byte, owner string) ([]byte, error) {
	if !s.HasKey() {
		return nil, ErrNoKey
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, plaintext, []byte(owner)), nil
}

// Open decrypts what Seal made for the same owner.
func (s *Sealer) Open(sealed []byte, owner string) ([]byte, error) {
	if !s.HasKey() {
		return nil, ErrNoKey
	}
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, ErrOpen
	}
	out, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(owner))
	if err != nil {
		return nil, ErrOpen
	}
	return out, nil
}
