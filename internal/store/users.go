package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrExists means a row with the same unique key is already there.
var ErrExists = errors.New("already exists")

// User is a person who signs in, as listed to admins: never the password hash.
type User struct {
	ID                int64      `db:"id" json:"id"`
	Email             string     `db:"email" json:"email"`
	Role              string     `db:"role" json:"role"`
	CreatedAt         time.Time  `db:"created_at" json:"created_at"`
	UpdatedAt         time.Time  `db:"updated_at" json:"updated_at"`
	PasswordChangedAt time.Time  `db:"password_changed_at" json:"password_changed_at"`
	LastLoginAt       *time.Time `db:"last_login_at" json:"last_login_at,omitempty"`
	DisabledAt        *time.Time `db:"disabled_at" json:"disabled_at,omitempty"`
}

const userColumns = `id, email, role, created_at, updated_at, password_changed_at, last_login_at, disabled_at`

// NormalizeEmail is how user emails are stored and looked up: trimmed, lower case.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateUser adds a user; ErrExists when the email is taken.
func (s *Store) CreateUser(ctx context.Context, email, role, passwordHash string) (User, error) {
	email = NormalizeEmail(email)
	u, err := s.oneUser(ctx, `
		INSERT INTO users (email, role, password_hash) VALUES ($1, $2, $3)
		RETURNING `+userColumns, email, role, passwordHash)
	if isUniqueViolation(err) {
		return User{}, fmt.Errorf("user %s: %w", email, ErrExists)
	}
	if err != nil {
		return User{}, fmt.Errorf("create user %s: %w", email, err)
	}
	return u, nil
}

// Users lists every user, disabled ones included, by email.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	return list[User](ctx, s.pool, "list users", `SELECT `+userColumns+` FROM users ORDER BY email`)
}

// UserByEmailOrID finds a user by email or numeric ID.
func (s *Store) UserByEmailOrID(ctx context.Context, key string) (User, error) {
	u, err := s.oneUser(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1 OR id::text = $1`, NormalizeEmail(key))
	if err != nil {
		return User{}, fmt.Errorf("user %s: %w", key, err)
	}
	return u, nil
}

// UserCredentials returns the user with email and their password hash, for
// signing in.
func (s *Store) UserCredentials(ctx context.Context, email string) (User, string, error) {
	var hash string
	var u User
	err := s.pool.QueryRow(ctx, `
		SELECT id, email, role, created_at, updated_at, password_changed_at, last_login_at, disabled_at, password_hash
		FROM users WHERE email = $1`, NormalizeEmail(email)).
		Scan(&u.ID, &u.Email, &u.Role, &u.CreatedAt, &u.UpdatedAt, &u.PasswordChangedAt, &u.LastLoginAt, &u.DisabledAt, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, "", fmt.Errorf("user %s: %w", email, ErrNotFound)
	}
	if err != nil {
		return User{}, "", fmt.Errorf("user %s: %w", email, err)
	}
	return u, hash, nil
}

// SetUserPassword replaces a user's password and signs them out everywhere,
// so a reset locks out whoever knew the old one.
func (s *Store) SetUserPassword(ctx context.Context, id int64, passwordHash string) (User, error) {
	return s.changeUser(ctx, id, `password_hash = $2, password_changed_at = now()`, true, passwordHash)
}

// SetUserRole changes what a user may do. Their sessions stay: every
// request reads the role afresh.
func (s *Store) SetUserRole(ctx context.Context, id int64, role string) (User, error) {
	return s.changeUser(ctx, id, `role = $2`, false, role)
}

// SetUserDisabled disables a user (signing them out everywhere) or enables
// them again.
func (s *Store) SetUserDisabled(ctx context.Context, id int64, disabled bool) (User, error) {
	if disabled {
		return s.changeUser(ctx, id, `disabled_at = coalesce(disabled_at, now())`, true)
	}
	return s.changeUser(ctx, id, `disabled_at = NULL`, false)
}

// RecordLogin notes a successful sign-in.
func (s *Store) RecordLogin(ctx context.Context, id int64) error {
	if _, err := s.pool.Exec(ctx, `UPDATE users SET last_login_at = now() WHERE id = $1`, id); err != nil {
		return fmt.Errorf("record login of user %d: %w", id, err)
	}
	return nil
}

// changeUser applies set to user id (args follow as $2...) and, with
// signOut, revokes their sessions in the same transaction.
func (s *Store) changeUser(ctx context.Context, id int64, set string, signOut bool, args ...any) (User, error) {
	var u User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE users SET `+set+`, updated_at = now() WHERE id = $1 RETURNING `+userColumns,
			append([]any{id}, args...)...)
		if err != nil {
			return err
		}
		if u, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[User]); err != nil {
			return err
		}
		if signOut {
			_, err = tx.Exec(ctx, `UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, id)
		}
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, fmt.Errorf("user %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("update user %d: %w", id, err)
	}
	return u, nil
}

func (s *Store) oneUser(ctx context.Context, query string, args ...any) (User, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return User{}, err
	}
	u, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[User])
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNotFound
	}
	return u, err
}
