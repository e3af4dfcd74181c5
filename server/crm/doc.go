// Package crm is the seam between Switchboard and the external CRMs it
// keeps in step (SPEC §8a): what a connector can do, in the CRM's own ids
// and words, and the registry that opens one by kind. One folder per
// vendor (crm/amocrm, …) implements Connector and registers itself; the
// rest of the server knows only this package.
package crm
