package accounts_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"connectrpc.com/connect"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/client"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

func TestAuthentication(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{AuthCacheTTL: time.Minute})
		ctx := context.Background()
		for _, p := range Protocols {
			t.Run(p.String(), func(t *testing.T) {
				_, err := env.Clients("", p).Account.GetAccount(ctx, &pb.GetAccountRequest{})
				WantCode(t, err, connect.CodeUnauthenticated)
				_, err = env.Clients("sbk_notakey", p).Account.GetAccount(ctx, &pb.GetAccountRequest{})
				WantCode(t, err, connect.CodeUnauthenticated)
				_, err = env.Clients(env.AdminKey+"x", p).Integration.GetIntegrationSettings(ctx, &pb.GetIntegrationSettingsRequest{})
				WantCode(t, err, connect.CodeUnauthenticated)
				res, err := env.Clients(env.AdminKey, p).Account.GetAccount(ctx, &pb.GetAccountRequest{})
				NoErr(t, err)
				if res.Account.Name != "Acme" || res.CredentialKind != pb.CredentialKind_CREDENTIAL_KIND_API_KEY {
					t.Fatalf("GetAccount = %v", res)
				}
			})
		}
	})
}

func TestAPIKeys(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		// A long cache: revocation must still take effect at once.
		env := New(t, b, Options{AuthCacheTTL: time.Hour})
		ctx := context.Background()
		admin := env.Admin()
		created, err := admin.Account.CreateApiKey(ctx, &pb.CreateApiKeyRequest{Name: "gateway"})
		NoErr(t, err)
		second := env.Clients(created.Secret, client.GRPC)
		if _, err := second.Account.GetAccount(ctx, &pb.GetAccountRequest{}); err != nil {
			t.Fatalf("new key: %v", err)
		}
		list, err := admin.Account.ListApiKeys(ctx, &pb.ListApiKeysRequest{})
		NoErr(t, err)
		if len(list.ApiKeys) != 2 {
			t.Fatalf("keys: %v", list.ApiKeys)
		}
		for _, k := range list.ApiKeys {
			if len(k.Prefix) > 16 || bytes.Contains([]byte(k.String()), []byte(created.Secret)) {
				t.Fatalf("listing shows a secret: %v", k)
			}
		}
		// Secrets are stored hashed: the database never holds one.
		creds, err := env.Store.Ent.Credential.Query().All(tenant.System(ctx))
		NoErr(t, err)
		for _, c := range creds {
			if bytes.Contains(c.SecretHash, []byte(created.Secret)) || c.Prefix == created.Secret {
				t.Fatal("secret stored in the clear")
			}
		}

		_, err = admin.Account.RevokeApiKey(ctx, &pb.RevokeApiKeyRequest{ApiKeyId: created.ApiKey.Id})
		NoErr(t, err)
		_, err = second.Account.GetAccount(ctx, &pb.GetAccountRequest{})
		WantCode(t, err, connect.CodeUnauthenticated)

		// The last active key cannot be revoked.
		me, err := admin.Account.GetAccount(ctx, &pb.GetAccountRequest{})
		NoErr(t, err)
		_, err = admin.Account.RevokeApiKey(ctx, &pb.RevokeApiKeyRequest{ApiKeyId: me.CredentialId})
		WantCode(t, err, connect.CodeFailedPrecondition)
		if _, err := admin.Account.GetAccount(ctx, &pb.GetAccountRequest{}); err != nil {
			t.Fatalf("admin key stopped working: %v", err)
		}
		_, err = admin.Account.RevokeApiKey(ctx, &pb.RevokeApiKeyRequest{ApiKeyId: "999999"})
		WantCode(t, err, connect.CodeNotFound)
	})
}

