package amocrm

import (
	"net/url"
	"testing"
	"time"
)

func form(t *testing.T, s string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseWebhook(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		account int64
		events  []Event
		wantErr bool
	}{
		{
			name: "status won",
			body: "leads%5Bstatus%5D%5B0%5D%5Bid%5D=25399013&leads%5Bstatus%5D%5B0%5D%5Bstatus_id%5D=142&leads%5Bstatus%5D%5B0%5D%5Bold_status_id%5D=7102" +
				"&leads%5Bstatus%5D%5B0%5D%5Bpipeline_id%5D=7001&leads%5Bstatus%5D%5B0%5D%5Bold_pipeline_id%5D=7001&leads%5Bstatus%5D%5B0%5D%5Bresponsible_user_id%5D=5002" +
				"&leads%5Bstatus%5D%5B0%5D%5Blast_modified%5D=1764489600&leads%5Bstatus%5D%5B0%5D%5Bmodified_user_id%5D=5001&leads%5Bstatus%5D%5B0%5D%5Bname%5D=Sofa" +
				"&account%5Bid%5D=31000001&account%5Bsubdomain%5D=demo&account%5B_links%5D%5Bself%5D=https%3A%2F%2Fdemo.amocrm.ru",
			account: 31000001,
			events: []Event{{Kind: LeadStatusChanged, ID: 25399013, StatusID: 142, OldStatusID: 7102, PipelineID: 7001, OldPipelineID: 7001,
				ResponsibleUserID: 5002, ModifiedUserID: 5001, LastModified: time.Unix(1764489600, 0).UTC()}},
		},
		{
			name:    "two lost leads and a responsible change",
			body:    "leads[status][1][id]=2&leads[status][1][status_id]=143&leads[status][1][pipeline_id]=7002&leads[status][0][id]=1&leads[status][0][status_id]=143&leads[status][0][pipeline_id]=7001&leads[responsible][0][id]=1&leads[responsible][0][responsible_user_id]=938348&leads[responsible][0][old_responsible_user_id]=5002&account[id]=5",
			account: 5,
			events: []Event{
				{Kind: LeadResponsibleChanged, ID: 1, ResponsibleUserID: 938348, OldResponsibleUserID: 5002},
				{Kind: LeadStatusChanged, ID: 1, StatusID: 143, PipelineID: 7001},
				{Kind: LeadStatusChanged, ID: 2, StatusID: 143, PipelineID: 7002},
			},
		},
		{
			name:    "contact responsible, deeper keys ignored",
			body:    "contacts[responsible][0][id]=9001&contacts[responsible][0][type]=contact&contacts[responsible][0][responsible_user_id]=5004&contacts[responsible][0][custom_fields][0][id]=1&account[id]=7",
			account: 7,
			events:  []Event{{Kind: ContactResponsibleChanged, ID: 9001, Type: "contact", ResponsibleUserID: 5004}},
		},
		{name: "no events", body: "account[id]=7&account[subdomain]=x", account: 7},
		{name: "missing id", body: "leads[status][0][status_id]=142", wantErr: true},
		{name: "bad number", body: "leads[status][0][id]=1&leads[status][0][status_id]=won", wantErr: true},
		{name: "bad account", body: "account[id]=x", wantErr: true},
		{name: "bad time", body: "leads[status][0][id]=1&leads[status][0][last_modified]=yesterday", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := ParseWebhook(form(t, tt.body))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if w.AccountID != tt.account || len(w.Events) != len(tt.events) {
				t.Fatalf("webhook = %+v", w)
			}
			for i, want := range tt.events {
				got := w.Events[i]
				got.index = 0
				if got != want {
					t.Errorf("event %d = %+v\nwant %+v", i, got, want)
				}
			}
		})
	}
}

func TestEventWonLost(t *testing.T) {
	if !(Event{Kind: LeadStatusChanged, StatusID: 142}).Won() || !(Event{Kind: LeadUpdated, StatusID: 143}).Lost() {
		t.Error("lead events in 142/143")
	}
	if (Event{Kind: ContactUpdated, StatusID: 142}).Won() {
		t.Error("a contact event is never won")
	}
}

func FuzzParseWebhook(f *testing.F) {
	f.Add("leads[status][0][id]=1&leads[status][0][status_id]=142&account[id]=2")
	f.Add("contacts[update][3][id]=9&contacts[update][3][type]=company")
	f.Add("leads[status][999999][id]=1")
	f.Fuzz(func(t *testing.T, body string) {
		v, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		w, err := ParseWebhook(v)
		if err != nil {
			return
		}
		for _, e := range w.Events {
			if e.ID == 0 {
				t.Fatalf("event without id: %+v", e)
			}
		}
	})
}
