package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// tidingsIn is tidings with stdin.
func tidingsIn(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr strings.Builder
	a := &app{getenv: func(k string) string { return env[k] }, stdout: &stdout, stderr: &stderr, stdin: strings.NewReader(stdin)}
	code := run(t.Context(), a, args)
	return result{code, stdout.String(), stderr.String()}
}

func signIn(t *testing.T, s *store.Store, email, password string) error {
	t.Helper()
	_, err := mgmt.New(mgmt.Deps{Store: s}, mgmt.Options{}).Login(context.Background(), mgmt.LoginInput{Email: email, Password: password, IP: "198.51.100.1"})
	return err
}

func TestUsersCreateListDisableResetAndRole(t *testing.T) {
	t.Parallel()
	env, s := migratedEnv(t)
	env["USER"] = "root"

	r := tidings(t, env, "users", "create", "Mei@Example.com", "--role", "marketer")
	password := strings.TrimSpace(r.stdout)
	if r.code != 0 || len(password) < 20 || !strings.Contains(r.stderr, "not shown again") {
		t.Fatalf("create:\n%s", r)
	}
	if err := signIn(t, s, "mei@example.com", password); err != nil {
		t.Errorf("the printed password does not sign in: %v", err)
	}
	r = tidingsIn(t, env, "chosen by ops, long\n", "users", "create", "ops@example.com", "--role", "ops", "--password-stdin")
	if r.code != 0 || strings.Contains(r.stdout, "chosen") {
		t.Fatalf("create with --password-stdin:\n%s", r)
	}
	if err := signIn(t, s, "ops@example.com", "chosen by ops, long"); err != nil {
		t.Errorf("the password from stdin does not sign in: %v", err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"users", "create", "mei@example.com", "--role", "viewer"}, "already exists"},
		{[]string{"users", "create", "nobody", "--role", "viewer"}, "not a valid email"},
		{[]string{"users", "create", "x@example.com", "--role", "boss"}, `role "boss": expected one of viewer, marketer, ops, admin`},
		{[]string{"users", "create", "x@example.com"}, "role: is required"},
		{[]string{"users", "disable", "ghost@example.com"}, "not found"},
		{[]string{"users", "role", "mei@example.com", "owner"}, "expected one of"},
	} {
		if r := tidings(t, env, tc.args...); r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: want exit 2 saying %q:\n%s", tc.args, tc.want, r)
		}
	}

	r = tidings(t, env, "users", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "mei@example.com") || !strings.Contains(r.stdout, "marketer") || !strings.Contains(r.stdout, "active") {
		t.Errorf("list:\n%s", r)
	}
	if r := tidings(t, env, "users", "disable", "mei@example.com"); r.code != 0 || !strings.Contains(r.stdout, "disabled") {
		t.Errorf("disable:\n%s", r)
	}
	if err := signIn(t, s, "mei@example.com", password); !errors.Is(err, mgmt.ErrDisabled) {
		t.Errorf("a disabled user signs in: %v", err)
	}
	if r := tidings(t, env, "users", "enable", "mei@example.com"); r.code != 0 {
		t.Errorf("enable:\n%s", r)
	}
	r = tidings(t, env, "users", "reset", "mei@example.com")
	next := strings.TrimSpace(r.stdout)
	if r.code != 0 || next == "" || next == password {
		t.Fatalf("reset:\n%s", r)
	}
	if err := signIn(t, s, "mei@example.com", password); !errors.Is(err, mgmt.ErrBadCredentials) {
		t.Errorf("the old password after a reset: %v", err)
	}
	if err := signIn(t, s, "mei@example.com", next); err != nil {
		t.Errorf("the new password: %v", err)
	}
	if r := tidings(t, env, "users", "role", "mei@example.com", "ops"); r.code != 0 || !strings.Contains(r.stdout, "role ops") {
		t.Errorf("role:\n%s", r)
	}

	r = tidings(t, env, "audit", "list", "--actor", "cli:root")
	for _, want := range []string{"user.create", "user.disable", "user.enable", "user.reset_password", "user.set_role", "user:mei@example.com", `{"from":"marketer","to":"ops"}`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("audit list lacks %s:\n%s", want, r)
		}
	}
	if r := tidings(t, env, "audit", "list", "--action", "session", "--json"); r.code != 0 || !strings.Contains(r.stdout, `"action": "session.login_failed"`) ||
		!strings.Contains(r.stdout, `"ip": "198.51.100.1"`) {
		t.Errorf("audit list of sign-ins:\n%s", r)
	}
	if r := tidings(t, env, "audit", "list", "--since", "yesterday"); r.code != exitUsage {
		t.Errorf("a bad --since:\n%s", r)
	}
}

func TestAPIKeysCarryARoleAndOldKeysCanBeScoped(t *testing.T) {
	t.Parallel()
	env, s := migratedEnv(t)
	env["USER"] = "root"
	r := tidings(t, env, "apikeys", "create", "shop backend", "--role", "ops")
	secret := strings.TrimSpace(r.stdout)
	if r.code != 0 || !strings.HasPrefix(secret, "tdg_") || !strings.Contains(r.stderr, "role ops") {
		t.Fatalf("create:\n%s", r)
	}
	m := mgmt.New(mgmt.Deps{Store: s}, mgmt.Options{})
	if p, err := m.APIKey(t.Context(), secret); err != nil || p.Role != access.Ops {
		t.Errorf("the key authenticates as %+v (%v), want role ops", p, err)
	}
	if r := tidings(t, env, "apikeys", "create", "x", "--role", "root"); r.code != exitUsage {
		t.Errorf("an unknown role:\n%s", r)
	}
	old, oldSecret, err := s.CreateAPIKey(t.Context(), "before roles")
	if err != nil {
		t.Fatal(err)
	}
	testdb.MustExec(t, s, `UPDATE api_keys SET role = NULL WHERE id = $1`, old.ID)
	if r := tidings(t, env, "apikeys", "list"); !strings.Contains(r.stdout, "unscoped (full access)") || !strings.Contains(r.stdout, "ops") {
		t.Errorf("list:\n%s", r)
	}
	if r := tidings(t, env, "apikeys", "scope", old.Prefix, "viewer"); r.code != 0 || !strings.Contains(r.stdout, "role viewer") {
		t.Errorf("scope:\n%s", r)
	}
	if p, _ := m.APIKey(t.Context(), oldSecret); p.Role != access.Viewer || p.Unscoped {
		t.Errorf("the scoped key authenticates as %+v", p)
	}
	if r := tidings(t, env, "apikeys", "revoke", "999"); r.code != exitUsage || !strings.Contains(r.stderr, "tidings apikeys list") {
		t.Errorf("revoke an unknown key:\n%s", r)
	}
	if r := tidings(t, env, "apikeys", "revoke", old.Prefix); r.code != 0 {
		t.Errorf("revoke:\n%s", r)
	}
	if _, err := m.APIKey(t.Context(), oldSecret); !errors.Is(err, access.ErrInvalidCredentials) {
		t.Errorf("a revoked key authenticates: %v", err)
	}
	r = tidings(t, env, "audit", "list", "--action", "apikey")
	for _, want := range []string{"apikey.create", "apikey.scope", "apikey.revoke", "cli:root"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("audit lacks %s:\n%s", want, r)
		}
	}
}
