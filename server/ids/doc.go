// Package ids converts between the API's string ids and the store's integer
// ids, and resolves an id a request names into the caller's own thing
// (Resolve): a missing id and another account's answer the same NOT_FOUND.
package ids
