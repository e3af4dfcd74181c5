package routing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/deal"
	"github.com/switchboardhq/switchboard/ent/schema/types"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/distribution"
	"github.com/switchboardhq/switchboard/server/notify"
	"github.com/switchboardhq/switchboard/server/store"
)

// What the conformance test of the writers (writer_test.go) needs.

// TestWriter is one writer implementation a store has.
type TestWriter struct {
	Name string
	w    writer
}

// Writers returns every writer implementation that works on st.
func Writers(st *store.Store) []TestWriter {
	var out []TestWriter
	for _, w := range writers(st) {
		name := strings.TrimSuffix(strings.TrimPrefix(fmt.Sprintf("%T", w), "routing."), "Writer")
		out = append(out, TestWriter{Name: name, w: w})
	}
	return out
}

// NewClientArgs is a new client to create; Kind "" creates the client
// only.
type NewClientArgs struct {
	AccountID, ChannelID              int64
	Identity, Phone, Handle, Name     string
	Test                              bool
	Kind                              string
	PipelineID, StageID, LeadStatusID *int64
}

// CreateClient runs the writer's createClient.
func (w TestWriter) CreateClient(ctx context.Context, tx *ent.Tx, a NewClientArgs) (*ent.Contact, *ent.Deal, *ent.Chat, error) {
	nc := &newClient{accountID: a.AccountID, channelID: a.ChannelID, name: a.Name, test: a.Test,
		who: sender{identity: a.Identity, phone: a.Phone, handle: a.Handle}}
	if a.Kind != "" {
		nc.entity = &entitySpec{kind: deal.Kind(a.Kind), pipelineID: a.PipelineID, stageID: a.StageID, leadStatusID: a.LeadStatusID}
	}
	rows, err := w.w.createClient(ctx, tx, nc)
	if err != nil {
		return nil, nil, nil, err
	}
	return rows.client, rows.deal, rows.chat, nil
}

// StoreArgs is what a routed message stores. CursorID 0 leaves the cursor;
// SetResponsible changes the responsible From → To.
type StoreArgs struct {
	AccountID            int64
	CursorID, CursorLast int64
	CursorStreak         int
	SetResponsible       bool
	From, To             *int64
	ClientID, ChatID     int64
	Text                 string
	Attachments          []types.Attachment
	GatewayID            string
	Decision             []byte
	Pushes               []notify.Decision
	// History: the assignment history's words for the change (with
	// SetResponsible); empty: none.
	History string
}

// StoreIncoming runs the writer's storeIncoming.
func (w TestWriter) StoreIncoming(ctx context.Context, tx *ent.Tx, a StoreArgs) (*ent.Message, []*pb.NotificationDecision, error) {
	s := &stored{accountID: a.AccountID, clientID: a.ClientID, chatID: a.ChatID, gatewayID: a.GatewayID,
		content: Content{Text: a.Text, Attachments: a.Attachments}, decision: a.Decision, pushes: a.Pushes}
	if a.CursorID != 0 {
		s.cursor = &cursorMove{id: a.CursorID, next: distribution.Cursor{Last: a.CursorLast, Streak: a.CursorStreak}}
	}
	if a.SetResponsible {
		s.responsible = &responsibleMove{from: a.From, to: a.To}
		if a.History != "" {
			s.history = &historyEntry{channelID: 1, mode: "WEIGHTED", position: 2, explanation: a.History}
		}
	}
	return w.w.storeIncoming(ctx, tx, s)
}

// IsResponsibleMoved reports a responsible changed meanwhile.
func IsResponsibleMoved(err error) bool { return errors.Is(err, errResponsibleMoved) }

// OpenClients counts each employee's open clients on a channel, as
// capacity does.
func OpenClients(ctx context.Context, tx *ent.Tx, accountID, channelID int64) (map[int64]int, error) {
	return openClients(ctx, tx, accountID, channelID)
}

// SetFault has fault run where the timers' work can be cut short (see
// Router.fault): "deadline" and "waiting" in the transaction after its
// writes (raw is the transaction's connection), "deadline committed" and
// "waiting committed" after the commit (raw nil).
func (r *Router) SetFault(fault func(ctx context.Context, raw *sql.Tx, point string) error) {
	f := faultFunc(func(ctx context.Context, tx *ent.Tx, point string) error {
		var raw *sql.Tx
		if tx != nil {
			raw, _ = r.st.SQLTx(tx)
		}
		return fault(ctx, raw, point)
	})
	r.fault.Store(&f)
}

// RecountOpenClients counts each employee's open clients on a channel
// from the deals and clients themselves, as OpenClients' counts must be.
func RecountOpenClients(ctx context.Context, tx *ent.Tx, channelID int64) (map[int64]int, error) {
	return countsOf(tx.QueryContext(ctx, `SELECT c.responsible_id, count(DISTINCT c.id) FROM deals d
		JOIN contacts c ON c.id = d.contact_id
		WHERE d.channel_id = $1 AND d.state = 'OPEN' AND c.responsible_id IS NOT NULL GROUP BY c.responsible_id`, channelID))
}
