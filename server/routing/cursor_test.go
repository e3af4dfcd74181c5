package routing_test

import (
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/channelmember"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/settings"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// TestMemberEditWhileDistributing: a distribution that waits on the
// channel's cursor while an edit of the member list holds it decides on
// the edited list once the edit commits — also when the edit leaves the
// list's order (and so the cursor's value) as it was. On PostgreSQL the
// waiting statement's directory version would otherwise be the one read
// before it waited.
func TestMemberEditWhileDistributing(t *testing.T) {
	env := New(t, Postgres(t), Options{})
	admin := env.Admin()
	var emps []string
	for _, n := range []string{"First", "Second"} {
		e := Must[*pb.CreateEmployeeResponse](t)(admin.Directory.CreateEmployee(ctx, &pb.CreateEmployeeRequest{Name: n}))
		emps = append(emps, e.Employee.Id)
	}
	ch := Must[*pb.CreateChannelResponse](t)(admin.Directory.CreateChannel(ctx, &pb.CreateChannelRequest{Kind: pb.ChannelKind_CHANNEL_KIND_WHATSAPP, Name: "Edit"}))
	UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
		cs := ChannelSettings(s, ch.Channel.Id)
		cs.Distribution = pb.DistributionMode_DISTRIBUTION_MODE_ROUND_ROBIN
		cs.Members = []*pb.ChannelMember{Member(emps[0], Rep, true, true, 1), Member(emps[1], Rep, true, true, 1)}
	})

	actx := tenant.NewContext(ctx, env.AccountID)
	locked, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- env.Store.Tx(actx, func(tx *ent.Tx) error {
			// The first member stops receiving new clients; the order
			// stays, so the cursor's value does not change.
			err := settings.ReplaceMembers(actx, tx, ids.Value(ch.Channel.Id), []settings.Member{
				{EmployeeID: ids.Value(emps[0]), Role: channelmember.RoleSALES_REP, Access: channelmember.AccessREAD_WRITE, ReceivesNewClients: false, Weight: 1},
				{EmployeeID: ids.Value(emps[1]), Role: channelmember.RoleSALES_REP, Access: channelmember.AccessREAD_WRITE, ReceivesNewClients: true, Weight: 1},
			})
			if err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	<-locked
	routed := make(chan *pb.RoutingDecision, 1)
	go func() { routed <- Route(t, admin, ch.Channel.Id, Phone(1), "hello") }()
	// Let the message read the directory and wait on the cursor.
	time.Sleep(500 * time.Millisecond)
	close(release)
	NoErr(t, <-done)
	d := <-routed
	if got := d.Assignment.ResponsibleEmployeeId; got != emps[1] {
		t.Fatalf("the client went to %s, want %s (the first member no longer receives new clients): %s", got, emps[1], d.Assignment.Explanation)
	}
}
