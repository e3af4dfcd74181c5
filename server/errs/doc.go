// Package errs holds Switchboard's domain errors and the one function that
// turns them into Connect errors. Capabilities return these; handlers never
// pick Connect codes themselves.
package errs
