package routing_test

import (
	"testing"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/phone/phonetest"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// TestOnePersonIsOneClient: every way one person's number is written
// (phonetest.OnePerson, under the home region and convert_8_to_plus7 it
// is written for) reaches one client, stored under one number, through
// RouteIncomingMessage.
func TestOnePersonIsOneClient(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		wa := co.Channels["WhatsApp Sales"]
		clients := map[string]string{} // number → client id
		n := 0
		for _, p := range phonetest.OnePerson {
			home := p.O.HomeRegion
			UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
				s.Account.Convert_8ToPlus7 = p.O.Convert8
				s.Account.HomeRegion = &home
			})
			for _, s := range p.Spellings {
				n++
				d := Route(t, admin, wa, s, "hello")
				if d.Client.Phone != p.Want {
					t.Fatalf("home %q, convert8 %v: %q is client %s, want %s", home, p.O.Convert8, s, d.Client.Phone, p.Want)
				}
				if id, ok := clients[p.Want]; ok && d.Client.Id != id {
					t.Fatalf("%q is client %s, but %s was %s", s, d.Client.Id, p.Want, id)
				}
				clients[p.Want] = d.Client.Id
			}
		}
		actx := tenant.NewContext(ctx, env.AccountID)
		if got := env.Store.Ent.Contact.Query().CountX(actx); got != len(clients) {
			t.Fatalf("%d spellings of %d numbers made %d clients", n, len(clients), got)
		}
	})
}

// TestHomeRegion: the numbers, under the automatic home region
// (convert_8_to_plus7 decides) and a chosen one.
func TestHomeRegion(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		wa := co.Channels["WhatsApp Sales"]
		route := func(s string) (string, error) {
			res, err := admin.Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{ChannelId: wa,
				Sender:  &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: s},
				Content: &pb.MessageContent{Text: "hi"}, GatewayMessageId: GatewayID()})
			if err != nil {
				return "", err
			}
			return res.Decision.Client.Phone, nil
		}
		set := func(convert8 bool, home *string) {
			UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
				s.Account.Convert_8ToPlus7 = convert8
				s.Account.HomeRegion = home
			})
		}
		want := func(s, e string) {
			t.Helper()
			got, err := route(s)
			if e == "" {
				WantViolations(t, err, "sender_phone")
				return
			}
			NoErr(t, err)
			if got != e {
				t.Fatalf("%q is %s, want %s", s, got, e)
			}
		}

		// The seed: automatic, convert_8_to_plus7 on, so RU.
		want("9501234567", "+79501234567")
		want("950 123-45-67", "+79501234567")
		want("8 950 123-45-67", "+79501234567")
		want("916 123-45-67", "+79161234567")
		want("+7\u00a0916\u00a0123\u00a045\u00a067", "+79161234567")
		want("8 (916) 123–45–67", "+79161234567")
		want("8613812345678", "+8613812345678")
		want("551187654321", "+5511987654321")
		want("5511987654321", "+5511987654321")

		// Automatic with convert_8_to_plus7 off: international (SPEC §8).
		set(false, nil)
		want("8613812345678", "+8613812345678")
		want("9501234567", "") // never Myanmar with a digit dropped
		want("916 123-45-67", "")
		want("8 (916) 123-45-67", "")

		// Chosen: Russian numbers whatever convert_8_to_plus7 says.
		ru := "RU"
		set(false, &ru)
		want("8 (916) 123-45-67", "+79161234567")
		want("950 123 45 67", "+79501234567")

		actx := tenant.NewContext(ctx, env.AccountID)
		if got := env.Store.Ent.Contact.Query().CountX(actx); got != 4 {
			t.Fatalf("%d clients, want 4", got)
		}
	})
}

// TestLegacyFormFindsItsClient: a client stored under a number earlier
// versions kept as it came (WhatsApp's Brazilian "+55 11 7765-4321",
// without the ninth digit, was valid on its own) is found by either form.
func TestLegacyFormFindsItsClient(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		wa := co.Channels["WhatsApp Sales"]
		actx := tenant.NewContext(ctx, env.AccountID)
		old := env.Store.Ent.Contact.Create().SetIdentity("+551177654321").SetPhone("+551177654321").SetName("Ana").SaveX(actx)
		for _, s := range []string{"+55 11 97765-4321", "551177654321", "5511977654321"} {
			d := Route(t, admin, wa, s, "olá")
			if d.NewClient || d.Client.Id != ids.Format(old.ID) {
				t.Fatalf("%q is client %s (%s), want the stored %d", s, d.Client.Id, d.Client.Phone, old.ID)
			}
		}
		if got := env.Store.Ent.Contact.Query().CountX(actx); got != 1 {
			t.Fatalf("%d clients, want 1", got)
		}
	})
}
