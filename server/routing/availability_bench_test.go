package routing_test

import (
	"fmt"
	"testing"
	"time"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/routing"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// BenchmarkAvailability routes new clients round the demo's employees on
// 100 weighted channels, with availability off (the defaults) and on:
// working hours (every day, all day, so nobody is skipped and the
// sequences stay comparable), presence, and with capacity too (no member
// reaches it, but open clients are counted on every distribution). The
// router is called directly, in process; each variant has its own
// database of the same backend.
//
//	go test -run '^$' -bench BenchmarkAvailability -benchtime 3000x -count 3 ./server/routing/
func BenchmarkAvailability(b *testing.B) {
	for _, backend := range Backends(b) {
		for _, rules := range availabilityRules {
			b.Run(backend.Name+"/rules="+rules, func(b *testing.B) {
				route := availabilityBench(b, backend, rules, 100)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					route(i)
				}
			})
		}
	}
}

// BenchmarkAvailabilityRatio routes the same sequence through the three
// variants of BenchmarkAvailability in turn, one message each per
// iteration, and reports each variant's mean time per message and the
// ratios to "off": on a machine whose load varies, the variants see the
// same load.
//
//	go test -run '^$' -bench BenchmarkAvailabilityRatio -benchtime 3000x -count 3 ./server/routing/
//
// The crowded case routes on one channel that already has 3,000 open
// clients (routed before the timer starts), where a count of the open
// clients at each distribution would show.
func BenchmarkAvailabilityRatio(b *testing.B) {
	for _, backend := range Backends(b) {
		for _, shape := range []struct {
			name              string
			channels, prefill int
		}{{"100channels", 100, 0}, {"crowded", 1, 3000}} {
			b.Run(backend.Name+"/"+shape.name, func(b *testing.B) {
				routes := make([]func(int), len(availabilityRules))
				for v, rules := range availabilityRules {
					routes[v] = availabilityBench(b, backend, rules, shape.channels)
					for i := 0; i < shape.prefill; i++ {
						routes[v](1_000_000 + i)
					}
				}
				spent := make([]time.Duration, len(routes))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					for k := range routes {
						v := (i + k) % len(routes) // each variant goes first in turn
						t0 := time.Now()
						routes[v](i)
						spent[v] += time.Since(t0)
					}
				}
				b.StopTimer()
				per := func(v int) float64 { return float64(spent[v].Microseconds()) / float64(b.N) }
				b.ReportMetric(per(0), "µs-off/msg")
				b.ReportMetric(per(1), "µs-hours/msg")
				b.ReportMetric(per(2), "µs-capacity/msg")
				b.ReportMetric(per(3), "µs-uncounted/msg")
				b.ReportMetric(per(1)/per(0), "hours/off")
				b.ReportMetric(per(2)/per(0), "capacity/off")
				b.ReportMetric(per(0)/per(3), "off/uncounted")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

// availabilityRules are the variants: the defaults; working hours and
// presence; with capacity too; and (the ratio benchmark's baseline of the
// counts' own cost) the defaults with the open-client counts' triggers
// dropped, as routing was before the database kept them.
var availabilityRules = []string{"off", "hours+presence", "hours+presence+capacity", "off, uncounted"}

// openClientTriggers are the triggers that keep open_client_counts, and
// their tables (server/store/migrations).
var openClientTriggers = [][2]string{{"open_clients_deal_insert", "deals"}, {"open_clients_deal_state", "deals"},
	{"open_clients_deal_delete", "deals"}, {"open_clients_contact", "contacts"}, {"open_clients_contact_delete", "contacts"}}

// availabilityBench builds one variant's database and returns a function
// routing the i-th new client of the run.
func availabilityBench(b *testing.B, backend Backend, rules string, nChannels int) func(i int) {
	env := New(b, backend, Options{})
	co := env.Demo()
	admin := env.Admin()
	if rules == "off, uncounted" {
		for _, tr := range openClientTriggers {
			stmt := "DROP TRIGGER " + tr[0]
			if env.Store.IsPostgres() {
				stmt += " ON " + tr[1]
			}
			if _, err := env.Store.DB.Exec(stmt); err != nil {
				b.Fatal(err)
			}
		}
		rules = "off"
	}
	var channels []int64
	for i := 0; i < nChannels; i++ {
		ch := Must[*pb.CreateChannelResponse](b)(admin.Directory.CreateChannel(ctx, &pb.CreateChannelRequest{
			Kind: pb.ChannelKind_CHANNEL_KIND_WHATSAPP, Name: fmt.Sprintf("Sales %d", i)}))
		channels = append(channels, mustID(b, ch.Channel.Id))
	}
	UpdateSettings(b, admin, func(s *pb.IntegrationSettings) {
		var members []*pb.ChannelMember
		for _, n := range loadNames {
			w := int32(1)
			if n == "Tony Stark" {
				w = 2
			}
			m := Member(co.Employees[n], Rep, true, true, w)
			if rules == "hours+presence+capacity" {
				m.Capacity = 10000
			}
			members = append(members, m)
			if rules != "off" {
				var week []*pb.WorkingPeriod
				for d := pb.Weekday_WEEKDAY_MONDAY; d <= pb.Weekday_WEEKDAY_SUNDAY; d++ {
					week = append(week, &pb.WorkingPeriod{Day: d, Start: "00:00", End: "24:00"})
				}
				s.Account.WorkingHours = append(s.Account.WorkingHours, &pb.WorkingHours{EmployeeId: co.Employees[n], Weekly: week})
			}
		}
		s.Account.TimeZone = "Europe/Moscow"
		for _, cs := range s.Channels {
			cs.Distribution = pb.DistributionMode_DISTRIBUTION_MODE_WEIGHTED
			cs.Members = members
		}
	})
	if rules != "off" {
		_, err := admin.Directory.SetPresence(ctx, &pb.SetPresenceRequest{EmployeeId: co.Employees["Bruce Wayne"], Presence: pb.Presence_PRESENCE_ONLINE})
		NoErr(b, err)
	}
	r := env.Server.App.Router()
	actx := tenant.NewContext(ctx, env.AccountID)
	return func(i int) {
		_, _, err := r.RouteIncoming(actx, routing.Incoming{ChannelID: channels[i%len(channels)],
			Phone: Phone(900000 + i), Content: routing.Content{Text: "hello"}, GatewayID: GatewayID()})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func mustID(b *testing.B, id string) int64 {
	var v int64
	if _, err := fmt.Sscan(id, &v); err != nil {
		b.Fatal(err)
	}
	return v
}
