package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// APIKey is an HTTP API credential as listed to operators: never the key
// itself, only its first characters so a leaked key can be recognised.
type APIKey struct {
	ID         int64      `db:"id" json:"id"`
	Name       string     `db:"name" json:"name"`
	Prefix     string     `db:"prefix" json:"prefix"`
	CreatedAt  time.Time  `db:"created_at" json:"created_at"`
	LastUsedAt *time.Time `db:"last_used_at" json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `db:"revoked_at" json:"revoked_at,omitempty"`
	// Role scopes the key (viewer, marketer, ops, admin). Nil for a key
	// made before keys had roles: it keeps full access until scoped.
	Role *string `db:"role" json:"role"`
}

// apiKeyPrefix marks Tidings keys so secret scanners and people recognise them.
const apiKeyPrefix = "tdg_"

const apiKeyColumns = `id, name, prefix, created_at, last_used_at, revoked_at, role`

// CreateAPIKey issues a new key with the admin role (every permission).
func (s *Store) CreateAPIKey(ctx context.Context, name string) (APIKey, string, error) {
	return s.CreateAPIKeyWithRole(ctx, name, "admin")
}

// CreateAPIKeyWithRole issues a new key scoped to role and returns it with
// its listing. The key is returned only here: the database keeps a hash.
func (s *Store) CreateAPIKeyWithRole(ctx context.Context, name, role string) (APIKey, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return APIKey{}, "", fmt.Errorf("create api key: name is required")
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return APIKey{}, "", fmt.Errorf("create api key: %w", err)
	}
	secret := apiKeyPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw[:]))
	rows, err := s.pool.Query(ctx, `
		INSERT INTO api_keys (name, prefix, hash, role) VALUES ($1, $2, $3, $4)
		RETURNING `+apiKeyColumns, name, secret[:len(apiKeyPrefix)+8], hashSecret(secret), role)
	if err != nil {
		return APIKey{}, "", fmt.Errorf("create api key %s: %w", name, err)
	}
	k, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[APIKey])
	if err != nil {
		return APIKey{}, "", fmt.Errorf("create api key %s: %w", name, err)
	}
	return k, secret, nil
}

// APIKeys lists every key, revoked ones included, newest first.
func (s *Store) APIKeys(ctx context.Context) ([]APIKey, error) {
	return list[APIKey](ctx, s.pool, "list api keys", `SELECT `+apiKeyColumns+` FROM api_keys ORDER BY id DESC`)
}

// RevokeAPIKey stops a key from working, by ID or prefix. Revoking twice is
// harmless; the first revocation time is kept.
func (s *Store) RevokeAPIKey(ctx context.Context, idOrPrefix string) (APIKey, error) {
	return s.updateAPIKey(ctx, "revoke", `revoked_at = coalesce(revoked_at, now())`, idOrPrefix)
}

// SetAPIKeyRole scopes a key, by ID or prefix, to role.
func (s *Store) SetAPIKeyRole(ctx context.Context, idOrPrefix, role string) (APIKey, error) {
	return s.updateAPIKey(ctx, "scope", `role = $2`, idOrPrefix, role)
}

// updateAPIKey applies set to the one key whose ID or prefix is idOrPrefix
// (args follow it as $2...).
func (s *Store) updateAPIKey(ctx context.Context, what, set, idOrPrefix string, args ...any) (APIKey, error) {
	ks, err := rowsOf[APIKey](ctx, s.pool, `
		UPDATE api_keys SET `+set+`
		WHERE id::text = $1 OR prefix = $1
		RETURNING `+apiKeyColumns, append([]any{idOrPrefix}, args...)...)
	if err != nil {
		return APIKey{}, fmt.Errorf("%s api key %s: %w", what, idOrPrefix, err)
	}
	switch len(ks) {
	case 0:
		return APIKey{}, fmt.Errorf("api key %s: %w", idOrPrefix, ErrNotFound)
	case 1:
		return ks[0], nil
	}
	return APIKey{}, fmt.Errorf("%s api key %s: matches %d keys", what, idOrPrefix, len(ks))
}

// AuthenticateAPIKey returns the live key matching secret, or ErrNotFound for
// an unknown or revoked key. Last use is recorded at most once a minute, so
// busy clients do not turn every request into a write.
func (s *Store) AuthenticateAPIKey(ctx context.Context, secret string) (APIKey, error) {
	if !strings.HasPrefix(secret, apiKeyPrefix) {
		return APIKey{}, ErrNotFound
	}
	k, err := rowOf[APIKey](ctx, s.pool, `
		SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = $1 AND revoked_at IS NULL`, hashSecret(secret))
	if errors.Is(err, ErrNotFound) {
		return APIKey{}, ErrNotFound
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("authenticate api key: %w", err)
	}
	if k.LastUsedAt == nil || time.Since(*k.LastUsedAt) > time.Minute {
		if _, err := s.pool.Exec(ctx, `UPDATE api_keys SET last_used_at = now() WHERE id = $1`, k.ID); err != nil {
			return APIKey{}, fmt.Errorf("record api key use: %w", err)
		}
	}
	return k, nil
}

// hashSecret is what the database keeps of a key or session token: SHA-256
// suffices, since the secrets are 256 random bits, not guessable passwords.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
