package notify

import (
	"strconv"
	"strings"
)

// Cursor is a position in the decision log. Rows are ordered by (Pos, ID).
// On PostgreSQL Pos is the log position of the transaction that wrote the
// row, taken under the log's lock (held until its commit) as its last
// write, so positions become visible in order (rows stored before
// positions existed carry their transaction's id, which every position
// follows). On SQLite Pos is 0 and IDs alone give the commit order (one
// writer at a time).
type Cursor struct {
	Pos int64
	ID  int64
}

// Less orders cursors.
func (c Cursor) Less(o Cursor) bool {
	return c.Pos < o.Pos || (c.Pos == o.Pos && c.ID < o.ID)
}

// String renders the cursor for the API: "ID" on SQLite, "TXID.ID" on
// PostgreSQL. Clients treat it as opaque.
func (c Cursor) String() string {
	if c.Pos == 0 {
		return strconv.FormatInt(c.ID, 10)
	}
	return strconv.FormatInt(c.Pos, 10) + "." + strconv.FormatInt(c.ID, 10)
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
	return Cursor{Pos: t, ID: i}, true
}
