// Package client builds typed clients for every Switchboard service, with
// the bearer credential attached. The CLI, the benchmark and the tests use
// it; integrators in Go can too.
package client
