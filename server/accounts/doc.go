// Package accounts creates accounts and serves AccountService: the account's
// API keys and employee tokens.
package accounts
