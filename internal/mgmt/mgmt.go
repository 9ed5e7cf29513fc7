// Package mgmt holds the management functions: every action a person takes
// on Tidings (signing in, managing users and keys, erasing and exporting a
// customer, applying a campaign, saving a segment, pausing a schedule,
// sending a test), each implemented once and called by all three front
// doors — the CLI, the HTTP API and the console. Front doors authorise (each
// declares the access.Level of its routes or commands); the functions here
// validate, act, and write the audit log, so an action is recorded the same
// way whichever door it came through.
//
// Bad input comes back as validate.Errors naming the field; a missing thing
// as an error wrapping store.ErrNotFound; a clash as store.ErrExists.
package mgmt

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/store"
)

// Store is what the management functions need of the system of record;
// *store.Store implements it.
type Store interface {
	UserStore
	KeyStore
	AuditStore
	CustomerStore
	SuppressionStore
}

// AuditStore appends to and reads the audit log.
type AuditStore interface {
	RecordAudit(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error)
	AuditEntries(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error)
}

// Journeys cancels the running journeys of an erased customer;
// *router.Router implements it.
type Journeys interface {
	CancelJourneys(ctx context.Context, customerID string) error
}

// Deps are what the service is built from, once, by the application.
type Deps struct {
	Store    Store
	Journeys Journeys
	Log      *slog.Logger
}

// Options tune the service; zero values mean the defaults.
type Options struct {
	// SessionIdle ends a browser session unused for this long (default 12h).
	SessionIdle time.Duration
	// SessionLifetime ends every session this long after sign-in (default 7 days).
	SessionLifetime time.Duration
	// Login limits failed sign-ins (defaults in LoginLimits).
	Login LoginLimits
	// Now is the clock (tests pin it); default time.Now.
	Now func() time.Time
}

// Service is the management functions over their dependencies. Build it
// once with New and share it between the API, the console and the CLI.
type Service struct {
	store    Store
	journeys Journeys
	log      *slog.Logger
	opt      Options
}

// New builds the service.
func New(d Deps, o Options) *Service {
	if o.SessionIdle <= 0 {
		o.SessionIdle = 12 * time.Hour
	}
	if o.SessionLifetime <= 0 {
		o.SessionLifetime = 7 * 24 * time.Hour
	}
	o.Login = o.Login.withDefaults()
	if o.Now == nil {
		o.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: d.Store, journeys: d.Journeys, log: d.Log, opt: o}
}

// SessionIdle is how long a session may go unused; the front doors that set
// cookies need it.
func (s *Service) SessionIdle() time.Duration { return s.opt.SessionIdle }

// audit records that p did action on target. An action that cannot be
// recorded is reported as failed, so nothing audited happens unrecorded.
func (s *Service) audit(ctx context.Context, p access.Principal, action, target string, detail map[string]any) error {
	_, err := s.store.RecordAudit(ctx, store.AuditEntry{
		ActorKind: p.Kind, ActorID: p.ID, ActorName: p.Name, IP: p.IP,
		Action: action, Target: target, Detail: detail,
	})
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// AuditLog lists audit entries newest first (at most 1000 per call).
func (s *Service) AuditLog(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = min(max(q.Limit, 100), 1000)
	}
	return s.store.AuditEntries(ctx, q)
}
