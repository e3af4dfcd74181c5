package testenv

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/client"
)

var gatewayIDs atomic.Int64

// GatewayID returns a fresh gateway message id.
func GatewayID() string { return fmt.Sprintf("gw-%d", gatewayIDs.Add(1)) }

// Route routes a text message from phone on channel and returns the decision.
func Route(t testing.TB, c *client.Clients, channel, phone, text string) *pb.RoutingDecision {
	t.Helper()
	res, err := c.Routing.RouteIncomingMessage(context.Background(), &pb.RouteIncomingMessageRequest{
		ChannelId: channel, Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: phone},
		Content: &pb.MessageContent{Text: text}, GatewayMessageId: GatewayID(),
	})
	if err != nil {
		t.Fatalf("route from %s on %s: %v", phone, channel, err)
	}
	return res.Decision
}

// Phone returns the i-th of a series of valid distinct Russian mobile
// numbers.
func Phone(i int) string { return fmt.Sprintf("+7916%07d", i) }

// UpdateSettings reads the settings, lets change edit them and saves them.
func UpdateSettings(t testing.TB, c *client.Clients, change func(s *pb.IntegrationSettings)) *pb.IntegrationSettings {
	t.Helper()
	ctx := context.Background()
	res, err := c.Integration.GetIntegrationSettings(ctx, &pb.GetIntegrationSettingsRequest{})
	if err != nil {
		t.Fatalf("get settings: %v", err)
	}
	s := proto.Clone(res.Settings).(*pb.IntegrationSettings)
	change(s)
	saved, err := c.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: s})
	if err != nil {
		t.Fatalf("update settings: %v", err)
	}
	return saved.Settings
}

// ChannelSettings finds a channel's settings.
func ChannelSettings(s *pb.IntegrationSettings, id string) *pb.ChannelSettings {
	for _, c := range s.Channels {
		if c.ChannelId == id {
			return c
		}
	}
	return nil
}

// Member builds a channel member.
func Member(employee string, role pb.EmployeeRole, rw, receives bool, weight int32) *pb.ChannelMember {
	a := pb.ChannelAccess_CHANNEL_ACCESS_READ_ONLY
	if rw {
		a = pb.ChannelAccess_CHANNEL_ACCESS_READ_WRITE
	}
	return &pb.ChannelMember{EmployeeId: employee, Role: role, Access: a, ReceivesNewClients: receives, Weight: weight}
}

// Roles, short.
const (
	Rep     = pb.EmployeeRole_EMPLOYEE_ROLE_SALES_REP
	Manager = pb.EmployeeRole_EMPLOYEE_ROLE_MANAGER
	QC      = pb.EmployeeRole_EMPLOYEE_ROLE_QUALITY_CONTROL
)
