// Package phonetest holds the ways people write one number, for the phone
// package's tests and the routing suite alike.
package phonetest
