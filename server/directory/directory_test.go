package directory_test

import (
	"context"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

func TestChannels(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		ctx := context.Background()
		for _, p := range Protocols {
			t.Run(p.String(), func(t *testing.T) {
				d := env.Clients(env.AdminKey, p).Directory
				created, err := d.CreateChannel(ctx, &pb.CreateChannelRequest{Kind: pb.ChannelKind_CHANNEL_KIND_TELEGRAM, Name: "Support", ExternalId: "+79990001122"})
				NoErr(t, err)
				ch := created.Channel
				if !ch.InIntegration || ch.OpenChannels || ch.Kind != pb.ChannelKind_CHANNEL_KIND_TELEGRAM || ch.ExternalId != "+79990001122" {
					t.Fatalf("created: %v", ch)
				}
				name, off, on := "Support line", false, true
				upd, err := d.UpdateChannel(ctx, &pb.UpdateChannelRequest{ChannelId: ch.Id, Name: &name, InIntegration: &off, OpenChannels: &on})
				NoErr(t, err)
				if upd.Channel.Name != name || upd.Channel.InIntegration || !upd.Channel.OpenChannels {
					t.Fatalf("updated: %v", upd.Channel)
				}
				// Fields not set stay as they are.
				upd, err = d.UpdateChannel(ctx, &pb.UpdateChannelRequest{ChannelId: ch.Id, InIntegration: &on})
				NoErr(t, err)
				if upd.Channel.Name != name || !upd.Channel.InIntegration || !upd.Channel.OpenChannels {
					t.Fatalf("partial update: %v", upd.Channel)
				}
				list, err := d.ListChannels(ctx, &pb.ListChannelsRequest{})
				NoErr(t, err)
				if l := list.Channels[len(list.Channels)-1]; !proto.Equal(l, upd.Channel) {
					t.Fatalf("listed %v, want %v", l, upd.Channel)
				}
				_, err = d.UpdateChannel(ctx, &pb.UpdateChannelRequest{ChannelId: "999999", Name: &name})
				WantCode(t, err, connect.CodeNotFound)
			})
		}
	})
}

func TestEmployees(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		ctx := context.Background()
		d := env.Admin().Directory
		e, err := d.CreateEmployee(ctx, &pb.CreateEmployeeRequest{Name: "Peter Parker", CrmUserId: "u-1", Email: "peter@example.com"})
		NoErr(t, err)
		if !e.Employee.Active || e.Employee.CrmUserId != "u-1" {
			t.Fatalf("created: %v", e.Employee)
		}
		_, err = d.CreateEmployee(ctx, &pb.CreateEmployeeRequest{Name: "Another Peter", CrmUserId: "u-1"})
		WantCode(t, err, connect.CodeAlreadyExists)
		two, err := d.CreateEmployee(ctx, &pb.CreateEmployeeRequest{Name: "Mary Jane"})
		NoErr(t, err)
		dup := "u-1"
		_, err = d.UpdateEmployee(ctx, &pb.UpdateEmployeeRequest{EmployeeId: two.Employee.Id, CrmUserId: &dup})
		WantCode(t, err, connect.CodeAlreadyExists)
		name, email := "Peter B. Parker", ""
		upd, err := d.UpdateEmployee(ctx, &pb.UpdateEmployeeRequest{EmployeeId: e.Employee.Id, Name: &name, Email: &email})
		NoErr(t, err)
		if upd.Employee.Name != name || upd.Employee.Email != "" || upd.Employee.CrmUserId != "u-1" {
			t.Fatalf("updated: %v", upd.Employee)
		}
		_, err = d.DeactivateEmployee(ctx, &pb.DeactivateEmployeeRequest{EmployeeId: e.Employee.Id})
		NoErr(t, err)
		active, err := d.ListEmployees(ctx, &pb.ListEmployeesRequest{})
		NoErr(t, err)
		all, err := d.ListEmployees(ctx, &pb.ListEmployeesRequest{IncludeDeactivated: true})
		NoErr(t, err)
		if len(active.Employees) != 1 || len(all.Employees) != 2 || all.Employees[0].Active {
			t.Fatalf("active %v all %v", active.Employees, all.Employees)
		}
		r, err := d.ReactivateEmployee(ctx, &pb.ReactivateEmployeeRequest{EmployeeId: e.Employee.Id})
		NoErr(t, err)
		if !r.Employee.Active {
			t.Fatal("not reactivated")
		}
		for _, err := range []error{
			second(d.UpdateEmployee(ctx, &pb.UpdateEmployeeRequest{EmployeeId: "999999", Name: &name})),
			second(d.DeactivateEmployee(ctx, &pb.DeactivateEmployeeRequest{EmployeeId: "999999"})),
			second(d.ReactivateEmployee(ctx, &pb.ReactivateEmployeeRequest{EmployeeId: "999999"})),
		} {
			WantCode(t, err, connect.CodeNotFound)
		}
	})
}

