package routing

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/accountsettings"
	"github.com/switchboardhq/switchboard/ent/channel"
	"github.com/switchboardhq/switchboard/ent/channelmember"
	"github.com/switchboardhq/switchboard/ent/deal"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/directory/snapshot"
	"github.com/switchboardhq/switchboard/server/distribution"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/notify"
)

// The decisions of routing's commands, without a database: a situation
// as load would read it, the plan decide makes of it.

const (
	bruce int64 = iota + 1
	scrooge
	tony
	alfred // a manager
	rachel // a sales rep who takes no new clients
	gone   // deactivated
)

const (
	wa int64 = 10 // the channel messages arrive on
	tg int64 = 11 // another channel of the client
)

var staff = map[int64]string{bruce: "Bruce", scrooge: "Scrooge", tony: "Tony", alfred: "Alfred", rachel: "Rachel", gone: "Gone"}

func rep(id int64, weight int) snapshot.Member {
	return snapshot.Member{EmployeeID: id, Role: channelmember.RoleSALES_REP, Access: channelmember.AccessREAD_WRITE, Receives: true, Weight: weight}
}

func manager(id int64) snapshot.Member {
	return snapshot.Member{EmployeeID: id, Role: channelmember.RoleMANAGER, Access: channelmember.AccessREAD_WRITE, Weight: 1}
}

func quiet(id int64) snapshot.Member {
	m := rep(id, 1)
	m.Receives = false
	return m
}

// world is a directory: wa with the given mode and members, tg where
// everyone is a sales rep taking new clients, a default stage.
func world(mode channel.Distribution, members ...snapshot.Member) *snapshot.Snapshot {
	as := &ent.AccountSettings{AccountID: 1, DirectoryVersion: 7, CrmKind: accountsettings.CrmKindNATIVE,
		GlobalChatVisibility: accountsettings.GlobalChatVisibilityOWN}
	s := &snapshot.Snapshot{Version: 7, Settings: as, Employees: map[int64]*ent.Employee{},
		Channels: map[int64]*ent.Channel{
			wa: {ID: wa, Name: "WhatsApp", Kind: channel.KindWHATSAPP, InIntegration: true, Distribution: mode,
				RepeatClientPolicy: channel.RepeatClientPolicyCREATE_NEW_DEAL, EntityKind: channel.EntityKindDEFAULT},
			tg: {ID: tg, Name: "Telegram", Kind: channel.KindTELEGRAM, InIntegration: true, Distribution: channel.DistributionROUND_ROBIN,
				RepeatClientPolicy: channel.RepeatClientPolicyCREATE_NEW_DEAL, EntityKind: channel.EntityKindDEFAULT},
		},
		Members:      map[int64][]snapshot.Member{wa: members, tg: {rep(bruce, 1), rep(scrooge, 1), rep(tony, 1)}},
		FirstStage:   map[int64]int64{5: 50},
		DefaultStage: &ent.Stage{ID: 50, PipelineID: 5},
	}
	for id, name := range staff {
		s.Employees[id] = &ent.Employee{ID: id, Name: name, Active: id != gone}
	}
	return s
}

func ptr(id int64) *int64 { return &id }

// known is a client read from the store: responsible (0: none), with the
// given chats (by channel; chat ids are 100 + channel).
func known(responsible int64, channels ...int64) (*ent.Contact, []*ent.Chat) {
	cl := &ent.Contact{ID: 500, Name: "Ann", Identity: "+79160000001", Phone: "+79160000001"}
	if responsible != 0 {
		cl.ResponsibleID = &responsible
	}
	var chats []*ent.Chat
	for _, ch := range channels {
		chats = append(chats, &ent.Chat{ID: 100 + ch, ChannelID: ch, ContactID: cl.ID})
	}
	return cl, chats
}

func pushesOf(ds []notify.Decision) []string {
	var out []string
	for _, d := range ds {
		who := staff[d.EmployeeID]
		if d.EmployeeID == 0 {
			who = "general chat"
		}
		out = append(out, fmt.Sprintf("%s %s chat %d", d.Reason, who, d.ChatID))
	}
	return out
}

