// Package notify owns the push-decision log (SPEC §6): its cursors, its
// rows as the API shows them, and NotificationService, which streams an
// employee's decisions live and resumably across replicas.
package notify
