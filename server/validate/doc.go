// Package validate checks the shape of every request before its handler
// runs: required fields, id formats, lengths and enum values. Rules that need
// the store (an unknown employee, say) live with their capability and return
// the same kind of error.
package validate
