package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Suppression reasons.
const (
	HardBounce  = "hard_bounce"
	Complaint   = "complaint"
	Manual      = "manual"
	Unsubscribe = "unsubscribe"
)

// Suppression is an address that must never be messaged on a channel.
type Suppression struct {
	Channel   string    `db:"channel" json:"channel"`
	Address   string    `db:"address" json:"address"`
	Reason    string    `db:"reason" json:"reason"`
	Detail    string    `db:"detail" json:"detail,omitempty"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
}

// NormalizeAddress is the form addresses are suppressed and checked in:
// email addresses compare case-insensitively, phone numbers are E.164.
func NormalizeAddress(address string) string {
	return strings.ToLower(strings.TrimSpace(address))
}

// Suppress adds an address to the suppression list. Suppressing an address
// twice keeps the first reason: the earliest evidence is the one that counts.
func (s *Store) Suppress(ctx context.Context, sp Suppression) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO suppressions (channel, address, reason, detail)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (channel, address) DO NOTHING`,
		sp.Channel, NormalizeAddress(sp.Address), sp.Reason, sp.Detail)
	if err != nil {
		return fmt.Errorf("suppress %s address: %w", sp.Channel, err)
	}
	return nil
}

// Suppression returns the suppression of an address, or ErrNotFound.
func (s *Store) Suppression(ctx context.Context, channel, address string) (Suppression, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT channel, address, reason, detail, created_at
		FROM suppressions
		WHERE channel = $1 AND address = $2`, channel, NormalizeAddress(address))
	if err != nil {
		return Suppression{}, fmt.Errorf("check suppression: %w", err)
	}
	sp, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Suppression])
	if errors.Is(err, pgx.ErrNoRows) {
		return Suppression{}, ErrNotFound
	}
	if err != nil {
		return Suppression{}, fmt.Errorf("check suppression: %w", err)
	}
	return sp, nil
}

// Unsuppress removes an address from the list (an operator's decision, e.g.
// after a customer fixed their mailbox).
func (s *Store) Unsuppress(ctx context.Context, channel, address string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM suppressions WHERE channel = $1 AND address = $2`,
		channel, NormalizeAddress(address))
	if err != nil {
		return fmt.Errorf("unsuppress: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}
