// Package tenant carries the account a request acts for through a context,
// so the store can scope every query and mutation to it in one place.
package tenant
