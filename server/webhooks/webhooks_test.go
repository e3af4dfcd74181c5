package webhooks_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent/crmconnection"
	"github.com/switchboardhq/switchboard/server/accounts"
	_ "github.com/switchboardhq/switchboard/server/crm/bitrix24" // registers Bitrix24
	"github.com/switchboardhq/switchboard/server/crm/hubspot"
	"github.com/switchboardhq/switchboard/server/crmsync"
	"github.com/switchboardhq/switchboard/server/secrets"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/tenant"
	"github.com/switchboardhq/switchboard/server/testenv"
	"github.com/switchboardhq/switchboard/server/webhooks"
)

// nobody is a router no test webhook reaches: their deals are unknown here.
type nobody struct{}

func (nobody) AssignFromCRM(context.Context, int64, int64) error { panic("assign") }
func (nobody) CloseDealFromCRM(context.Context, int64, bool) error {
	panic("close")
}

// connect stores a Bitrix24 connection of a new account whose webhook URL
// key is key.
func connect(t *testing.T, st *store.Store, key string) int64 {
	t.Helper()
	ctx := context.Background()
	acct, _, err := accounts.Create(ctx, st, "Hooks "+key, "")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(key))
	cc, err := st.Ent.CrmConnection.Create().SetKind(crmconnection.KindBITRIX24).SetBaseURL("https://example.bitrix24.ru").
		SetTokenSealed([]byte("sealed")).SetWebhookKeyHash(sum[:]).Save(tenant.NewContext(ctx, acct.ID))
	if err != nil {
		t.Fatal(err)
	}
	return cc.ID
}

func post(h http.Handler, key, token string) int {
	form := url.Values{"event": {"ONCRMDEALUPDATE"}, "data[FIELDS][ID]": {"424242"}, "auth[application_token]": {token}}
	req := httptest.NewRequest(http.MethodPost, "/hooks/"+key, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

// A CRM that signs its webhooks is held to the token of the first one: a
// webhook with another token (or none) is refused with 403.
func TestWebhookToken(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		st := testenv.OpenStore(t, b.NewURL(t))
		h := webhooks.New(st, nobody{}, crmsync.Options{}, testenv.Logger(), "/hooks/", "")

		t.Run("first token is kept", func(t *testing.T) {
			connect(t, st, "key-one")
			for _, c := range []struct {
				token string
				want  int
			}{{"portal-token", 200}, {"other-token", 403}, {"", 403}, {"portal-token", 200}} {
				if got := post(h, "key-one", c.token); got != c.want {
					t.Errorf("token %q: HTTP %d, want %d", c.token, got, c.want)
				}
			}
			if got := post(h, "no-such-key", "portal-token"); got != 404 {
				t.Errorf("unknown key: HTTP %d, want 404", got)
			}
		})

		t.Run("concurrent first webhooks agree on one token", func(t *testing.T) {
			connect(t, st, "key-two")
			const n = 16
			codes := make([]int, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() { defer wg.Done(); codes[i] = post(h, "key-two", fmt.Sprintf("token-%d", i%2)) }()
			}
			wg.Wait()
			winner := -1
			for i, c := range codes {
				if c == 200 {
					if winner >= 0 && winner != i%2 {
						t.Fatalf("both tokens accepted: %v", codes)
					}
					winner = i % 2
				} else if c != 403 {
					t.Fatalf("HTTP %d: %v", c, codes)
				}
			}
			if winner < 0 {
				t.Fatalf("no token accepted: %v", codes)
			}
			if got := post(h, "key-two", fmt.Sprintf("token-%d", 1-winner)); got != 403 {
				t.Errorf("the losing token later: HTTP %d, want 403", got)
			}
		})
	})
}

// A CRM that signs its webhooks with a key of its own (HubSpot) is held to
// it when the admin gave the key: a request without the signature, with a
// wrong one or an old one is refused with 401 and changes nothing.
func TestWebhookSignature(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		st := testenv.OpenStore(t, b.NewURL(t))
		sealer, err := secrets.New(bytes.Repeat([]byte{7}, 32))
		if err != nil {
			t.Fatal(err)
		}
		h := webhooks.New(st, nobody{}, crmsync.Options{Sealer: sealer}, testenv.Logger(), "/hooks/", "https://switchboard.example.com")
		ctx := context.Background()
		connectHubSpot := func(key, secret string) {
			acct, _, err := accounts.Create(ctx, st, "HubSpot "+key, "")
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256([]byte(key))
			c := st.Ent.CrmConnection.Create().SetKind(crmconnection.KindHUBSPOT).SetBaseURL("https://api.hubapi.com").
				SetTokenSealed([]byte("sealed")).SetWebhookKeyHash(sum[:])
			if secret != "" {
				sealed, err := sealer.Seal([]byte(secret), crmsync.Owner(acct.ID))
				if err != nil {
					t.Fatal(err)
				}
				c.SetWebhookSecretSealed(sealed)
			}
			if err := c.Exec(tenant.NewContext(ctx, acct.ID)); err != nil {
				t.Fatal(err)
			}
		}
		body := []byte(`[{"eventId":1,"subscriptionId":2,"portalId":3,"occurredAt":1700000000000,"subscriptionType":"deal.propertyChange","attemptNumber":0,"objectId":424242,"propertyName":"dealstage","propertyValue":"closedwon"}]`)
		send := func(key, secret string, at time.Time, tamper bool) int {
			path := "/hooks/" + key
			ts := strconv.FormatInt(at.UnixMilli(), 10)
			req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if secret != "" {
				sig := hubspot.Sign(secret, http.MethodPost, "https://switchboard.example.com"+path, body, ts)
				if tamper {
					sig = hubspot.Sign(secret+"x", http.MethodPost, "https://switchboard.example.com"+path, body, ts)
				}
				req.Header.Set(hubspot.HeaderSignatureV3, sig)
				req.Header.Set(hubspot.HeaderTimestamp, ts)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec.Code
		}
		connectHubSpot("hs-signed", "client-secret-1")
		connectHubSpot("hs-unsigned", "")
		now := time.Now()
		for _, c := range []struct {
			name, key, secret string
			at                time.Time
			tamper            bool
			want              int
		}{
			{"signed", "hs-signed", "client-secret-1", now, false, 200},
			{"no signature", "hs-signed", "", now, false, 401},
			{"another secret", "hs-signed", "client-secret-1", now, true, 401},
			{"ten minutes old", "hs-signed", "client-secret-1", now.Add(-10 * time.Minute), false, 401},
			{"no secret given on connecting", "hs-unsigned", "", now, false, 200},
		} {
			if got := send(c.key, c.secret, c.at, c.tamper); got != c.want {
				t.Errorf("%s: HTTP %d, want %d", c.name, got, c.want)
			}
		}
	})
}
