// Package auth owns credentials: account API keys and employee tokens are
// generated here, stored as SHA-256 hashes, and checked by one interceptor
// that puts the caller into the request context.
package auth
