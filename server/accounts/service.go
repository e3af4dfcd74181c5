package accounts

import (
	"cmp"
	"context"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/credential"
	"github.com/switchboardhq/switchboard/ent/employee"
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
	validate.Add(r, func(m *pb.CreateApiKeyRequest, v *errs.Violations) { validate.Text(v, "name", m.Name, 1, 100) })
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

// GetAccount tells who the caller is.
func (s *Service) GetAccount(ctx context.Context, _ *pb.GetAccountRequest) (*pb.GetAccountResponse, error) {
	p := auth.Caller(ctx)
	acct, err := s.st.Ent.Account.Get(ctx, p.AccountID)
	if err != nil {
		return nil, err
	}
	out := &pb.GetAccountResponse{
		Account:        &pb.Account{Id: ids.Format(acct.ID), Name: acct.Name, CreateTime: convert.Time(acct.CreatedAt)},
		CredentialKind: pb.CredentialKind_CREDENTIAL_KIND_API_KEY,
		CredentialId:   ids.Format(p.CredentialID),
	}
	if p.IsEmployee() {
		out.CredentialKind = pb.CredentialKind_CREDENTIAL_KIND_EMPLOYEE_TOKEN
		e, err := s.st.Ent.Employee.Get(ctx, p.EmployeeID)
		if err != nil {
			return nil, store.NotFound(err, "employee", p.EmployeeID)
		}
		out.Employee = convert.Employee(e)
	}
	return out, nil
}

// CreateApiKey creates an account API key.
func (s *Service) CreateApiKey(ctx context.Context, req *pb.CreateApiKeyRequest) (*pb.CreateApiKeyResponse, error) {
	secret, prefix, hash := auth.NewSecret(auth.APIKey)
	c, err := s.st.Ent.Credential.Create().
		SetKind(credential.KindAPI_KEY).SetName(req.Name).SetPrefix(prefix).SetSecretHash(hash).
		Save(ctx)
	if err != nil {
		return nil, err
	}
	return &pb.CreateApiKeyResponse{ApiKey: apiKey(c), Secret: secret}, nil
}

// ListApiKeys lists the account's API keys.
func (s *Service) ListApiKeys(ctx context.Context, _ *pb.ListApiKeysRequest) (*pb.ListApiKeysResponse, error) {
	cs, err := s.st.Ent.Credential.Query().Where(credential.KindEQ(credential.KindAPI_KEY)).Order(ent.Asc(credential.FieldID)).All(ctx)
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
	id := ids.Value(req.ApiKeyId)
	var out *ent.Credential
	err := s.st.Tx(ctx, func(tx *ent.Tx) error {
		c, err := store.ForUpdate(tx.Credential.Query().Where(credential.ID(id), credential.KindEQ(credential.KindAPI_KEY))).Only(ctx)
		if err != nil {
			return store.NotFound(err, "API key", req.ApiKeyId)
		}
		if c.RevokedAt != nil {
			out = c
			return nil
		}
		// Lock the account's active keys so two revocations cannot each
		// leave the other as "the last one".
		active, err := store.ForUpdate(tx.Credential.Query().
			Where(credential.KindEQ(credential.KindAPI_KEY), credential.RevokedAtIsNil())).IDs(ctx)
		if err != nil {
			return err
		}
		if len(active) <= 1 {
			return errs.Precondition("API key %s is the account's last active key; create another before revoking it", req.ApiKeyId)
		}
		out, err = c.Update().SetRevokedAt(now()).Save(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.auth.Forget()
	return &pb.RevokeApiKeyResponse{ApiKey: apiKey(out)}, nil
}

// CreateEmployeeToken creates a token acting as an active employee.
func (s *Service) CreateEmployeeToken(ctx context.Context, req *pb.CreateEmployeeTokenRequest) (*pb.CreateEmployeeTokenResponse, error) {
	eid := ids.Value(req.EmployeeId)
	e, err := s.st.Ent.Employee.Query().Where(employee.ID(eid)).Only(ctx)
	if err != nil {
		return nil, store.NotFound(err, "employee", req.EmployeeId)
	}
	if !e.Active {
		return nil, errs.Precondition("employee %s is deactivated", req.EmployeeId)
	}
	secret, prefix, hash := auth.NewSecret(auth.EmployeeToken)
	c, err := s.st.Ent.Credential.Create().
		SetKind(credential.KindEMPLOYEE_TOKEN).SetEmployeeID(eid).SetName(req.Name).SetPrefix(prefix).SetSecretHash(hash).
		Save(ctx)
	if err != nil {
		return nil, err
	}
	return &pb.CreateEmployeeTokenResponse{EmployeeToken: employeeToken(c), Secret: secret}, nil
}

// ListEmployeeTokens lists employee tokens.
func (s *Service) ListEmployeeTokens(ctx context.Context, req *pb.ListEmployeeTokensRequest) (*pb.ListEmployeeTokensResponse, error) {
	q := s.st.Ent.Credential.Query().Where(credential.KindEQ(credential.KindEMPLOYEE_TOKEN))
	if req.EmployeeId != "" {
		// An employee that is not the account's is not found, whether it
		// exists elsewhere or nowhere (SPEC §9).
		eid := ids.Value(req.EmployeeId)
		if ok, err := s.st.Ent.Employee.Query().Where(employee.ID(eid)).Exist(ctx); err != nil || !ok {
			return nil, cmp.Or(err, error(errs.NotFound("employee", req.EmployeeId)))
		}
		q = q.Where(credential.EmployeeID(eid))
	}
	cs, err := q.Order(ent.Asc(credential.FieldID)).All(ctx)
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
	id := ids.Value(req.EmployeeTokenId)
	c, err := s.st.Ent.Credential.Query().Where(credential.ID(id), credential.KindEQ(credential.KindEMPLOYEE_TOKEN)).Only(ctx)
	if err != nil {
		return nil, store.NotFound(err, "employee token", req.EmployeeTokenId)
	}
	if c.RevokedAt == nil {
		if c, err = c.Update().SetRevokedAt(now()).Save(ctx); err != nil {
			return nil, err
		}
	}
	s.auth.Forget()
	return &pb.RevokeEmployeeTokenResponse{EmployeeToken: employeeToken(c)}, nil
}

func apiKey(c *ent.Credential) *pb.ApiKey {
	return &pb.ApiKey{
		Id:         ids.Format(c.ID),
		Name:       c.Name,
		Prefix:     c.Prefix,
		CreateTime: convert.Time(c.CreatedAt),
		RevokeTime: convert.TimePtr(c.RevokedAt),
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
