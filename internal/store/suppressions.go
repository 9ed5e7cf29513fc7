package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Suppression reasons.
const (
	HardBounce  = "hard_bounce"
	SoftBounce  = "soft_bounce"
	Complaint   = "complaint"
	Manual      = "manual"
	Unsubscribe = "unsubscribe"
)

// SuppressionReasons lists every reason, for validation and help texts.
var SuppressionReasons = []string{HardBounce, SoftBounce, Complaint, Manual, Unsubscribe}

// Suppression is an address that must never be messaged on a channel.
type Suppression struct {
	Channel string `db:"channel" json:"channel"`
	Address string `db:"address" json:"address"`
	Reason  string `db:"reason" json:"reason"`
	// Source says where the suppression came from: smtp, ses, sendgrid,
	// mailgun, postmark, dsn, twilio, cli, api, import.
	Source    string    `db:"source" json:"source,omitempty"`
	Detail    string    `db:"detail" json:"detail,omitempty"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
	// Actor is who added or removed it (recorded in the history only).
	Actor string `db:"-" json:"-"`
}

// SuppressionChange is one addition to or removal from the list.
type SuppressionChange struct {
	ID        int64     `db:"id" json:"-"`
	Channel   string    `db:"channel" json:"channel"`
	Address   string    `db:"address" json:"address"`
	Action    string    `db:"action" json:"action"`
	Reason    string    `db:"reason" json:"reason,omitempty"`
	Source    string    `db:"source" json:"source,omitempty"`
	Actor     string    `db:"actor" json:"actor,omitempty"`
	Detail    string    `db:"detail" json:"detail,omitempty"`
	ChangedAt time.Time `db:"changed_at" json:"changed_at"`
}

// NormalizeAddress is the form addresses are suppressed and checked in:
// email addresses compare case-insensitively, phone numbers are E.164.
func NormalizeAddress(address string) string {
	return strings.ToLower(strings.TrimSpace(address))
}

// execer is what suppress needs: the pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Suppress adds an address to the suppression list. Suppressing an address
// twice keeps the first reason: the earliest evidence is the one that counts.
func (s *Store) Suppress(ctx context.Context, sp Suppression) error {
	_, err := suppress(ctx, s.pool, sp)
	return err
}

// SuppressNew is Suppress that reports whether the address was added now
// (false: it was on the list already).
func (s *Store) SuppressNew(ctx context.Context, sp Suppression) (bool, error) {
	return suppress(ctx, s.pool, sp)
}

// suppress inserts the suppression and, when it is new, its history row, in
// one statement.
func suppress(ctx context.Context, q execer, sp Suppression) (bool, error) {
	tag, err := q.Exec(ctx, `
		WITH ins AS (
			INSERT INTO suppressions (channel, address, reason, source, detail)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (channel, address) DO NOTHING
			RETURNING channel, address, reason, source, detail
		)
		INSERT INTO suppression_changes (channel, address, action, reason, source, actor, detail)
		SELECT channel, address, 'added', reason, source, $6, detail FROM ins`,
		sp.Channel, NormalizeAddress(sp.Address), sp.Reason, sp.Source, sp.Detail, sp.Actor)
	if err != nil {
		return false, fmt.Errorf("suppress %s address: %w", sp.Channel, err)
	}
	return tag.RowsAffected() > 0, nil
}

const suppressionColumns = `channel, address, reason, source, detail, created_at`

// Suppression returns the suppression of an address, or ErrNotFound.
func (s *Store) Suppression(ctx context.Context, channel, address string) (Suppression, error) {
	sp, err := rowOf[Suppression](ctx, s.pool, `
		SELECT `+suppressionColumns+`
		FROM suppressions
		WHERE channel = $1 AND address = $2`, channel, NormalizeAddress(address))
	if errors.Is(err, ErrNotFound) {
		return Suppression{}, ErrNotFound
	}
	if err != nil {
		return Suppression{}, fmt.Errorf("check suppression: %w", err)
	}
	return sp, nil
}

// Unsuppress removes an address from the list (an operator's decision, e.g.
// after a customer fixed their mailbox); see RemoveSuppression.
func (s *Store) Unsuppress(ctx context.Context, channel, address string) error {
	_, err := s.RemoveSuppression(ctx, channel, address, "", "")
	return err
}

// RemoveSuppression removes an address from the list and records who
// removed it and why, in the same statement. It returns the suppression
// removed, or ErrNotFound.
func (s *Store) RemoveSuppression(ctx context.Context, channel, address, actor, detail string) (Suppression, error) {
	sp, err := rowOf[Suppression](ctx, s.pool, `
		WITH del AS (
			DELETE FROM suppressions WHERE channel = $1 AND address = $2
			RETURNING `+suppressionColumns+`
		), logged AS (
			INSERT INTO suppression_changes (channel, address, action, reason, source, actor, detail)
			SELECT channel, address, 'removed', reason, source, $3, $4 FROM del
		)
		SELECT `+suppressionColumns+` FROM del`, channel, NormalizeAddress(address), actor, detail)
	if errors.Is(err, ErrNotFound) {
		return Suppression{}, ErrNotFound
	}
	if err != nil {
		return Suppression{}, fmt.Errorf("unsuppress: %w", err)
	}
	return sp, nil
}

// ImportSuppressions adds many suppressions in one statement; addresses
// already on the list keep their first reason. It returns how many were new.
func (s *Store) ImportSuppressions(ctx context.Context, sps []Suppression) (int, error) {
	if len(sps) == 0 {
		return 0, nil
	}
	type row struct {
		Channel string `json:"channel"`
		Address string `json:"address"`
		Reason  string `json:"reason"`
		Source  string `json:"source"`
		Detail  string `json:"detail"`
		Actor   string `json:"actor"`
	}
	in := make([]row, len(sps))
	for i, sp := range sps {
		in[i] = row{sp.Channel, NormalizeAddress(sp.Address), sp.Reason, sp.Source, sp.Detail, sp.Actor}
	}
	payload, err := json.Marshal(in)
	if err != nil {
		return 0, fmt.Errorf("encode suppressions: %w", err)
	}
	tag, err := s.pool.Exec(ctx, `
		WITH r AS (
			SELECT DISTINCT ON (channel, address) * FROM jsonb_to_recordset($1::jsonb)
				AS r(channel text, address text, reason text, source text, detail text, actor text)
		), ins AS (
			INSERT INTO suppressions (channel, address, reason, source, detail)
			SELECT channel, address, reason, source, detail FROM r
			ON CONFLICT (channel, address) DO NOTHING
			RETURNING channel, address, reason, source, detail
		)
		INSERT INTO suppression_changes (channel, address, action, reason, source, actor, detail)
		SELECT ins.channel, ins.address, 'added', ins.reason, ins.source, r.actor, ins.detail
		FROM ins JOIN r USING (channel, address)`, payload)
	if err != nil {
		return 0, fmt.Errorf("import %d suppressions: %w", len(sps), err)
	}
	return int(tag.RowsAffected()), nil
}

// SuppressionFilter narrows ListSuppressions; zero fields match everything.
type SuppressionFilter struct {
	Channel string
	Reason  string
	Source  string
	// Address matches addresses containing it (case-insensitive).
	Address string
	// After is the cursor of the previous page ("" for the first).
	After string
	Limit int
}

// ListSuppressions returns a page of the list, newest first, and the cursor
// of the next page ("" at the end).
func (s *Store) ListSuppressions(ctx context.Context, f SuppressionFilter) ([]Suppression, string, error) {
	f.Limit = pageSize(f.Limit, 100, 1000)
	var at time.Time
	var ch, addr string
	if f.After != "" {
		var err error
		if at, ch, addr, err = decodeSuppressionCursor(f.After); err != nil {
			return nil, "", err
		}
	}
	out, err := rowsOf[Suppression](ctx, s.pool, `
		SELECT `+suppressionColumns+` FROM suppressions
		WHERE ($1 = '' OR channel = $1) AND ($2 = '' OR reason = $2) AND ($3 = '' OR source = $3)
		  AND ($4 = '' OR address LIKE '%' || lower($4) || '%')
		  AND ($5::timestamptz IS NULL OR (created_at, channel, address) < ($5, $6, $7))
		ORDER BY created_at DESC, channel DESC, address DESC
		LIMIT $8`, f.Channel, f.Reason, f.Source, f.Address, nullTime(at), ch, addr, f.Limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list suppressions: %w", err)
	}
	out, next := cutPage(out, f.Limit, func(last Suppression) string {
		return encodeCursor(last.CreatedAt, last.Channel+"\x00"+last.Address)
	})
	return out, next, nil
}

// SuppressionHistory lists the additions and removals of an address, oldest
// first.
func (s *Store) SuppressionHistory(ctx context.Context, channel, address string) ([]SuppressionChange, error) {
	return list[SuppressionChange](ctx, s.pool, "suppression history", `
		SELECT id, channel, address, action, reason, source, actor, detail, changed_at
		FROM suppression_changes WHERE channel = $1 AND address = $2 ORDER BY changed_at, id`,
		channel, NormalizeAddress(address))
}

// ErrBadCursor is a pagination cursor this store did not hand out.
var ErrBadCursor = errors.New("invalid page cursor")

// pageSize is a listing's page length: want, or def when want is not
// between 1 and most.
func pageSize(want, def, most int) int {
	if want <= 0 || want > most {
		return def
	}
	return want
}

// cutPage takes a page of limit rows from rows read with limit+1 (the one
// more says another page follows) and the next page's cursor, made from the
// page's last row; "" on the last page.
func cutPage[T any](rows []T, limit int, cursor func(last T) string) ([]T, string) {
	if len(rows) <= limit {
		return rows, ""
	}
	rows = rows[:limit]
	return rows, cursor(rows[len(rows)-1])
}

// encodeCursor makes an opaque keyset cursor of a time and a tie-breaker.
func encodeCursor(at time.Time, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "\x00" + key))
}

func decodeCursor(c string) (time.Time, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", ErrBadCursor
	}
	ts, key, ok := strings.Cut(string(raw), "\x00")
	at, perr := time.Parse(time.RFC3339Nano, ts)
	if !ok || perr != nil {
		return time.Time{}, "", ErrBadCursor
	}
	return at, key, nil
}

func decodeSuppressionCursor(c string) (time.Time, string, string, error) {
	at, key, err := decodeCursor(c)
	if err != nil {
		return at, "", "", err
	}
	ch, addr, ok := strings.Cut(key, "\x00")
	if !ok {
		return at, "", "", ErrBadCursor
	}
	return at, ch, addr, nil
}

// nullTime is nil for the zero time, so "no cursor" reads as SQL NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
