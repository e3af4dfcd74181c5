// Package snapshot keeps, per server replica, a copy of each account's
// directory as routing reads it: settings, channels, member lists,
// employees and the default stage. A snapshot is labelled with the
// account's directory_version, which every change moves forward in its own
// transaction (package store), so a reader that knows the current version
// knows whether its copy is current: routing reads that version with the
// settings it reads anyway, and checks it again under a channel's cursor
// lock before distributing.
package snapshot
