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
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/validate"
	"github.com/tidingsdev/tidings/templates"
	"github.com/tidingsdev/tidings/workflows"
)

// Store is what the management functions need of the system of record;
// *store.Store implements it.
type Store interface {
	UserStore
	KeyStore
	AuditStore
	CustomerStore
	SuppressionStore
	CampaignStore
	OverviewStore
	CustomerSearchStore
	SegmentStore
	CouponStore
	JourneyStore
	AudienceStore
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
	// Templates loads the template set campaigns are checked against and
	// previews render with; nil means the built-in templates.
	Templates func() (*templates.Set, error)
	// Temporal reaches the journey engine, on first use by an action that
	// needs it (applying or pausing a campaign); nil refuses those actions
	// with ErrNoEngine.
	Temporal func(ctx context.Context) (client.Client, error)
	// TaskQueue is where campaign workflows are started.
	TaskQueue string
	// Company is the sender templates print in footers.
	Company templates.Company
	// Send reaches the one send path, on first use by a send; nil refuses
	// sends with ErrNoSender.
	Send func(ctx context.Context) (Sender, error)
	// Topics are the message topics in force; nil leaves checking them to
	// the send path.
	Topics func() (map[string]delivery.Topic, error)
	// JourneySettings are the journeys' parameters in force (the policy
	// file's); nil means the defaults.
	JourneySettings func() (workflows.Settings, error)
}

// ErrNoEngine refuses an action that needs Temporal when it cannot be
// reached; nothing was written.
var ErrNoEngine = errors.New("the journey engine (Temporal) is unreachable")

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
	store     Store
	journeys  Journeys
	log       *slog.Logger
	opt       Options
	templates func() (*templates.Set, error)
	temporal  func(ctx context.Context) (client.Client, error)
	taskQueue string
	company   templates.Company
	send      func(ctx context.Context) (Sender, error)
	topics    func() (map[string]delivery.Topic, error)
	settings  func() (workflows.Settings, error)
	// earlier is the overview's count of the days before today.
	earlier settledTraffic
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
	if d.Templates == nil {
		d.Templates = sync.OnceValues(func() (*templates.Set, error) { return templates.Load(templates.Options{}) })
	}
	return &Service{store: d.Store, journeys: d.Journeys, log: d.Log, opt: o,
		templates: d.Templates, temporal: d.Temporal, taskQueue: d.TaskQueue, company: d.Company,
		send: d.Send, topics: d.Topics, settings: d.JourneySettings}
}

// templateSet is the templates campaigns and previews use.
func (s *Service) templateSet() (*templates.Set, error) {
	set, err := s.templates()
	if err != nil {
		return nil, fmt.Errorf("load templates: %w", err)
	}
	return set, nil
}

// reach builds a part the service reaches only when an action needs it:
// without one, or when building it fails, the action is refused with
// missing (wrapping the failure).
func reach[T any](ctx context.Context, get func(context.Context) (T, error), missing error) (T, error) {
	var none T
	if get == nil {
		return none, missing
	}
	v, err := get(ctx)
	if err != nil {
		return none, fmt.Errorf("%w: %w", missing, err)
	}
	return v, nil
}

// fieldError is bad input in one field, as validate.Errors.
func fieldError(field, format string, args ...any) error {
	var errs validate.Errors
	errs.Add(field, format, args...)
	return errs
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
