package mgmt

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/validate"
)

// UserStore keeps users and their sessions; *store.Store implements it.
type UserStore interface {
	CreateUser(ctx context.Context, email, role, passwordHash string) (store.User, error)
	Users(ctx context.Context) ([]store.User, error)
	UserByEmailOrID(ctx context.Context, key string) (store.User, error)
	UserCredentials(ctx context.Context, email string) (store.User, string, error)
	SetUserPassword(ctx context.Context, id int64, passwordHash string) (store.User, error)
	SetUserRole(ctx context.Context, id int64, role string) (store.User, error)
	SetUserDisabled(ctx context.Context, id int64, disabled bool) (store.User, error)
	RecordLogin(ctx context.Context, id int64) error
	SessionStore
}

// NewUser is a user to create. An empty Password has one generated.
type NewUser struct {
	Email    string `json:"email"`
	Role     string `json:"role"`
	Password string `json:"password,omitempty"`
}

// CreatedUser is the new user and, when it was generated, their password
// (shown once, never stored in the clear).
type CreatedUser struct {
	User     store.User `json:"user"`
	Password string     `json:"password,omitempty"`
}

// CreateUser adds a user who can sign in with email and password.
func (s *Service) CreateUser(ctx context.Context, p access.Principal, in NewUser) (CreatedUser, error) {
	var errs validate.Errors
	email, err := validate.Email(in.Email)
	if in.Email == "" {
		errs.Add("email", "is required")
	} else if err != nil {
		errs.Add("email", "%v", err)
	}
	role, err := access.ParseRole(in.Role)
	if in.Role == "" {
		errs.Add("role", "is required: one of viewer, marketer, ops, admin")
	} else if err != nil {
		errs.Add("role", "%v", err)
	}
	generated := in.Password == ""
	if generated {
		in.Password = access.NewPassword()
	} else if err := access.CheckPassword(in.Password); err != nil {
		errs.Add("password", "%v", err)
	}
	if len(errs) > 0 {
		return CreatedUser{}, errs
	}
	hash, err := access.HashPassword(in.Password)
	if err != nil {
		return CreatedUser{}, err
	}
	u, err := s.store.CreateUser(ctx, email, string(role), hash)
	if err != nil {
		return CreatedUser{}, err
	}
	if err := s.audit(ctx, p, "user.create", userTarget(u), map[string]any{"role": u.Role}); err != nil {
		return CreatedUser{}, err
	}
	out := CreatedUser{User: u}
	if generated {
		out.Password = in.Password
	}
	return out, nil
}

// Users lists every user.
func (s *Service) Users(ctx context.Context) ([]store.User, error) { return s.store.Users(ctx) }

// User finds a user by email or ID.
func (s *Service) User(ctx context.Context, key string) (store.User, error) {
	return s.store.UserByEmailOrID(ctx, key)
}

// UserChange is what to change about a user; nil fields stay as they are.
type UserChange struct {
	Role     *string `json:"role,omitempty"`
	Disabled *bool   `json:"disabled,omitempty"`
}

// ChangeUser changes a user's role and whether they may sign in. Nobody
// changes their own role or disables themselves, so an admin cannot lock
// the last admin out by a slip. Disabling signs the user out everywhere.
func (s *Service) ChangeUser(ctx context.Context, p access.Principal, key string, ch UserChange) (store.User, error) {
	u, err := s.store.UserByEmailOrID(ctx, key)
	if err != nil {
		return store.User{}, err
	}
	var errs validate.Errors
	var role access.Role
	if ch.Role != nil {
		if role, err = access.ParseRole(*ch.Role); err != nil {
			errs.Add("role", "%v", err)
		} else if isSelf(p, u) && string(role) != u.Role {
			errs.Add("role", "you cannot change your own role; ask another admin")
		}
	}
	if ch.Disabled != nil && *ch.Disabled && isSelf(p, u) {
		errs.Add("disabled", "you cannot disable your own account; ask another admin")
	}
	if ch.Role == nil && ch.Disabled == nil {
		errs.Add("role", "nothing to change: give role or disabled")
	}
	if len(errs) > 0 {
		return store.User{}, errs
	}
	if ch.Role != nil && string(role) != u.Role {
		from := u.Role
		if u, err = s.store.SetUserRole(ctx, u.ID, string(role)); err != nil {
			return store.User{}, err
		}
		if err := s.audit(ctx, p, "user.set_role", userTarget(u), map[string]any{"from": from, "to": u.Role}); err != nil {
			return store.User{}, err
		}
	}
	if ch.Disabled != nil && *ch.Disabled != (u.DisabledAt != nil) {
		if u, err = s.store.SetUserDisabled(ctx, u.ID, *ch.Disabled); err != nil {
			return store.User{}, err
		}
		action := "user.enable"
		if *ch.Disabled {
			action = "user.disable"
		}
		if err := s.audit(ctx, p, action, userTarget(u), nil); err != nil {
			return store.User{}, err
		}
	}
	return u, nil
}

// ResetPassword gives a user a new password (generated when empty, and
// then returned) and signs them out everywhere.
func (s *Service) ResetPassword(ctx context.Context, p access.Principal, key, password string) (CreatedUser, error) {
	u, err := s.store.UserByEmailOrID(ctx, key)
	if err != nil {
		return CreatedUser{}, err
	}
	generated := password == ""
	if generated {
		password = access.NewPassword()
	} else if err := access.CheckPassword(password); err != nil {
		return CreatedUser{}, validate.Errors{{Field: "password", Message: err.Error()}}
	}
	if u, err = s.setPassword(ctx, u, password); err != nil {
		return CreatedUser{}, err
	}
	if err := s.audit(ctx, p, "user.reset_password", userTarget(u), nil); err != nil {
		return CreatedUser{}, err
	}
	out := CreatedUser{User: u}
	if generated {
		out.Password = password
	}
	return out, nil
}

// ChangeOwnPassword lets a signed-in user replace their password, proving
// they know the current one. Every session of theirs ends, the current one
// too: they sign in again with the new password.
func (s *Service) ChangeOwnPassword(ctx context.Context, p access.Principal, current, next string) error {
	if p.Kind != access.KindUser {
		return validate.Errors{{Field: "current_password", Message: fmt.Sprintf("a %s has no password; sign in as a user", p.Kind)}}
	}
	u, hash, err := s.store.UserCredentials(ctx, p.Name)
	if err != nil {
		return err
	}
	if err := access.VerifyPassword(hash, current); errors.Is(err, access.ErrBadPassword) {
		return validate.Errors{{Field: "current_password", Message: "is not your current password"}}
	} else if err != nil {
		return err
	}
	if err := access.CheckPassword(next); err != nil {
		return validate.Errors{{Field: "new_password", Message: err.Error()}}
	}
	if _, err := s.setPassword(ctx, u, next); err != nil {
		return err
	}
	return s.audit(ctx, p, "user.change_password", userTarget(u), nil)
}

func (s *Service) setPassword(ctx context.Context, u store.User, password string) (store.User, error) {
	hash, err := access.HashPassword(password)
	if err != nil {
		return store.User{}, err
	}
	return s.store.SetUserPassword(ctx, u.ID, hash)
}

func isSelf(p access.Principal, u store.User) bool {
	return p.Kind == access.KindUser && p.ID == strconv.FormatInt(u.ID, 10)
}

func userTarget(u store.User) string { return "user:" + u.Email }