// routeIn runs an incoming message's decision the way routeIncoming does,
// with the ids the store would give: a new client 900, its deal 901, a new
// chat 902.
func routeIn(sit *incomingSituation, cursor distribution.Cursor) (*incomingPlan, *incomingOutcome) {
	p := decideIncoming(sit)
	rows := &incomingRows{client: sit.client, deal: p.deal, chat: p.chat}
	if p.create != nil {
		rows.client = &ent.Contact{ID: 900, Name: p.create.name, Identity: p.create.who.identity, Phone: p.create.who.phone}
	}
	if (p.create != nil && p.create.entity != nil) || p.entity != nil {
		rows.deal = &ent.Deal{ID: 901, ContactID: rows.client.ID, ChannelID: sit.channel.ID, State: deal.StateOPEN}
	}
	if rows.chat == nil {
		rows.chat = &ent.Chat{ID: 902, ChannelID: sit.channel.ID, ContactID: rows.client.ID}
	}
	if p.distribute {
		sit.cursor = &lockedCursor{id: 77, at: cursor}
	}
	return p, decideMessage(sit, p, rows)
}

func TestDecideIncoming(t *testing.T) {
	closed := &ent.Deal{ID: 40, State: deal.StateWON}
	open := &ent.Deal{ID: 41, State: deal.StateOPEN}
	type want struct {
		action      pb.EntityAction
		source      pb.ResponsibleSource
		responsible int64 // 0: none
		// written: the responsible is written (from → to); cursor: the
		// cursor moves to it.
		written    bool
		cursor     *distribution.Cursor
		candidates int
		pushes     []string
		general    bool
		// crm: the outbox jobs NewClient, Logged, Responsible.
		crm          [3]bool
		handsChanged bool
	}
	tests := []struct {
		name   string
		snap   *snapshot.Snapshot
		change func(s *incomingSituation)
		cursor distribution.Cursor
		want   want
	}{
		{"new client, round robin: the member after the last", world(channel.DistributionROUND_ROBIN, rep(bruce, 1), rep(scrooge, 1), rep(tony, 1)),
			nil, distribution.Cursor{Last: scrooge, Streak: 1},
			want{action: pb.EntityAction_ENTITY_ACTION_CREATED, source: pb.ResponsibleSource_RESPONSIBLE_SOURCE_DISTRIBUTED,
				responsible: tony, written: true, cursor: &distribution.Cursor{Last: tony, Streak: 1},
				pushes: []string{"NEW_CLIENT_ASSIGNED Tony chat 902"}}},
		{"new client, round robin wraps", world(channel.DistributionROUND_ROBIN, rep(bruce, 1), rep(scrooge, 1), rep(tony, 1)),
			nil, distribution.Cursor{Last: tony, Streak: 1},
			want{action: pb.EntityAction_ENTITY_ACTION_CREATED, source: pb.ResponsibleSource_RESPONSIBLE_SOURCE_DISTRIBUTED,
				responsible: bruce, written: true, cursor: &distribution.Cursor{Last: bruce, Streak: 1},
				pushes: []string{"NEW_CLIENT_ASSIGNED Bruce chat 902"}}},
		{"new client, weighted: the last again while its weight allows", world(channel.DistributionWEIGHTED, rep(bruce, 1), rep(tony, 2)),
			nil, distribution.Cursor{Last: tony, Streak: 1},
			want{action: pb.EntityAction_ENTITY_ACTION_CREATED, source: pb.ResponsibleSource_RESPONSIBLE_SOURCE_DISTRIBUTED,
				responsible: tony, written: true, cursor: &distribution.Cursor{Last: tony, Streak: 2},
				pushes: []string{"NEW_CLIENT_ASSIGNED Tony chat 902"}}},
		{"new client, first responder: every candidate", world(channel.DistributionFIRST_RESPONDER, rep(bruce, 1), quiet(rachel), rep(scrooge, 1)),
			nil, distribution.Cursor{},
			want{action: pb.EntityAction_ENTITY_ACTION_CREATED, source: pb.ResponsibleSource_RESPONSIBLE_SOURCE_PENDING_FIRST_RESPONDER,
				candidates: 2, pushes: []string{"NEW_CLIENT_CANDIDATE Bruce chat 902", "NEW_CLIENT_CANDIDATE Scrooge chat 902"}}},
		{"new client, round robin, nobody eligible: the general chat", world(channel.DistributionROUND_ROBIN, quiet(rachel), rep(gone, 1)),
			nil, distribution.Cursor{},
			want{action: pb.EntityAction_ENTITY_ACTION_CREATED, source: pb.ResponsibleSource_RESPONSIBLE_SOURCE_NONE_ELIGIBLE,
				pushes: []string{"GENERAL_CHAT general chat chat 902"}, general: true}},
		{"new client, first responder, nobody eligible", world(channel.DistributionFIRST_RESPONDER, quiet(rachel)),
			nil, distribution.Cursor{},
			want{action: pb.EntityAction_ENTITY_ACTION_CREATED, source: pb.ResponsibleSource_RESPONSIBLE_SOURCE_NONE_ELIGIBLE,
				pushes: []string{"GENERAL_CHAT general chat chat 902"}, general: true}},
		{"new client, no pipeline: the client only", world(channel.DistributionROUND_ROBIN, rep(bruce, 1)),
			func(s *incomingSituation) { s.snap.DefaultStage = nil }, distribution.Cursor{},
			want{action: pb.EntityAction_ENTITY_ACTION_CONTACT_ONLY, source: pb.ResponsibleSource_RESPONSIBLE_SOURCE_DISTRIBUTED,
				responsible: bruce, written: true, cursor: &distribution.Cursor{Last: bruce, Streak: 1},
				pushes: []string{"NEW_CLIENT_ASSIGNED Bruce chat 902"}}},
		{"new client, managers hear of all messages", world(channel.DistributionROUND_ROBIN, rep(bruce, 1), manager(alfred)),
			func(s *incomingSituation) { s.settings.NotifyManagersAllMessages = true }, distribution.Cursor{},
			want{action: pb.EntityAction_ENTITY_ACTION_CREATED, source: pb.ResponsibleSource_RESPONSIBLE_SOURCE_DISTRIBUTED,
				responsible: bruce, written: true, cursor: &distribution.Cursor{Last: bruce, Streak: 1},
				pushes: []string{"NEW_CLIENT_ASSIGNED Bruce chat 902", "MANAGER_ALL_MESSAGES Alfred chat 902", "GENERAL_CHAT general chat chat 902"}, general: true}},
		{"new client of an external CRM: its deal and message go to the outbox", world(channel.DistributionROUND_ROBIN, rep(bruce, 1)),
			func(s *incomingSituation) { s.external = true }, distribution.Cursor{},
			want{action: pb.EntityAction_ENTITY_ACTION_CREATED, source: pb.ResponsibleSource_RESPONSIBLE_SOURCE_DISTRIBUTED,
				responsible: bruce, written: true, cursor: &distribution.Cursor{Last: bruce, Streak: 1},
				pushes: []string{"NEW_CLIENT_ASSIGNED Bruce chat 902"}, crm: [3]bool{true, true, false}}},
		{"the test client stays out of the CRM", world(channel.DistributionROUND_ROBIN, rep(bruce, 1)),
			func(s *incomingSituation) { s.external, s.test = true, true }, distribution.Cursor{},
			want{action: pb.EntityAction_ENTITY_ACTION_CREATED, source: pb.ResponsibleSource_RESPONSIBLE_SOURCE_DISTRIBUTED,
				responsible: bruce, written: true, cursor: &distribution.Cursor{Last: bruce, Streak: 1},
				pushes: []string{"NEW_CLIENT_ASSIGNED Bruce chat 902"}}},
		{"known client with an open deal: joins it, keeps its responsible", world(channel.DistributionROUND_ROBIN, rep(bruce, 1), rep(scrooge, 1)),
			func(s *incomingSituation) {
				s.client, s.chats = known(scrooge, wa)
				s.deal = open
			}, distribution.Cursor{},
			want{action: pb.EntityAction_ENTITY_ACTION_ATTACHED_TO_OPEN, source: pb.ResponsibleSource_RESPONSIBLE_SOURCE_KEPT,
				responsible: scrooge, pushes: []string{"RESPONSIBLE Scrooge chat 110"}}},
		{"known client with an open deal, its responsible deactivated: kept all the same, nobody pushed", world(channel.DistributionROUND_ROBIN, rep(bruce, 1), rep(gone, 1)),
			func(s *incomingSituation) {
				s.client, s.chats = known(gone, wa)
				s.deal = open
			}, distribution.Cursor{},
			want{action: pb.EntityAction_ENTITY_ACTION_ATTACHED_TO_OPEN, source: pb.ResponsibleSource_RESPONSIBLE_SOURCE_KEPT,
				responsible: gone, pushes: []string{"GENERAL_CHAT general chat chat 110"}, general: true}},
		{"repeat client kept: its responsible can still write", world(channel.DistributionROUND_ROBIN, rep(bruce, 1), rep(scrooge, 1)),
			func(s *incomingSituation) {
				s.client, s.chats = known(scrooge, wa)
				s.deal = closed
			}, distribution.Cursor{},
			want{action: pb.EntityAction_ENTITY_ACTION_CREATED, source: pb.ResponsibleSource_RESPONSIBLE_SOURCE_KEPT,
				responsible: scrooge, pushes: []string{"RESPONSIBLE Scrooge chat 110"}}},
		{"repeat client joins its last closed deal when the channel says so", world(channel.DistributionROUND_ROBIN, rep(bruce, 1), rep(scrooge, 1)),
			func(s *incomingSituation) {
				s.client, s.chats = known(scrooge, wa)
				s.deal = closed
				s.channel.RepeatClientPolicy = channel.RepeatClientPolicyAPPEND_TO_LAST_CLOSED_DEAL
			}, distribution.Cursor{},
			want{action: pb.EntityAction_ENTITY_ACTION_ATTACHED_TO_LAST_CLOSED, source: pb.ResponsibleSource_RESPONSIBLE_SOURCE_KEPT,
				responsible: scrooge, pushes: []string{"RESPONSIBLE Scrooge chat 110"}}},
		{"repeat client handed on: its responsible left the channel and loses its chats", world(channel.DistributionROUND_ROBIN, rep(bruce, 1), rep(tony, 1)),
			func(s *incomingSituation) {
				s.client, s.chats = known(scrooge, wa, tg)
				s.deal = closed
				s.external = true
			}, distribution.Cursor{Last: bruce, Streak: 1},
			want{action: pb.EntityAction_ENTITY_ACTION_CREATED, source: pb.ResponsibleSource_RESPONSIBLE_SOURCE_DISTRIBUTED,
				responsible: tony, written: true, cursor: &distribution.Cursor{Last: tony, Streak: 1},
				pushes:       []string{"NEW_CLIENT_ASSIGNED Tony chat 110", "CHAT_REVOKED Scrooge chat 111"},
				crm:          [3]bool{true, true, true},
				handsChanged: true}},
		{"repeat client writing first on a channel, handed on: its new chat and the revocation of the other", world(channel.DistributionROUND_ROBIN, rep(bruce, 1)),
			func(s *incomingSituation) {
				s.client, s.chats = known(scrooge, tg)
				s.deal = closed
			}, distribution.Cursor{},
			want{action: pb.EntityAction_ENTITY_ACTION_CREATED, source: pb.ResponsibleSource_RESPONSIBLE_SOURCE_DISTRIBUTED,
				responsible: bruce, written: true, cursor: &distribution.Cursor{Last: bruce, Streak: 1},
				pushes:       []string{"NEW_CLIENT_ASSIGNED Bruce chat 902", "CHAT_REVOKED Scrooge chat 111"},
				handsChanged: true}},
		{"repeat client, first responder: its responsible is cleared", world(channel.DistributionFIRST_RESPONDER, rep(bruce, 1)),
			func(s *incomingSituation) {
				s.client, s.chats = known(scrooge, wa)
				s.deal = closed
			}, distribution.Cursor{},
			want{action: pb.EntityAction_ENTITY_ACTION_CREATED, source: pb.ResponsibleSource_RESPONSIBLE_SOURCE_PENDING_FIRST_RESPONDER,
				written: true, candidates: 1, pushes: []string{"NEW_CLIENT_CANDIDATE Bruce chat 110"}, handsChanged: true}},
		{"known client without a deal keeps its responsible, even one off the channel", world(channel.DistributionROUND_ROBIN, rep(bruce, 1)),
			func(s *incomingSituation) { s.client, s.chats = known(scrooge) }, distribution.Cursor{},
			want{action: pb.EntityAction_ENTITY_ACTION_CREATED, source: pb.ResponsibleSource_RESPONSIBLE_SOURCE_KEPT,
				responsible: scrooge, pushes: []string{"GENERAL_CHAT general chat chat 902"}, general: true}},
		{"known client without a deal or a responsible is distributed", world(channel.DistributionROUND_ROBIN, rep(bruce, 1)),
			func(s *incomingSituation) {
				s.client, s.chats = known(0, wa)
				s.external = true
			}, distribution.Cursor{},
			want{action: pb.EntityAction_ENTITY_ACTION_CREATED, source: pb.ResponsibleSource_RESPONSIBLE_SOURCE_DISTRIBUTED,
				responsible: bruce, written: true, cursor: &distribution.Cursor{Last: bruce, Streak: 1},
				pushes: []string{"NEW_CLIENT_ASSIGNED Bruce chat 110"}, crm: [3]bool{true, true, true}, handsChanged: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := tt.snap
			sit := &incomingSituation{settings: snap.Settings, snap: snap, channel: snap.Channels[wa],
				who: sender{identity: "+79160000001", phone: "+79160000001"}, content: Content{Text: "hello"}}
			if tt.change != nil {
				tt.change(sit)
			}
			if sit.client != nil && sit.client.ResponsibleID != nil {
				sit.responsible = snap.Employees[*sit.client.ResponsibleID]
			}
			plan, o := routeIn(sit, tt.cursor)
			d := o.decision
			got := want{action: d.EntityAction, source: d.Assignment.Source, written: o.responsible != nil,
				candidates: len(d.Assignment.CandidateEmployeeIds), pushes: pushesOf(o.pushes), general: d.PostedToGeneralChat,
				crm: [3]bool{plan.crmNewClient, plan.crmLogged, plan.crmResponsible}, handsChanged: o.handsChanged}
			got.responsible = ids.Value(d.Client.ResponsibleEmployeeId)
			if o.cursor != nil {
				if o.cursor.id != 77 {
					t.Errorf("cursor row %d", o.cursor.id)
				}
				got.cursor = &o.cursor.next
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v\n(%s)", got, tt.want, d.Assignment.Explanation)
			}
			if d.Assignment.Explanation == "" {
				t.Fatal("no explanation")
			}
			if o.responsible != nil {
				var prev *int64
				if sit.client != nil {
					prev = sit.client.ResponsibleID
				}
				if !sameEmployee(o.responsible.from, prev) {
					t.Fatalf("written from %v, read %v", o.responsible.from, prev)
				}
			}
			for _, p := range o.pushes {
				if p.Explanation == "" || ids.Format(p.ContactID) != d.Client.Id {
					t.Fatalf("push %+v", p)
				}
			}
		})
	}
}

