package access

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/tidingsdev/tidings/internal/spec"
)

// Argon2id parameters for new hashes: OWASP's recommended minimum (19 MiB,
// two passes, one lane), about 30 ms on a small server, so a sign-in stays
// quick while a stolen table stays expensive to crack. Each hash carries its
// parameters, so raising them later leaves old hashes verifiable.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// Password length bounds: long enough to resist guessing, short enough that
// hashing an attacker's megabyte is not a denial of service.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 256
)

// ErrBadPassword means a password does not match its hash.
var ErrBadPassword = errors.New("password does not match")

// CheckPassword says what is wrong with a new password, or nil; the
// problem keeps its message's key, so the console says it in Chinese.
func CheckPassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return spec.Problemf("password is not valid UTF-8")
	case n < MinPasswordLength:
		return spec.Problemf("password has %d characters; use at least %d", n, MinPasswordLength)
	case len(pw) > MaxPasswordLength:
		return spec.Problemf("password is longer than %d bytes", MaxPasswordLength)
	case strings.TrimSpace(pw) == "":
		return spec.Problemf("password is only spaces")
	}
	return nil
}

// HashPassword returns the argon2id PHC string for pw with a fresh salt.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// VerifyPassword checks pw against a PHC string made by HashPassword (with
// whatever parameters it records); ErrBadPassword when it does not match.
func VerifyPassword(hash, pw string) error {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return errors.New("verify password: not an argon2id hash")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return fmt.Errorf("verify password: argon2 version %q", parts[2])
	}
	var memory, passes uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &passes, &threads); err != nil {
		return fmt.Errorf("verify password: parameters %q: %w", parts[3], err)
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return fmt.Errorf("verify password: salt: %w", err)
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil {
		return fmt.Errorf("verify password: key: %w", err)
	}
	if len(pw) > MaxPasswordLength {
		return ErrBadPassword
	}
	got := argon2.IDKey([]byte(pw), salt, passes, memory, threads, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrBadPassword
	}
	return nil
}

// dummyHash is verified against when an account does not exist, so a
// sign-in takes as long for an unknown email as for a wrong password and
// timing does not reveal who has an account.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("not a password anyone has")
	return h
})

// BurnVerify spends the time of one verification and always fails.
func BurnVerify(pw string) error {
	_ = VerifyPassword(dummyHash(), pw)
	return ErrBadPassword
}

// NewPassword generates a password for a new or reset account: 26
// characters of base32 (128 random bits), easy to copy without look-alikes
// such as 0/O and 1/l.
func NewPassword() string { return rand.Text() }
