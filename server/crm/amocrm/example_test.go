package amocrm_test

import (
	"context"
	"fmt"

	"github.com/switchboardhq/switchboard/server/crm/amocrm"
	"github.com/switchboardhq/switchboard/server/crm/amocrm/amofake"
)

// A chat-log note is written once even when the first attempt's answer is
// lost: the note carries a marker, and an ambiguous failure is followed by
// a look for the marker before any retry.
func Example_reconcileNote() {
	f := amofake.Start()
	defer f.Close()
	c, _ := amocrm.New(f.URL, amofake.DefaultToken, amocrm.AllowAnyHost())
	ctx := context.Background()

	// The CRM stores the note, then the connection drops.
	f.Inject(amofake.Fault{Method: "POST", PathPrefix: "/api/v4/leads/notes", DropAfterCommit: true})

	marker := "[sb:job-42]"
	note := amocrm.NewNote{EntityID: 8001, Text: "Chat 12:00–13:00 " + marker, RequestID: "job-42"}
	_, err := c.AddNotes(ctx, amocrm.Leads, []amocrm.NewNote{note})
	fmt.Println("retryable:", amocrm.IsRetryable(err), "ambiguous:", amocrm.IsAmbiguous(err))

	if amocrm.IsAmbiguous(err) {
		if _, found, err := c.FindNote(ctx, amocrm.Leads, 8001, marker); err == nil && found {
			fmt.Println("already written; not sent again")
		}
	}
	fmt.Println("notes on the lead:", len(f.Notes("leads", 8001)))
	// Output:
	// retryable: true ambiguous: true
	// already written; not sent again
	// notes on the lead: 1
}
