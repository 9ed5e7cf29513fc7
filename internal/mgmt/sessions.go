package mgmt

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/validate"
)

// SessionStore keeps browser sessions and failed sign-ins; *store.Store
// implements it.
type SessionStore interface {
	CreateSession(ctx context.Context, n store.NewSession) (store.Session, string, error)
	SessionByToken(ctx context.Context, token string, idle time.Duration) (store.Session, store.User, error)
	RevokeSession(ctx context.Context, id int64) error
	RecentLoginFailures(ctx context.Context, email, ip string, since time.Time) (store.LoginFailures, error)
	RecordLoginFailure(ctx context.Context, email, ip string, keep time.Duration) error
	ClearLoginFailures(ctx context.Context, email string) error
}

// LoginLimits bound failed sign-ins, per account and per client address,
// over a sliding window. Past a limit every attempt, right or wrong, is
// refused until the window moves on, so guessing gains nothing.
type LoginLimits struct {
	PerAccount int           // default 5
	PerIP      int           // default 20
	Window     time.Duration // default 15 minutes
}

func (l LoginLimits) withDefaults() LoginLimits {
	if l.PerAccount <= 0 {
		l.PerAccount = 5
	}
	if l.PerIP <= 0 {
		l.PerIP = 20
	}
	if l.Window <= 0 {
		l.Window = 15 * time.Minute
	}
	return l
}

// Sign-in refusals the front doors tell apart.
var (
	// ErrBadCredentials: unknown email or wrong password (never which).
	ErrBadCredentials = errors.New("email or password is wrong")
	// ErrDisabled: the password was right but the account is disabled.
	ErrDisabled = errors.New("this account is disabled; ask an admin to enable it")
)

// RateLimitedError refuses a sign-in after too many failures.
type RateLimitedError struct {
	// PerAccount is true when the account's limit was reached, false for
	// the client address's.
	PerAccount bool
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	who := "from this address"
	if e.PerAccount {
		who = "for this account"
	}
	return fmt.Sprintf("too many failed sign-ins %s; try again in %s", who, roundUp(e.RetryAfter))
}

func roundUp(d time.Duration) string {
	if d <= time.Minute {
		return "a minute"
	}
	return fmt.Sprintf("%d minutes", int((d+time.Minute-1)/time.Minute))
}

// LoginInput is a sign-in attempt and where it came from.
type LoginInput struct {
	Email     string `json:"email"`
	Password  string `json:"password"`
	IP        string `json:"-"`
	UserAgent string `json:"-"`
}

// Login is a successful sign-in: the session, its token (for the cookie,
// shown only now) and who signed in.
type Login struct {
	Session store.Session    `json:"session"`
	Token   string           `json:"-"`
	User    store.User       `json:"user"`
	As      access.Principal `json:"-"`
}

// Login checks a user's email and password and opens a session. Failed
// attempts count against the account and the address; past either limit
// the attempt is refused with a *RateLimitedError before the password is
// looked at. Successes and failures are both audited.
func (s *Service) Login(ctx context.Context, in LoginInput) (Login, error) {
	var errs validate.Errors
	if in.Email == "" {
		errs.Add("email", "is required")
	}
	if in.Password == "" {
		errs.Add("password", "is required")
	}
	if len(errs) > 0 {
		return Login{}, errs
	}
	email := store.NormalizeEmail(in.Email)
	lim := s.opt.Login
	now := s.opt.Now()
	f, err := s.store.RecentLoginFailures(ctx, email, in.IP, now.Add(-lim.Window))
	if err != nil {
		return Login{}, err
	}
	switch {
	case f.ForEmail >= lim.PerAccount:
		return Login{}, &RateLimitedError{PerAccount: true, RetryAfter: f.OldestEmail.Add(lim.Window).Sub(now)}
	case f.FromIP >= lim.PerIP:
		return Login{}, &RateLimitedError{RetryAfter: f.OldestIP.Add(lim.Window).Sub(now)}
	}
	attempt := access.Principal{Kind: access.KindUser, Name: email, IP: in.IP}
	u, hash, err := s.store.UserCredentials(ctx, email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		err = access.BurnVerify(in.Password)
	case err != nil:
		return Login{}, err
	default:
		err = access.VerifyPassword(hash, in.Password)
	}
	if errors.Is(err, access.ErrBadPassword) {
		return Login{}, s.loginFailed(ctx, attempt, "bad_credentials", ErrBadCredentials)
	}
	if err != nil {
		return Login{}, err
	}
	attempt.ID, attempt.Role = strconv.FormatInt(u.ID, 10), access.Role(u.Role)
	if u.DisabledAt != nil {
		return Login{}, s.loginFailed(ctx, attempt, "disabled", ErrDisabled)
	}
	sess, token, err := s.store.CreateSession(ctx, store.NewSession{
		UserID: u.ID, IP: in.IP, UserAgent: in.UserAgent, Idle: s.opt.SessionIdle, Lifetime: s.opt.SessionLifetime,
	})
	if err != nil {
		return Login{}, err
	}
	if err := s.store.RecordLogin(ctx, u.ID); err != nil {
		return Login{}, err
	}
	if err := s.store.ClearLoginFailures(ctx, email); err != nil {
		return Login{}, err
	}
	attempt.SessionID, attempt.CSRFToken = sess.ID, sess.CSRFToken
	if err := s.audit(ctx, attempt, "session.login", userTarget(u), map[string]any{"session": sess.ID}); err != nil {
		return Login{}, err
	}
	return Login{Session: sess, Token: token, User: u, As: attempt}, nil
}

// loginFailed counts and audits a failed sign-in and returns why.
func (s *Service) loginFailed(ctx context.Context, p access.Principal, reason string, why error) error {
	if err := s.store.RecordLoginFailure(ctx, p.Name, p.IP, 24*time.Hour); err != nil {
		return err
	}
	if err := s.audit(ctx, p, "session.login_failed", "user:"+truncate(p.Name, 254), map[string]any{"reason": reason}); err != nil {
		return err
	}
	return why
}

// Session returns who a session token signs in, with the session's CSRF
// token; access.ErrInvalidCredentials for an unknown, ended or expired
// token or a disabled user.
func (s *Service) Session(ctx context.Context, token string) (access.Principal, error) {
	sess, u, err := s.store.SessionByToken(ctx, token, s.opt.SessionIdle)
	if errors.Is(err, store.ErrNotFound) || (err == nil && sess.UserAgent == loginLinkAgent) {
		return access.Principal{}, access.ErrInvalidCredentials
	}
	if err != nil {
		return access.Principal{}, err
	}
	return access.Principal{
		Kind: access.KindUser, ID: strconv.FormatInt(u.ID, 10), Name: u.Email, Role: access.Role(u.Role),
		SessionID: sess.ID, CSRFToken: sess.CSRFToken,
	}, nil
}

// Logout ends the principal's session, if it has one.
func (s *Service) Logout(ctx context.Context, p access.Principal) error {
	if p.SessionID == 0 {
		return nil
	}
	if err := s.store.RevokeSession(ctx, p.SessionID); err != nil {
		return err
	}
	return s.audit(ctx, p, "session.logout", "user:"+p.Name, map[string]any{"session": p.SessionID})
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}
