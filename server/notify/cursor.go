// Package notify owns the push-decision log (SPEC §6): its cursors, its
// rows as the API shows them, and NotificationService, which streams an
// employee's decisions live and resumably across replicas.
package notify

import (
	"strconv"
	"strings"
)

// Cursor is a position in the decision log. Rows are ordered by (TxID, ID):
// on PostgreSQL TxID is the writing transaction's id, on SQLite it is 0 and
// IDs alone give the commit order (one writer at a time).
type Cursor struct {
	TxID int64
	ID   int64
}

// Less orders cursors.
func (c Cursor) Less(o Cursor) bool {
	return c.TxID < o.TxID || (c.TxID == o.TxID && c.ID < o.ID)
}

// String renders the cursor for the API: "ID" on SQLite, "TXID.ID" on
// PostgreSQL. Clients treat it as opaque.
func (c Cursor) String() string {
	if c.TxID == 0 {
		return strconv.FormatInt(c.ID, 10)
	}
	return strconv.FormatInt(c.TxID, 10) + "." + strconv.FormatInt(c.ID, 10)
}

// ParseCursor reads a cursor the API gave out; ok is false for anything
// else.
func ParseCursor(s string) (c Cursor, ok bool) {
	tx, id, dotted := strings.Cut(s, ".")
	if !dotted {
		tx, id = "0", s
	}
	t, err1 := strconv.ParseInt(tx, 10, 64)
	i, err2 := strconv.ParseInt(id, 10, 64)
	if err1 != nil || err2 != nil || t < 0 || i < 0 || (dotted && t == 0) {
		return Cursor{}, false
	}
	return Cursor{TxID: t, ID: i}, true
}
