package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Session is one browser sign-in. The token that names it lives only in the
// user's cookie; CSRFToken is echoed by every state-changing request.
type Session struct {
	ID         int64      `db:"id" json:"id"`
	UserID     int64      `db:"user_id" json:"user_id"`
	CSRFToken  string     `db:"csrf_token" json:"-"`
	IP         string     `db:"ip" json:"ip"`
	UserAgent  string     `db:"user_agent" json:"user_agent"`
	CreatedAt  time.Time  `db:"created_at" json:"created_at"`
	LastSeenAt time.Time  `db:"last_seen_at" json:"last_seen_at"`
	IdleUntil  time.Time  `db:"idle_until" json:"idle_until"`
	ExpiresAt  time.Time  `db:"expires_at" json:"expires_at"`
	RevokedAt  *time.Time `db:"revoked_at" json:"revoked_at,omitempty"`
}

const sessionColumns = `id, user_id, csrf_token, ip, user_agent, created_at, last_seen_at, idle_until, expires_at, revoked_at`

// NewSession is a sign-in to record: who, from where, and how long it may
// stay idle and live at most.
type NewSession struct {
	UserID    int64
	IP        string
	UserAgent string
	Idle      time.Duration
	Lifetime  time.Duration
}

// CreateSession records a sign-in and returns it with its token, which is
// returned only here: the database keeps a hash, as for API keys.
func (s *Store) CreateSession(ctx context.Context, n NewSession) (Session, string, error) {
	token, err := randomToken(32)
	if err != nil {
		return Session{}, "", err
	}
	csrf, err := randomToken(32)
	if err != nil {
		return Session{}, "", err
	}
	rows, err := s.pool.Query(ctx, `
		INSERT INTO sessions (token_hash, user_id, csrf_token, ip, user_agent, idle_until, expires_at)
		VALUES ($1, $2, $3, $4, $5, now() + $6::interval, now() + $7::interval)
		RETURNING `+sessionColumns, hashSecret(token), n.UserID, csrf, n.IP, truncate(n.UserAgent, 256), n.Idle, n.Lifetime)
	if err != nil {
		return Session{}, "", fmt.Errorf("create session for user %d: %w", n.UserID, err)
	}
	sess, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Session])
	if err != nil {
		return Session{}, "", fmt.Errorf("create session for user %d: %w", n.UserID, err)
	}
	return sess, token, nil
}

// SessionByToken returns the live session the token names and its user:
// ErrNotFound when the token is unknown, revoked, expired or idle too long,
// or the user is disabled. Use moves the idle deadline forward, recorded at
// most once a minute so a busy page is not a write per request.
func (s *Store) SessionByToken(ctx context.Context, token string, idle time.Duration) (Session, User, error) {
	var (
		sess Session
		u    User
	)
	err := s.pool.QueryRow(ctx, `
		SELECT s.id, s.user_id, s.csrf_token, s.ip, s.user_agent, s.created_at, s.last_seen_at, s.idle_until, s.expires_at,
			u.id, u.email, u.role, u.created_at, u.updated_at, u.password_changed_at, u.last_login_at, u.disabled_at
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now() AND s.idle_until > now()
			AND u.disabled_at IS NULL`, hashSecret(token)).
		Scan(&sess.ID, &sess.UserID, &sess.CSRFToken, &sess.IP, &sess.UserAgent, &sess.CreatedAt, &sess.LastSeenAt,
			&sess.IdleUntil, &sess.ExpiresAt,
			&u.ID, &u.Email, &u.Role, &u.CreatedAt, &u.UpdatedAt, &u.PasswordChangedAt, &u.LastLoginAt, &u.DisabledAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, User{}, ErrNotFound
	}
	if err != nil {
		return Session{}, User{}, fmt.Errorf("look up session: %w", err)
	}
	if time.Since(sess.LastSeenAt) > time.Minute {
		if _, err := s.pool.Exec(ctx, `
			UPDATE sessions SET last_seen_at = now(), idle_until = least(now() + $2::interval, expires_at)
			WHERE id = $1`, sess.ID, idle); err != nil {
			return Session{}, User{}, fmt.Errorf("record session use: %w", err)
		}
	}
	return sess, u, nil
}

// RevokeSession ends one session (signing out); ending it twice is harmless.
func (s *Store) RevokeSession(ctx context.Context, id int64) error {
	if _, err := s.pool.Exec(ctx, `UPDATE sessions SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1`, id); err != nil {
		return fmt.Errorf("revoke session %d: %w", id, err)
	}
	return nil
}

// LoginFailures are the recent failed sign-ins for one account and from one
// address, with the oldest of each (when the count next drops).
type LoginFailures struct {
	ForEmail, FromIP      int
	OldestEmail, OldestIP time.Time
}

// RecentLoginFailures counts failed sign-ins for email and from ip since since.
func (s *Store) RecentLoginFailures(ctx context.Context, email, ip string, since time.Time) (LoginFailures, error) {
	var f LoginFailures
	var oldestEmail, oldestIP *time.Time
	err := s.pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM login_failures WHERE email = $1 AND failed_at > $3),
			(SELECT min(failed_at) FROM login_failures WHERE email = $1 AND failed_at > $3),
			(SELECT count(*) FROM login_failures WHERE ip = $2 AND failed_at > $3),
			(SELECT min(failed_at) FROM login_failures WHERE ip = $2 AND failed_at > $3)`,
		NormalizeEmail(email), ip, since).Scan(&f.ForEmail, &oldestEmail, &f.FromIP, &oldestIP)
	if err != nil {
		return LoginFailures{}, fmt.Errorf("count login failures: %w", err)
	}
	if oldestEmail != nil {
		f.OldestEmail = *oldestEmail
	}
	if oldestIP != nil {
		f.OldestIP = *oldestIP
	}
	return f, nil
}

// RecordLoginFailure notes a failed sign-in and forgets failures of the
// same account and address older than keep.
func (s *Store) RecordLoginFailure(ctx context.Context, email, ip string, keep time.Duration) error {
	email = NormalizeEmail(email)
	_, err := s.pool.Exec(ctx, `
		WITH gone AS (
			DELETE FROM login_failures WHERE (email = $1 OR ip = $2) AND failed_at < now() - $3::interval
		)
		INSERT INTO login_failures (email, ip) VALUES ($1, $2)`, truncate(email, 320), ip, keep)
	if err != nil {
		return fmt.Errorf("record login failure: %w", err)
	}
	return nil
}

// ClearLoginFailures forgets an account's failures after it signs in.
func (s *Store) ClearLoginFailures(ctx context.Context, email string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM login_failures WHERE email = $1`, NormalizeEmail(email)); err != nil {
		return fmt.Errorf("clear login failures: %w", err)
	}
	return nil
}

func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