func TestEmployeeTokens(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{AuthCacheTTL: time.Hour})
		ctx := context.Background()
		admin := env.Admin()
		emp, err := admin.Directory.CreateEmployee(ctx, &pb.CreateEmployeeRequest{Name: "Bruce Wayne"})
		NoErr(t, err)
		tok, err := admin.Account.CreateEmployeeToken(ctx, &pb.CreateEmployeeTokenRequest{EmployeeId: emp.Employee.Id, Name: "phone"})
		NoErr(t, err)
		for _, p := range Protocols {
			t.Run(p.String(), func(t *testing.T) {
				as := env.Clients(tok.Secret, p)
				me, err := as.Account.GetAccount(ctx, &pb.GetAccountRequest{})
				NoErr(t, err)
				if me.CredentialKind != pb.CredentialKind_CREDENTIAL_KIND_EMPLOYEE_TOKEN || me.Employee.GetId() != emp.Employee.Id {
					t.Fatalf("GetAccount = %v", me)
				}
				// An employee token cannot change (or read) settings, nor manage keys.
				_, err = as.Integration.GetIntegrationSettings(ctx, &pb.GetIntegrationSettingsRequest{})
				WantCode(t, err, connect.CodePermissionDenied)
				_, err = as.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{})
				WantCode(t, err, connect.CodePermissionDenied)
				_, err = as.Directory.SetChannelAccess(ctx, &pb.SetChannelAccessRequest{AllEmployees: true, AllChannels: true, Level: pb.ChannelAccessLevel_CHANNEL_ACCESS_LEVEL_READ_WRITE})
				WantCode(t, err, connect.CodePermissionDenied)
				_, err = as.Directory.CreateChannel(ctx, &pb.CreateChannelRequest{Kind: pb.ChannelKind_CHANNEL_KIND_WHATSAPP, Name: "x"})
				WantCode(t, err, connect.CodePermissionDenied)
				_, err = as.Account.CreateApiKey(ctx, &pb.CreateApiKeyRequest{Name: "x"})
				WantCode(t, err, connect.CodePermissionDenied)
				// It may read the directory.
				if _, err := as.Directory.ListChannels(ctx, &pb.ListChannelsRequest{}); err != nil {
					t.Fatalf("ListChannels: %v", err)
				}
			})
		}
		list, err := admin.Account.ListEmployeeTokens(ctx, &pb.ListEmployeeTokensRequest{EmployeeId: emp.Employee.Id})
		NoErr(t, err)
		if len(list.EmployeeTokens) != 1 || list.EmployeeTokens[0].Prefix == tok.Secret {
			t.Fatalf("tokens: %v", list.EmployeeTokens)
		}

		// Deactivating the employee stops its token; reactivating restores it.
		as := env.Clients(tok.Secret, client.Connect)
		_, err = admin.Directory.DeactivateEmployee(ctx, &pb.DeactivateEmployeeRequest{EmployeeId: emp.Employee.Id})
		NoErr(t, err)
		_, err = as.Account.GetAccount(ctx, &pb.GetAccountRequest{})
		WantCode(t, err, connect.CodeUnauthenticated)
		_, err = admin.Account.CreateEmployeeToken(ctx, &pb.CreateEmployeeTokenRequest{EmployeeId: emp.Employee.Id, Name: "x"})
		WantCode(t, err, connect.CodeFailedPrecondition)
		_, err = admin.Directory.ReactivateEmployee(ctx, &pb.ReactivateEmployeeRequest{EmployeeId: emp.Employee.Id})
		NoErr(t, err)
		_, err = as.Account.GetAccount(ctx, &pb.GetAccountRequest{})
		NoErr(t, err)

		// Revocation takes effect at once.
		_, err = admin.Account.RevokeEmployeeToken(ctx, &pb.RevokeEmployeeTokenRequest{EmployeeTokenId: tok.EmployeeToken.Id})
		NoErr(t, err)
		_, err = as.Account.GetAccount(ctx, &pb.GetAccountRequest{})
		WantCode(t, err, connect.CodeUnauthenticated)
	})
}

