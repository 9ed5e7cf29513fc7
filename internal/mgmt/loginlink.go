package mgmt

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/store"
)

// loginLinkAgent marks the sessions that stand for unused sign-in links:
// they sign nobody in until redeemed, and redeeming one ends it.
const loginLinkAgent = "one-time sign-in link"

// ErrLoginLinkUsed refuses a sign-in link that was used, has expired, or
// whose user was disabled.
var ErrLoginLinkUsed = errors.New("this sign-in link was already used or has expired")

// IssueLoginLink makes a one-time sign-in link's token for a user, valid for
// ttl, so `tidings dev` can hand a newcomer a console already signed in
// without a password to copy. Only someone holding every permission (the
// operator at the command line) may issue one; the issue is audited.
func (s *Service) IssueLoginLink(ctx context.Context, p access.Principal, userKey string, ttl time.Duration) (string, error) {
	if !p.May(access.Administer) {
		return "", fmt.Errorf("issue a sign-in link: %s may not", p)
	}
	u, err := s.store.UserByEmailOrID(ctx, userKey)
	if err != nil {
		return "", err
	}
	sess, token, err := s.store.CreateSession(ctx, store.NewSession{UserID: u.ID, UserAgent: loginLinkAgent, Idle: ttl, Lifetime: ttl})
	if err != nil {
		return "", err
	}
	if err := s.audit(ctx, p, "session.issue_link", userTarget(u), map[string]any{"link": sess.ID, "ttl": ttl.String()}); err != nil {
		return "", err
	}
	return token, nil
}

// RedeemLoginLink signs in with a link's token: the link ends and a new
// session opens, as a password sign-in would. A second use gets
// ErrLoginLinkUsed.
func (s *Service) RedeemLoginLink(ctx context.Context, token, ip, userAgent string) (Login, error) {
	link, u, err := s.store.SessionByToken(ctx, token, s.opt.SessionIdle)
	if errors.Is(err, store.ErrNotFound) || (err == nil && link.UserAgent != loginLinkAgent) {
		return Login{}, ErrLoginLinkUsed
	}
	if err != nil {
		return Login{}, err
	}
	if err := s.store.RevokeSession(ctx, link.ID); err != nil {
		return Login{}, err
	}
	sess, tok, err := s.store.CreateSession(ctx, store.NewSession{
		UserID: u.ID, IP: ip, UserAgent: userAgent, Idle: s.opt.SessionIdle, Lifetime: s.opt.SessionLifetime,
	})
	if err != nil {
		return Login{}, err
	}
	if err := s.store.RecordLogin(ctx, u.ID); err != nil {
		return Login{}, err
	}
	as := access.Principal{Kind: access.KindUser, ID: strconv.FormatInt(u.ID, 10), Name: u.Email, Role: access.Role(u.Role),
		IP: ip, SessionID: sess.ID, CSRFToken: sess.CSRFToken}
	if err := s.audit(ctx, as, "session.login", userTarget(u), map[string]any{"session": sess.ID, "link": link.ID}); err != nil {
		return Login{}, err
	}
	return Login{Session: sess, Token: tok, User: u, As: as}, nil
}
