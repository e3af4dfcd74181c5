package webhooks_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/ent/crmconnection"
	"github.com/switchboardhq/switchboard/server/accounts"
	_ "github.com/switchboardhq/switchboard/server/crm/amocrm"    // registers amoCRM
	_ "github.com/switchboardhq/switchboard/server/crm/pipedrive" // registers Pipedrive
	_ "github.com/switchboardhq/switchboard/server/crm/zoho"      // registers Zoho
	"github.com/switchboardhq/switchboard/server/crmsync"
	"github.com/switchboardhq/switchboard/server/secrets"
	"github.com/switchboardhq/switchboard/server/tenant"
	"github.com/switchboardhq/switchboard/server/testenv"
	"github.com/switchboardhq/switchboard/server/webhooks"
)

// TestWebhookBodies: whatever arrives at a connection's address, huge,
// malformed or of another CRM, is answered 4xx and reaches no deal (the
// router panics if it is reached).
func TestWebhookBodies(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		st := testenv.OpenStore(t, b.NewURL(t))
		sealer, err := secrets.New(bytes.Repeat([]byte{9}, 32))
		if err != nil {
			t.Fatal(err)
		}
		h := webhooks.New(st, nobody{}, crmsync.Options{Sealer: sealer}, testenv.Logger(), "/hooks/", "https://switchboard.example.com")
		ctx := context.Background()
		kinds := []crmconnection.Kind{crmconnection.KindAMOCRM, crmconnection.KindBITRIX24, crmconnection.KindZOHO,
			crmconnection.KindHUBSPOT, crmconnection.KindPIPEDRIVE}
		for _, k := range kinds {
			acct, _, err := accounts.Create(ctx, st, "Bodies "+string(k), "")
			if err != nil {
				t.Fatal(err)
			}
			key := "bodies-" + strings.ToLower(string(k))
			sum := sha256.Sum256([]byte(key))
			tok := sha256.Sum256([]byte("the-token"))
			c := st.Ent.CrmConnection.Create().SetKind(k).SetBaseURL("https://example.com").SetTokenSealed([]byte("sealed")).SetWebhookKeyHash(sum[:])
			if k == crmconnection.KindZOHO {
				c.SetWebhookTokenHash(tok[:])
			}
			if k == crmconnection.KindHUBSPOT {
				sealed, err := sealer.Seal([]byte("client-secret"), crmsync.Owner(acct.ID))
				if err != nil {
					t.Fatal(err)
				}
				c.SetWebhookSecretSealed(sealed)
			}
			if err := c.Exec(tenant.NewContext(ctx, acct.ID)); err != nil {
				t.Fatal(err)
			}
		}
		bodies := map[string]string{
			"empty":         "",
			"not JSON":      "{{{",
			"JSON null":     "null",
			"JSON array":    `[1,2,3]`,
			"deep JSON":     strings.Repeat("[", 100000) + strings.Repeat("]", 100000),
			"huge form":     "event=ONCRMDEALUPDATE&data[FIELDS][ID]=1&x=" + strings.Repeat("a", 3<<20),
			"huge JSON":     `{"module":"Deals","operation":"update","ids":["1"],"token":"` + strings.Repeat("a", 3<<20) + `"}`,
			"bad form":      "%zz=%zz&event=ONCRMDEALUPDATE",
			"id overflow":   "event=ONCRMDEALUPDATE&data[FIELDS][ID]=99999999999999999999999&auth[application_token]=t",
			"zoho bad id":   `{"module":"Deals","operation":"update","ids":["../1"],"token":"the-token"}`,
			"zoho no id":    `{"module":"Deals","operation":"update","ids":[{}],"token":"wrong"}`,
			"pd bad id":     `{"meta":{"action":"change","entity":"deal","entity_id":"x1"}}`,
			"hs objectId":   `[{"subscriptionType":"deal.propertyChange","objectId":-1,"propertyName":"dealstage"}]`,
			"zoho wrong":    `{"module":"Deals","operation":"update","ids":["1"],"token":"not-the-token"}`,
			"zoho none":     `{"module":"Deals","operation":"update","ids":["1"]}`,
			"unicode noise": "\xff\xfe\x00\x00" + strings.Repeat("日本", 1000),
		}
		for _, k := range kinds {
			key := "bodies-" + strings.ToLower(string(k))
			for name, body := range bodies {
				for _, ct := range []string{"application/json", "application/x-www-form-urlencoded", "text/plain"} {
					req := httptest.NewRequest(http.MethodPost, "/hooks/"+key, strings.NewReader(body))
					req.Header.Set("Content-Type", ct)
					rec := httptest.NewRecorder()
					func() {
						defer func() {
							if p := recover(); p != nil {
								t.Errorf("%s, %s as %s: reached the router (%v)", k, name, ct, p)
							}
						}()
						h.ServeHTTP(rec, req)
					}()
					if rec.Code >= 500 {
						t.Errorf("%s, %s as %s: HTTP %d %s", k, name, ct, rec.Code, rec.Body.String())
					}
				}
			}
		}
		for _, path := range []string{"/hooks/" + strings.Repeat("k", 5000), "/hooks/a/b", "/hooks/%00", "/hooks/"} {
			req := httptest.NewRequest(http.MethodPost, "/hooks/x", strings.NewReader("{}"))
			req.URL.Path = path
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusNotFound {
				t.Errorf("%q: HTTP %d, want 404", path, rec.Code)
			}
		}
	})
}