func TestDecideOutgoing(t *testing.T) {
	claimedAt := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name    string
		snap    *snapshot.Snapshot
		writer  int64
		change  func(s *outgoingSituation)
		code    error // the refusal
		claim   bool
		pushes  []string
		crm     [2]bool // Responsible, Logged
		claimed string  // CLIENT_CLAIMED's responsible_name
	}{
		{"the responsible writes", world(channel.DistributionROUND_ROBIN, rep(bruce, 1)), bruce,
			func(s *outgoingSituation) { s.client, _ = known(bruce, wa) }, nil, false, nil, [2]bool{}, ""},
		{"a manager writes to another's client without claiming it", world(channel.DistributionROUND_ROBIN, rep(bruce, 1), manager(alfred)), alfred,
			func(s *outgoingSituation) { s.client, _ = known(bruce, wa) }, nil, false, nil, [2]bool{}, ""},
		{"a candidate claims: the others lose the chat", world(channel.DistributionFIRST_RESPONDER, rep(bruce, 1), rep(scrooge, 1), rep(tony, 1)), scrooge,
			func(s *outgoingSituation) {
				s.client, s.chats = known(0, wa)
				s.external = true
			}, nil, true,
			[]string{"CHAT_REVOKED Bruce chat 110", "CHAT_REVOKED Tony chat 110", "NEW_CLIENT_ASSIGNED Scrooge chat 110"}, [2]bool{true, true}, ""},
		{"a claim on a chat the employee opens: its pushes come last, with chat 0", world(channel.DistributionROUND_ROBIN, rep(bruce, 1), quiet(scrooge)), bruce,
			func(s *outgoingSituation) {
				s.settings.GlobalChatVisibility = accountsettings.GlobalChatVisibilityOWN_AND_UNASSIGNED
				s.client, s.chats = known(0, tg)
				s.chat = nil
			}, nil, true,
			[]string{"CHAT_REVOKED Scrooge chat 111", "CHAT_REVOKED Tony chat 111", "NEW_CLIENT_ASSIGNED Bruce chat 111", "CHAT_REVOKED Scrooge chat 0"}, [2]bool{}, ""},
		{"another's client is refused", world(channel.DistributionROUND_ROBIN, rep(bruce, 1), rep(scrooge, 1)), scrooge,
			func(s *outgoingSituation) { s.client, _ = known(bruce, wa) }, errs.ErrForbidden, false, nil, [2]bool{}, ""},
		{"read-only is refused", world(channel.DistributionROUND_ROBIN, quiet(bruce)), bruce,
			func(s *outgoingSituation) {
				s.snap.Members[wa][0].Access = channelmember.AccessREAD_ONLY
				s.client, _ = known(bruce, wa)
			}, errs.ErrForbidden, false, nil, [2]bool{}, ""},
		{"a candidate that lost the race is told who claimed", world(channel.DistributionFIRST_RESPONDER, rep(bruce, 1), rep(scrooge, 1)), scrooge,
			func(s *outgoingSituation) {
				s.client, _ = known(bruce, wa)
				s.client.ClaimedAt = &claimedAt
				s.responsible = s.snap.Employees[bruce]
			}, errs.ErrAborted, false, nil, [2]bool{}, "Bruce"},
		{"the test client's messages stay out of the CRM", world(channel.DistributionROUND_ROBIN, rep(bruce, 1)), bruce,
			func(s *outgoingSituation) {
				s.client, _ = known(bruce, wa)
				s.client.IsTest = true
				s.external = true
			}, nil, false, nil, [2]bool{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := tt.snap
			sit := &outgoingSituation{settings: snap.Settings, snap: snap, employee: snap.Employees[tt.writer],
				channel: snap.Channels[wa], choice: pb.ChannelChoice_CHANNEL_CHOICE_CHAT,
				chat: &ent.Chat{ID: 100 + wa, ChannelID: wa, ContactID: 500}}
			tt.change(sit)
			p, err := decideOutgoing(sit)
			if tt.code != nil {
				if !errors.Is(err, tt.code) {
					t.Fatalf("err %v, want %v", err, tt.code)
				}
				if got := claimedBy(err); got != tt.claimed {
					t.Fatalf("claimed by %q, want %q (%v)", got, tt.claimed, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.claim != tt.claim || p.response.Claimed != tt.claim || !reflect.DeepEqual(pushesOf(p.pushes), tt.pushes) ||
				[2]bool{p.crmResponsible, p.crmLogged} != tt.crm {
				t.Fatalf("claim %v, pushes %v, crm %v", p.claim, pushesOf(p.pushes), [2]bool{p.crmResponsible, p.crmLogged})
			}
			if !p.response.Access.CanWrite || p.response.Client == nil {
				t.Fatalf("response %v", p.response)
			}
			if tt.claim && (p.client.ResponsibleID == nil || *p.client.ResponsibleID != tt.writer) {
				t.Fatalf("claimed client %+v", p.client)
			}
		})
	}
}

// claimedBy returns the CLIENT_CLAIMED detail's responsible name.
func claimedBy(err error) string {
	var e *errs.Error
	if !errors.As(err, &e) {
		return ""
	}
	for _, d := range e.Details {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.Reason == ClaimedReason {
			return info.Metadata["responsible_name"]
		}
	}
	return ""
}

func TestDecideTransfer(t *testing.T) {
	tests := []struct {
		name     string
		to       int64
		acting   int64
		fromCRM  bool
		before   int64
		external bool
		code     error
		change   bool
		pushes   []string
		crm      bool
	}{
		{"a manager transfers: the previous responsible loses the chats", tony, alfred, false, bruce, true, nil, true,
			[]string{"CHAT_REVOKED Bruce chat 110", "NEW_CLIENT_ASSIGNED Tony chat 110", "CHAT_REVOKED Bruce chat 111"}, true},
		{"an API key transfers an unassigned client", bruce, 0, false, 0, false, nil, true,
			[]string{"NEW_CLIENT_ASSIGNED Bruce chat 110"}, false},
		{"to the current responsible: nothing changes", bruce, 0, false, bruce, true, nil, false, nil, false},
		{"a sales rep may not transfer", tony, scrooge, false, bruce, false, errs.ErrForbidden, false, nil, false},
		{"an unknown employee", 99, 0, false, bruce, false, errs.ErrNotFound, false, nil, false},
		{"to someone who cannot write there", rachel, 0, false, bruce, false, errs.ErrInvalid, false, nil, false},
		{"the CRM gives it to someone who cannot write there, and does not hear of it again", rachel, 0, true, bruce, true, nil, true,
			[]string{"CHAT_REVOKED Bruce chat 110", "NEW_CLIENT_ASSIGNED Rachel chat 110", "CHAT_REVOKED Bruce chat 111"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := world(channel.DistributionROUND_ROBIN, rep(bruce, 1), rep(tony, 1), manager(alfred), rep(scrooge, 1))
			snap.Members[tg] = append(snap.Members[tg], rep(rachel, 1))
			snap.Members[wa] = append(snap.Members[wa], snapshot.Member{EmployeeID: rachel, Role: channelmember.RoleSALES_REP, Access: channelmember.AccessREAD_ONLY})
			cl, chats := known(tt.before, wa, tg)
			sit := &transferSituation{snap: snap, channel: snap.Channels[wa], employee: snap.Employees[tt.to], employeeID: tt.to,
				acting: tt.acting, fromCRM: tt.fromCRM, external: tt.external, client: cl, chats: chats}
			p, err := decideTransfer(sit)
			if tt.code != nil {
				if !errors.Is(err, tt.code) {
					t.Fatalf("err %v, want %v", err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.change != tt.change || !reflect.DeepEqual(pushesOf(p.pushes), tt.pushes) || p.crmResponsible != tt.crm {
				t.Fatalf("change %v, pushes %v, crm %v", p.change, pushesOf(p.pushes), p.crmResponsible)
			}
			if p.response.Client.ResponsibleEmployeeId != ids.Format(tt.to) {
				t.Fatalf("client %v", p.response.Client)
			}
			if want := ids.FormatPtr(sit.client.ResponsibleID); p.response.PreviousResponsibleEmployeeId != want {
				t.Fatalf("previous %q, want %q", p.response.PreviousResponsibleEmployeeId, want)
			}
		})
	}
}

func TestDecideClose(t *testing.T) {
	tests := []struct {
		name   string
		state  deal.State
		won    bool
		acting int64
		code   error
		close  bool
	}{
		{"an API key closes an open deal as won", deal.StateOPEN, true, 0, nil, true},
		{"the responsible closes it as lost", deal.StateOPEN, false, bruce, nil, true},
		{"a manager of the channel closes it", deal.StateOPEN, false, alfred, nil, true},
		{"someone who cannot write to the client may not", deal.StateOPEN, true, scrooge, errs.ErrForbidden, false},
		{"someone off the directory is not found", deal.StateOPEN, true, 99, errs.ErrNotFound, false},
		{"closed so already: the same answer, nothing written", deal.StateWON, true, bruce, nil, false},
		{"closed the other way", deal.StateLOST, true, 0, errs.ErrFailedPrecondition, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := world(channel.DistributionROUND_ROBIN, rep(bruce, 1), rep(scrooge, 1), manager(alfred))
			cl, _ := known(bruce)
			d := &ent.Deal{ID: 41, ContactID: cl.ID, ChannelID: wa, State: tt.state}
			p, err := decideClose(&closeSituation{deal: d, won: tt.won, acting: tt.acting, client: cl, snap: snap})
			if tt.code != nil {
				if !errors.Is(err, tt.code) {
					t.Fatalf("err %v, want %v", err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := deal.StateLOST
			if tt.won {
				want = deal.StateWON
			}
			if p.close != tt.close || p.deal.State != want || d.State != tt.state {
				t.Fatalf("close %v, state %s (read %s)", p.close, p.deal.State, d.State)
			}
		})
	}
}