func second[T any](_ T, err error) error { return err }

func TestPipelines(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		ctx := context.Background()
		d := env.Admin().Directory
		p1, err := d.CreatePipeline(ctx, &pb.CreatePipelineRequest{Name: "Retail", StageNames: []string{"New", "Won"}})
		NoErr(t, err)
		p2, err := d.CreatePipeline(ctx, &pb.CreatePipelineRequest{Name: "Wholesale", StageNames: []string{"Inquiry"}})
		NoErr(t, err)
		_, err = d.CreateLeadStatus(ctx, &pb.CreateLeadStatusRequest{Name: "Fresh"})
		NoErr(t, err)
		list, err := d.ListPipelines(ctx, &pb.ListPipelinesRequest{})
		NoErr(t, err)
		if len(list.Pipelines) != 2 || !proto.Equal(list.Pipelines[0], p1.Pipeline) || !proto.Equal(list.Pipelines[1], p2.Pipeline) ||
			list.Pipelines[0].Stages[1].Name != "Won" || len(list.LeadStatuses) != 1 {
			t.Fatalf("pipelines: %v", list)
		}
	})
}

func TestDirectoryValidation(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		ctx := context.Background()
		d := env.Admin().Directory
		long := strings.Repeat("x", 201)
		empty := ""
		tests := []struct {
			name  string
			call  func() error
			field string
		}{
			{"channel without kind", func() error { return second(d.CreateChannel(ctx, &pb.CreateChannelRequest{Name: "A"})) }, "kind"},
			{"channel unknown kind", func() error { return second(d.CreateChannel(ctx, &pb.CreateChannelRequest{Kind: 99, Name: "A"})) }, "kind"},
			{"channel without name", func() error { return second(d.CreateChannel(ctx, &pb.CreateChannelRequest{Kind: 1})) }, "name"},
			{"channel name too long", func() error { return second(d.CreateChannel(ctx, &pb.CreateChannelRequest{Kind: 1, Name: long})) }, "name"},
			{"update channel without id", func() error { return second(d.UpdateChannel(ctx, &pb.UpdateChannelRequest{Name: &long})) }, "channel_id"},
			{"update channel nothing", func() error { return second(d.UpdateChannel(ctx, &pb.UpdateChannelRequest{ChannelId: "1"})) }, "channel_id"},
			{"rename channel to empty", func() error {
				return second(d.UpdateChannel(ctx, &pb.UpdateChannelRequest{ChannelId: "1", Name: &empty}))
			}, "name"},
			{"employee without name", func() error { return second(d.CreateEmployee(ctx, &pb.CreateEmployeeRequest{})) }, "name"},
			{"employee name with NUL", func() error { return second(d.CreateEmployee(ctx, &pb.CreateEmployeeRequest{Name: "Bruce\x00Wayne"})) }, "name"},
			{"employee bad email", func() error {
				return second(d.CreateEmployee(ctx, &pb.CreateEmployeeRequest{Name: "A", Email: "not an email"}))
			}, "email"},
			{"update employee bad id", func() error {
				return second(d.UpdateEmployee(ctx, &pb.UpdateEmployeeRequest{EmployeeId: "x", Name: &long}))
			}, "employee_id"},
			{"update employee nothing", func() error { return second(d.UpdateEmployee(ctx, &pb.UpdateEmployeeRequest{EmployeeId: "1"})) }, "employee_id"},
			{"deactivate without id", func() error { return second(d.DeactivateEmployee(ctx, &pb.DeactivateEmployeeRequest{})) }, "employee_id"},
			{"reactivate bad id", func() error {
				return second(d.ReactivateEmployee(ctx, &pb.ReactivateEmployeeRequest{EmployeeId: "-4"}))
			}, "employee_id"},
			{"pipeline without stages", func() error { return second(d.CreatePipeline(ctx, &pb.CreatePipelineRequest{Name: "P"})) }, "stage_names"},
			{"pipeline empty stage", func() error {
				return second(d.CreatePipeline(ctx, &pb.CreatePipelineRequest{Name: "P", StageNames: []string{"a", ""}}))
			}, "stage_names[1]"},
			{"lead status without name", func() error { return second(d.CreateLeadStatus(ctx, &pb.CreateLeadStatusRequest{})) }, "name"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { WantViolations(t, tt.call(), tt.field) })
		}
		chs, _ := d.ListChannels(ctx, &pb.ListChannelsRequest{})
		emps, _ := d.ListEmployees(ctx, &pb.ListEmployeesRequest{IncludeDeactivated: true})
		pls, _ := d.ListPipelines(ctx, &pb.ListPipelinesRequest{})
		if len(chs.Channels)+len(emps.Employees)+len(pls.Pipelines)+len(pls.LeadStatuses) != 0 {
			t.Fatal("a rejected request created something")
		}
	})
}
