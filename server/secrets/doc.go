// Package secrets seals the credentials Switchboard keeps for others (CRM
// tokens) with the server's secret key, so the database never holds them
// in clear: AES-256-GCM, a fresh random nonce per value, and the owner
// (the account) bound in as additional data, so a sealed value copied to
// another account's row does not open there.
package secrets
