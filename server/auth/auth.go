package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"strings"

	"github.com/switchboardhq/switchboard/server/tenant"
)

// Kind is what a credential may do.
type Kind int

const (
	// APIKey is an account API key: admin scope for one account.
	APIKey Kind = iota + 1
	// EmployeeToken acts as one employee.
	EmployeeToken
)

func (k Kind) String() string {
	switch k {
	case APIKey:
		return "api key"
	case EmployeeToken:
		return "employee token"
	}
	return "unknown"
}

// Principal is the caller of a request.
type Principal struct {
	AccountID    int64
	Kind         Kind
	CredentialID int64
	// EmployeeID is set for an employee token.
	EmployeeID int64
	// RateLimit is the credential's own request budget per 5 s; 0: the
	// server's default.
	RateLimit int
}

// IsEmployee reports whether the caller is an employee token.
func (p Principal) IsEmployee() bool { return p.Kind == EmployeeToken }

type principalKey struct{}

// NewContext returns ctx carrying p and scoped to p's account.
func NewContext(ctx context.Context, p Principal) context.Context {
	return tenant.NewContext(context.WithValue(ctx, principalKey{}, p), p.AccountID)
}

// FromContext returns the caller.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

const (
	apiKeyPrefix        = "sbk_"
	employeeTokenPrefix = "sbe_"
)

var encoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret returns a fresh secret for a credential of kind k, the prefix
// shown when listing it, and the hash to store.
func NewSecret(k Kind) (secret, prefix string, hash []byte) {
	b := make([]byte, 20)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	p := apiKeyPrefix
	if k == EmployeeToken {
		p = employeeTokenPrefix
	}
	secret = p + strings.ToLower(encoding.EncodeToString(b))
	return secret, Prefix(secret), Hash(secret)
}

// Prefix is the part of a secret safe to show: its kind and 8 characters.
func Prefix(secret string) string {
	if len(secret) > 12 {
		return secret[:12] + "…"
	}
	return secret
}

// Hash is what is stored of a secret. Secrets are 160-bit random, so a fast
// hash is enough: there is nothing to guess.
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// CheckBootstrapSecret reports what is wrong with an operator-chosen API key,
// or "" when it is usable.
func CheckBootstrapSecret(secret string) string {
	if len(secret) < 16 || len(secret) > 200 {
		return "must be 16 to 200 characters long"
	}
	if strings.HasPrefix(secret, employeeTokenPrefix) {
		return "must not start with " + employeeTokenPrefix + " (that prefix is for employee tokens)"
	}
	for _, c := range secret {
		if c <= ' ' || c > '~' {
			return "must be printable ASCII without spaces"
		}
	}
	return ""
}
