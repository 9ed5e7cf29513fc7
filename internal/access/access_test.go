package access

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

func TestPasswordHashesVerifyOnlyTheirPassword(t *testing.T) {
	h1, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPassword("correct horse battery staple")
	if h1 == h2 || !strings.HasPrefix(h1, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hashes %q and %q: want salted argon2id PHC strings", h1, h2)
	}
	if err := VerifyPassword(h1, "correct horse battery staple"); err != nil {
		t.Errorf("the right password: %v", err)
	}
	for _, wrong := range []string{"correct horse battery stapl", "Correct horse battery staple", "", strings.Repeat("x", 10000)} {
		if err := VerifyPassword(h1, wrong); !errors.Is(err, ErrBadPassword) {
			t.Errorf("%.20q: %v, want ErrBadPassword", wrong, err)
		}
	}
	// A hash made with other parameters still verifies: they travel with it.
	salt := []byte("saltsaltsaltsalt")
	key := argon2.IDKey([]byte("an older password"), salt, 1, 8192, 2, 32)
	old := "$argon2id$v=19$m=8192,t=1,p=2$" + base64.RawStdEncoding.EncodeToString(salt) + "$" + base64.RawStdEncoding.EncodeToString(key)
	if err := VerifyPassword(old, "an older password"); err != nil {
		t.Errorf("a hash under other parameters: %v", err)
	}
	if err := VerifyPassword("$2a$10$notargon", "x"); err == nil || errors.Is(err, ErrBadPassword) {
		t.Errorf("a foreign hash: %v, want a format error", err)
	}
	if err := BurnVerify("anything"); !errors.Is(err, ErrBadPassword) {
		t.Errorf("BurnVerify: %v", err)
	}
}

func TestCheckPassword(t *testing.T) {
	for pw, ok := range map[string]bool{
		"short":        false,
		"            ": false,
		"twelve chars": true,
		"密码要足够长才安全密码要足够长":           true,
		strings.Repeat("a", 257):    false,
		"\xff\xfe not utf-8 at all": false,
	} {
		if err := CheckPassword(pw); (err == nil) != ok {
			t.Errorf("CheckPassword(%.20q) = %v, want ok=%v", pw, err, ok)
		}
	}
	if p := NewPassword(); len(p) != 26 || CheckPassword(p) != nil {
		t.Errorf("a generated password %q", p)
	}
}

func TestRolesAndLevels(t *testing.T) {
	if r, err := ParseRole(" Marketer "); err != nil || r != Marketer {
		t.Errorf("ParseRole: %v %v", r, err)
	}
	if _, err := ParseRole("owner"); err == nil || !strings.Contains(err.Error(), "viewer, marketer, ops, admin") {
		t.Errorf("ParseRole(owner): %v", err)
	}
	for _, tc := range []struct {
		role  Role
		level Level
		may   bool
	}{
		{Viewer, Read, true}, {Viewer, Ingest, false}, {Viewer, Market, false}, {Viewer, Administer, false},
		{Marketer, Ingest, true}, {Marketer, Market, true}, {Marketer, Operate, false},
		{Ops, Ingest, true}, {Ops, Operate, true}, {Ops, Market, false}, {Ops, Administer, false},
		{Admin, Market, true}, {Admin, Operate, true}, {Admin, Administer, true},
		{Role(""), Read, false}, {Role(""), Public, true},
	} {
		if got := tc.role.May(tc.level); got != tc.may {
			t.Errorf("%q may %s = %v, want %v", tc.role, tc.level, got, tc.may)
		}
	}
	if got := RoleList(Operate.Roles()); got != "ops or admin" {
		t.Errorf("RoleList = %q", got)
	}
}