func TestAccountValidation(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		ctx := context.Background()
		a := env.Admin().Account
		tests := []struct {
			name  string
			call  func() error
			field string
		}{
			{"api key without name", func() error { _, err := a.CreateApiKey(ctx, &pb.CreateApiKeyRequest{}); return err }, "name"},
			{"api key name too long", func() error {
				_, err := a.CreateApiKey(ctx, &pb.CreateApiKeyRequest{Name: fmt.Sprintf("%0101d", 0)})
				return err
			}, "name"},
			{"api key rate limit too high", func() error {
				_, err := a.CreateApiKey(ctx, &pb.CreateApiKeyRequest{Name: "x", RateLimit: 1_000_001})
				return err
			}, "rate_limit"},
			{"update key rate limit too high", func() error {
				limit := uint32(1_000_001)
				_, err := a.UpdateApiKey(ctx, &pb.UpdateApiKeyRequest{ApiKeyId: "1", RateLimit: &limit})
				return err
			}, "rate_limit"},
			{"update key empty name", func() error {
				name := ""
				_, err := a.UpdateApiKey(ctx, &pb.UpdateApiKeyRequest{ApiKeyId: "1", Name: &name})
				return err
			}, "name"},
			{"update key no id", func() error { _, err := a.UpdateApiKey(ctx, &pb.UpdateApiKeyRequest{}); return err }, "api_key_id"},
			{"revoke key bad id", func() error { _, err := a.RevokeApiKey(ctx, &pb.RevokeApiKeyRequest{ApiKeyId: "abc"}); return err }, "api_key_id"},
			{"revoke key no id", func() error { _, err := a.RevokeApiKey(ctx, &pb.RevokeApiKeyRequest{}); return err }, "api_key_id"},
			{"token without employee", func() error {
				_, err := a.CreateEmployeeToken(ctx, &pb.CreateEmployeeTokenRequest{Name: "x"})
				return err
			}, "employee_id"},
			{"token without name", func() error {
				_, err := a.CreateEmployeeToken(ctx, &pb.CreateEmployeeTokenRequest{EmployeeId: "1"})
				return err
			}, "name"},
			{"list tokens bad employee", func() error {
				_, err := a.ListEmployeeTokens(ctx, &pb.ListEmployeeTokensRequest{EmployeeId: "-1"})
				return err
			}, "employee_id"},
			{"revoke token bad id", func() error {
				_, err := a.RevokeEmployeeToken(ctx, &pb.RevokeEmployeeTokenRequest{EmployeeTokenId: "0"})
				return err
			}, "employee_token_id"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { WantViolations(t, tt.call(), tt.field) })
		}
		keys, err := a.ListApiKeys(ctx, &pb.ListApiKeysRequest{})
		NoErr(t, err)
		if len(keys.ApiKeys) != 1 {
			t.Fatalf("a rejected request created a key: %v", keys.ApiKeys)
		}
	})
}

// A revocation through one replica reaches another that remembered the
// credential, within moments (not after its cache time).
func TestRevocationAcrossReplicas(t *testing.T) {
	env := New(t, Postgres(t), Options{AuthCacheTTL: time.Hour})
	ctx := context.Background()
	other := env.Replica(Options{AuthCacheTTL: time.Hour})
	created, err := env.Admin().Account.CreateApiKey(ctx, &pb.CreateApiKeyRequest{Name: "gateway"})
	NoErr(t, err)
	onOther := client.New(other.URL, created.Secret, client.Connect, nil)
	if _, err := onOther.Account.GetAccount(ctx, &pb.GetAccountRequest{}); err != nil {
		t.Fatal(err) // the other replica now remembers the key
	}
	_, err = env.Admin().Account.RevokeApiKey(ctx, &pb.RevokeApiKeyRequest{ApiKeyId: created.ApiKey.Id})
	NoErr(t, err)
	deadline := time.Now().Add(time.Second)
	for {
		_, err := onOther.Account.GetAccount(ctx, &pb.GetAccountRequest{})
		if connect.CodeOf(err) == connect.CodeUnauthenticated {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the other replica still accepts a revoked key: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
