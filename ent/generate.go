// Package ent holds the generated data access code; the hand-written schema
// is in ./schema.
package ent

//go:generate go tool ent generate --feature sql/execquery,sql/modifier,intercept ./schema
