// Package push owns SPEC §6, who is pushed about what, as pure functions:
// the routing and claim transactions call them and store what they return.
package push
