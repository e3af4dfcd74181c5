// Package ids converts between the API's string ids and the store's integer
// ids.
package ids
