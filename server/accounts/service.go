package accounts

import (
	"context"

	"github.com/switchboardhq/switchboard/ent"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/auth"
	"github.com/switchboardhq/switchboard/server/convert"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/validate"
)

// Service implements AccountService.
type Service struct {
	st   *store.Store
	auth *auth.Authenticator
}

// NewService returns the AccountService handler.
func NewService(st *store.Store, a *auth.Authenticator) *Service {
	return &Service{st: st, auth: a}
}

// Rules are the request checks of AccountService.
func Rules(r validate.Rules) {
	validate.Add(r, func(*pb.GetAccountRequest, *errs.Violations) {})
	validate.Add(r, func(m *pb.CreateApiKeyRequest, v *errs.Violations) {
		validate.Text(v, "name", m.Name, 1, 100)
		checkRateLimit(v, "rate_limit", m.RateLimit)
	})
	validate.Add(r, func(m *pb.UpdateApiKeyRequest, v *errs.Violations) {
		ids.Check(v, "api_key_id", m.ApiKeyId, true)
		if m.Name != nil {
			validate.Text(v, "name", *m.Name, 1, 100)
		}
		if m.RateLimit != nil {
			checkRateLimit(v, "rate_limit", *m.RateLimit)
		}
	})
	validate.Add(r, func(*pb.ListApiKeysRequest, *errs.Violations) {})
	validate.Add(r, func(m *pb.RevokeApiKeyRequest, v *errs.Violations) { ids.Check(v, "api_key_id", m.ApiKeyId, true) })
	validate.Add(r, func(m *pb.CreateEmployeeTokenRequest, v *errs.Violations) {
		ids.Check(v, "employee_id", m.EmployeeId, true)
		validate.Text(v, "name", m.Name, 1, 100)
	})
	validate.Add(r, func(m *pb.ListEmployeeTokensRequest, v *errs.Violations) {
		ids.Check(v, "employee_id", m.EmployeeId, false)
	})
	validate.Add(r, func(m *pb.RevokeEmployeeTokenRequest, v *errs.Violations) {
		ids.Check(v, "employee_token_id", m.EmployeeTokenId, true)
	})
}

// MaxRateLimit is the highest rate limit a key may have, in requests per
// 5 s.
const MaxRateLimit = 1_000_000

func checkRateLimit(v *errs.Violations, field string, n uint32) {
	if n > MaxRateLimit {
		v.Add(field, "must be at most %d requests per 5 s (0: the server's default)", MaxRateLimit)
	}
}

// GetAccount tells who the caller is.
func (s *Service) GetAccount(ctx context.Context, _ *pb.GetAccountRequest) (*pb.GetAccountResponse, error) {
	id, err := Whoami(ctx, s.st)
	if err != nil {
		return nil, err
	}
	out := &pb.GetAccountResponse{
		Account:        &pb.Account{Id: ids.Format(id.Account.ID), Name: id.Account.Name, CreateTime: convert.Time(id.Account.CreatedAt)},
		CredentialKind: pb.CredentialKind_CREDENTIAL_KIND_API_KEY,
		CredentialId:   ids.Format(id.Caller.CredentialID),
	}
	if id.Employee != nil {
		out.CredentialKind = pb.CredentialKind_CREDENTIAL_KIND_EMPLOYEE_TOKEN
		out.Employee = convert.Employee(id.Employee)
	}
	return out, nil
}

// CreateApiKey creates an account API key.
func (s *Service) CreateApiKey(ctx context.Context, req *pb.CreateApiKeyRequest) (*pb.CreateApiKeyResponse, error) {
	c, secret, err := CreateAPIKey(ctx, s.st, req.Name, int32(req.RateLimit))
	if err != nil {
		return nil, err
	}
	return &pb.CreateApiKeyResponse{ApiKey: apiKey(c), Secret: secret}, nil
}

