// Package app wires Switchboard's capabilities into one http.Handler: every
// Connect service behind the auth, validation and error interceptors, gRPC
// health and reflection, and CORS. The binary and the tests both build the
// server here.
package app
