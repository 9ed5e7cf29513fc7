package mgmt

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/validate"
)

// KeyStore keeps API keys; *store.Store implements it.
type KeyStore interface {
	CreateAPIKeyWithRole(ctx context.Context, name, role string) (store.APIKey, string, error)
	APIKeys(ctx context.Context) ([]store.APIKey, error)
	RevokeAPIKey(ctx context.Context, idOrPrefix string) (store.APIKey, error)
	SetAPIKeyRole(ctx context.Context, idOrPrefix, role string) (store.APIKey, error)
	AuthenticateAPIKey(ctx context.Context, secret string) (store.APIKey, error)
}

// NewKey is an API key to issue.
type NewKey struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// CreatedKey is a new key with its secret, shown only now.
type CreatedKey struct {
	Key    store.APIKey `json:"api_key"`
	Secret string       `json:"secret"`
}

// CreateKey issues an API key scoped to a role.
func (s *Service) CreateKey(ctx context.Context, p access.Principal, in NewKey) (CreatedKey, error) {
	var errs validate.Errors
	name := strings.TrimSpace(in.Name)
	switch {
	case name == "":
		errs.Add("name", "is required: say what the key is for, e.g. \"shop backend\"")
	case len(name) > 100:
		errs.Add("name", "is longer than 100 characters")
	}
	role, err := access.ParseRole(in.Role)
	if in.Role == "" {
		errs.Add("role", "is required: one of viewer, marketer, ops, admin")
	} else if err != nil {
		errs.Add("role", "%v", err)
	}
	if len(errs) > 0 {
		return CreatedKey{}, errs
	}
	k, secret, err := s.store.CreateAPIKeyWithRole(ctx, name, string(role))
	if err != nil {
		return CreatedKey{}, err
	}
	if err := s.audit(ctx, p, "apikey.create", keyTarget(k), map[string]any{"name": k.Name, "role": role, "prefix": k.Prefix}); err != nil {
		return CreatedKey{}, err
	}
	return CreatedKey{Key: k, Secret: secret}, nil
}

// Keys lists every key, revoked ones included, newest first.
func (s *Service) Keys(ctx context.Context) ([]store.APIKey, error) { return s.store.APIKeys(ctx) }

// RevokeKey stops a key (by ID or prefix) from working, at once.
func (s *Service) RevokeKey(ctx context.Context, p access.Principal, idOrPrefix string) (store.APIKey, error) {
	k, err := s.store.RevokeAPIKey(ctx, idOrPrefix)
	if err != nil {
		return store.APIKey{}, err
	}
	return k, s.audit(ctx, p, "apikey.revoke", keyTarget(k), map[string]any{"name": k.Name, "prefix": k.Prefix})
}

// ScopeKey gives a key (by ID or prefix) a role: what an unscoped key from
// before roles existed needs to lose its full access.
func (s *Service) ScopeKey(ctx context.Context, p access.Principal, idOrPrefix, role string) (store.APIKey, error) {
	r, err := access.ParseRole(role)
	if err != nil {
		return store.APIKey{}, validate.Errors{{Field: "role", Message: err.Error()}}
	}
	before, err := s.findKey(ctx, idOrPrefix)
	if err != nil {
		return store.APIKey{}, err
	}
	k, err := s.store.SetAPIKeyRole(ctx, idOrPrefix, string(r))
	if err != nil {
		return store.APIKey{}, err
	}
	from := "unscoped"
	if before.Role != nil {
		from = *before.Role
	}
	return k, s.audit(ctx, p, "apikey.scope", keyTarget(k), map[string]any{"name": k.Name, "from": from, "to": r})
}

func (s *Service) findKey(ctx context.Context, idOrPrefix string) (store.APIKey, error) {
	ks, err := s.store.APIKeys(ctx)
	if err != nil {
		return store.APIKey{}, err
	}
	for _, k := range ks {
		if strconv.FormatInt(k.ID, 10) == idOrPrefix || k.Prefix == idOrPrefix {
			return k, nil
		}
	}
	return store.APIKey{}, fmt.Errorf("api key %s: %w", idOrPrefix, store.ErrNotFound)
}

// APIKey returns who a key's secret authenticates;
// access.ErrInvalidCredentials for an unknown or revoked key. A key without
// a role acts as admin, marked Unscoped.
func (s *Service) APIKey(ctx context.Context, secret string) (access.Principal, error) {
	k, err := s.store.AuthenticateAPIKey(ctx, secret)
	if errors.Is(err, store.ErrNotFound) {
		return access.Principal{}, access.ErrInvalidCredentials
	}
	if err != nil {
		return access.Principal{}, err
	}
	p := access.Principal{Kind: access.KindAPIKey, ID: strconv.FormatInt(k.ID, 10), Name: k.Name, Role: access.Admin, Unscoped: true}
	if k.Role != nil {
		p.Role, p.Unscoped = access.Role(*k.Role), false
	}
	return p, nil
}

func keyTarget(k store.APIKey) string { return "apikey:" + strconv.FormatInt(k.ID, 10) }
