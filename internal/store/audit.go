package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuditEntry is one action in the audit log: who (a user, an API key, the
// command line), what and on what, when and from where.
type AuditEntry struct {
	ID        int64          `db:"id" json:"id"`
	At        time.Time      `db:"at" json:"at"`
	ActorKind string         `db:"actor_kind" json:"actor_kind"`
	ActorID   string         `db:"actor_id" json:"actor_id,omitempty"`
	ActorName string         `db:"actor_name" json:"actor_name"`
	IP        string         `db:"ip" json:"ip,omitempty"`
	Action    string         `db:"action" json:"action"`
	Target    string         `db:"target" json:"target,omitempty"`
	Detail    map[string]any `db:"detail" json:"detail,omitempty"`
}

const auditColumns = `id, at, actor_kind, actor_id, actor_name, ip, action, target, detail`

// RecordAudit appends an entry to the audit log.
func (s *Store) RecordAudit(ctx context.Context, e AuditEntry) (AuditEntry, error) {
	if e.Detail == nil {
		e.Detail = map[string]any{}
	}
	rows, err := s.pool.Query(ctx, `
		INSERT INTO audit_log (actor_kind, actor_id, actor_name, ip, action, target, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		RETURNING `+auditColumns, e.ActorKind, e.ActorID, e.ActorName, e.IP, e.Action, e.Target, e.Detail)
	if err != nil {
		return AuditEntry{}, fmt.Errorf("record audit %s %s: %w", e.Action, e.Target, err)
	}
	out, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[AuditEntry])
	if err != nil {
		return AuditEntry{}, fmt.Errorf("record audit %s %s: %w", e.Action, e.Target, err)
	}
	return out, nil
}

// AuditQuery filters the audit log; zero fields do not filter.
type AuditQuery struct {
	// Actor is an actor's name ("ann@example.com") or kind:name ("api_key:shop").
	Actor string
	// Action is one action ("campaign.apply") or every action on a kind of
	// thing ("campaign").
	Action string
	// Target is what was acted on ("campaign:spring-sale", "customer:<id>").
	Target string
	Since  time.Time
	Until  time.Time
	// Before pages: entries with a smaller ID (the last ID of the previous page).
	Before int64
	// Limit is at most this many entries, newest first.
	Limit int
}

// AuditEntries lists entries newest first.
func (s *Store) AuditEntries(ctx context.Context, q AuditQuery) ([]AuditEntry, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "$?", fmt.Sprintf("$%d", len(args))))
	}
	if q.Actor != "" {
		if kind, name, ok := strings.Cut(q.Actor, ":"); ok && isActorKind(kind) {
			add(`actor_kind = $?`, kind)
			add(`actor_name = $?`, name)
		} else {
			add(`actor_name = $?`, q.Actor)
		}
	}
	if q.Action != "" {
		add(`(action = $? OR action LIKE $? || '.%')`, q.Action)
	}
	if q.Target != "" {
		add(`target = $?`, q.Target)
	}
	if !q.Since.IsZero() {
		add(`at >= $?`, q.Since)
	}
	if !q.Until.IsZero() {
		add(`at < $?`, q.Until)
	}
	if q.Before > 0 {
		add(`id < $?`, q.Before)
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	sql := `SELECT ` + auditColumns + ` FROM audit_log`
	if len(where) > 0 {
		sql += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, q.Limit)
	sql += fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args))
	return list[AuditEntry](ctx, s.pool, "list audit log", sql, args...)
}

func isActorKind(k string) bool {
	switch k {
	case "user", "api_key", "cli", "system":
		return true
	}
	return false
}
