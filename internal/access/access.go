// Package access says who may do what: the four roles, the access level each
// action needs, the principal (user, API key or command line) behind a
// request, password hashing, and the HTTP side of signing in (session
// cookies, CSRF tokens, credentials on a request). The API and the console
// authorise with the same levels, so a role means the same at every door.
package access

import (
	"slices"
	"strings"

	"github.com/tidingsdev/tidings/internal/spec"
)

// Role is what a user or an API key may do.
type Role string

// The roles, from least to most trusted.
const (
	// Viewer reads everything except personal-data exports.
	Viewer Role = "viewer"
	// Marketer also works on campaigns, segments and templates and sends tests.
	Marketer Role = "marketer"
	// Ops also runs schedules, suppressions, journeys and messages.
	Ops Role = "ops"
	// Admin may do everything, including users, keys, erasure and export.
	Admin Role = "admin"
)

// Roles lists every role in order of trust.
func Roles() []Role { return []Role{Viewer, Marketer, Ops, Admin} }

// ParseRole reads a role name as users type it; a wrong one is a
// spec.Problem, which keeps its message's key for the console.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(Roles(), r) {
		return "", spec.Problemf("role %q: expected one of %s", s, strings.Join(names(Roles()), ", "))
	}
	return r, nil
}

// Level is what an action requires; each route declares one.
type Level int

// The levels. Public needs no credentials at all.
const (
	Public Level = iota
	// Read: look at anything but personal-data exports (every role).
	Read
	// Ingest: write customers, events and consents, as a shop's backend
	// does (marketer, ops, admin).
	Ingest
	// Market: campaigns, segments, templates and test sends (marketer, admin).
	Market
	// Operate: schedules, suppressions, journeys and messages (ops, admin).
	Operate
	// Administer: users, keys, the audit log, erasure and export (admin).
	Administer
)

// Roles lists the roles that hold the level, in order of trust; nil for Public.
func (l Level) Roles() []Role {
	switch l {
	case Read:
		return Roles()
	case Ingest:
		return []Role{Marketer, Ops, Admin}
	case Market:
		return []Role{Marketer, Admin}
	case Operate:
		return []Role{Ops, Admin}
	case Administer:
		return []Role{Admin}
	}
	return nil
}

func (l Level) String() string {
	return [...]string{"public", "read", "ingest", "market", "operate", "administer"}[l]
}

// May reports whether the role holds level l.
func (r Role) May(l Level) bool {
	return l == Public || slices.Contains(l.Roles(), r)
}

// Principal kinds, as the audit log records them.
const (
	KindUser   = "user"
	KindAPIKey = "api_key"
	KindCLI    = "cli"
	KindSystem = "system"
)

// Principal is who is acting: a signed-in user, an API key, or an operator
// at the command line (who holds the database credentials and so every
// permission). It is what the audit log records as the actor.
type Principal struct {
	Kind string `json:"kind"`
	// ID is the user's or key's ID; Name their email, the key's name or the
	// operator's login.
	ID   string `json:"id,omitempty"`
	Name string `json:"name"`
	Role Role   `json:"role"`
	// Unscoped marks an API key made before keys had roles: it acts as
	// admin until an operator gives it a role.
	Unscoped bool `json:"unscoped,omitempty"`
	// IP is where the request came from ("" at the command line).
	IP string `json:"ip,omitempty"`
	// SessionID is the browser session a user acts through, if any, and
	// CSRFToken the value its state-changing requests must echo (pages put
	// it in their forms).
	SessionID int64  `json:"-"`
	CSRFToken string `json:"-"`
}

// String names the principal as logs and consent evidence do: "user:ann@example.com".
func (p Principal) String() string { return p.Kind + ":" + p.Name }

// May reports whether the principal holds level l.
func (p Principal) May(l Level) bool { return p.Role.May(l) }

// Operator is the principal of a command run by login at the command line.
func Operator(login string) Principal {
	if login == "" {
		login = "operator"
	}
	return Principal{Kind: KindCLI, Name: login, Role: Admin}
}

func names(rs []Role) []string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return s
}

// RoleList writes roles as "marketer or admin" for messages.
func RoleList(rs []Role) string {
	s := names(rs)
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}