// ListApiKeys lists the account's API keys.
func (s *Service) ListApiKeys(ctx context.Context, _ *pb.ListApiKeysRequest) (*pb.ListApiKeysResponse, error) {
	cs, err := APIKeys(ctx, s.st)
	if err != nil {
		return nil, err
	}
	out := &pb.ListApiKeysResponse{}
	for _, c := range cs {
		out.ApiKeys = append(out.ApiKeys, apiKey(c))
	}
	return out, nil
}

// RevokeApiKey revokes an API key, unless it is the last active one.
func (s *Service) RevokeApiKey(ctx context.Context, req *pb.RevokeApiKeyRequest) (*pb.RevokeApiKeyResponse, error) {
	c, err := RevokeAPIKey(ctx, s.st, s.auth, req.ApiKeyId)
	if err != nil {
		return nil, err
	}
	return &pb.RevokeApiKeyResponse{ApiKey: apiKey(c)}, nil
}

// UpdateApiKey changes an API key's name or rate limit.
func (s *Service) UpdateApiKey(ctx context.Context, req *pb.UpdateApiKeyRequest) (*pb.UpdateApiKeyResponse, error) {
	var limit *int32
	if req.RateLimit != nil {
		l := int32(*req.RateLimit)
		limit = &l
	}
	c, err := UpdateAPIKey(ctx, s.st, s.auth, req.ApiKeyId, req.Name, limit)
	if err != nil {
		return nil, err
	}
	return &pb.UpdateApiKeyResponse{ApiKey: apiKey(c)}, nil
}

// CreateEmployeeToken creates a token acting as an active employee.
func (s *Service) CreateEmployeeToken(ctx context.Context, req *pb.CreateEmployeeTokenRequest) (*pb.CreateEmployeeTokenResponse, error) {
	c, secret, err := CreateEmployeeToken(ctx, s.st, req.EmployeeId, req.Name)
	if err != nil {
		return nil, err
	}
	return &pb.CreateEmployeeTokenResponse{EmployeeToken: employeeToken(c), Secret: secret}, nil
}

// ListEmployeeTokens lists employee tokens.
func (s *Service) ListEmployeeTokens(ctx context.Context, req *pb.ListEmployeeTokensRequest) (*pb.ListEmployeeTokensResponse, error) {
	cs, err := EmployeeTokens(ctx, s.st, req.EmployeeId)
	if err != nil {
		return nil, err
	}
	out := &pb.ListEmployeeTokensResponse{}
	for _, c := range cs {
		out.EmployeeTokens = append(out.EmployeeTokens, employeeToken(c))
	}
	return out, nil
}

// RevokeEmployeeToken revokes an employee token.
func (s *Service) RevokeEmployeeToken(ctx context.Context, req *pb.RevokeEmployeeTokenRequest) (*pb.RevokeEmployeeTokenResponse, error) {
	c, err := RevokeEmployeeToken(ctx, s.st, s.auth, req.EmployeeTokenId)
	if err != nil {
		return nil, err
	}
	return &pb.RevokeEmployeeTokenResponse{EmployeeToken: employeeToken(c)}, nil
}

func apiKey(c *ent.Credential) *pb.ApiKey {
	return &pb.ApiKey{
		Id:         ids.Format(c.ID),
		Name:       c.Name,
		Prefix:     c.Prefix,
		CreateTime: convert.Time(c.CreatedAt),
		RevokeTime: convert.TimePtr(c.RevokedAt),
		RateLimit:  uint32(c.RateLimit),
	}
}

func employeeToken(c *ent.Credential) *pb.EmployeeToken {
	return &pb.EmployeeToken{
		Id:         ids.Format(c.ID),
		EmployeeId: ids.FormatPtr(c.EmployeeID),
		Name:       c.Name,
		Prefix:     c.Prefix,
		CreateTime: convert.Time(c.CreatedAt),
		RevokeTime: convert.TimePtr(c.RevokedAt),
	}
}
