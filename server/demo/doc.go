// Package demo fills an account with a sample company: two channels, the
// four sales reps of the spec's weighted example, a manager, a quality
// controller, a pipeline with stages and lead statuses, and settings that
// route new clients.
package demo
