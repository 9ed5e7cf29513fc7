// Package token signs and verifies the links customers click in messages
// (unsubscribe, preferences, survey answers). A token is a compact payload
// plus an HMAC-SHA256, so the public pages need no session and no lookup to
// know a link is genuine, and a tampered or expired link changes nothing.
package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Purposes a token can be issued for; a token verifies only for its own.
const (
	Unsubscribe = "unsubscribe"
	Preferences = "preferences"
	Survey      = "survey"
)

// Errors returned by Verify.
var (
	ErrInvalid = errors.New("link is not valid")
	ErrExpired = errors.New("link has expired")
)

// Claims is what a token vouches for. Keep it small: it travels in URLs.
type Claims struct {
	Purpose    string `json:"p"`
	CustomerID string `json:"c"`
	Channel    string `json:"ch,omitempty"`
	Topic      string `json:"t,omitempty"`
	MessageID  string `json:"m,omitempty"`
	Survey     string `json:"s,omitempty"`
	Expires    int64  `json:"e"` // Unix seconds
}

// Signer issues and checks tokens with one secret.
type Signer struct {
	key []byte
}

// NewSigner returns a Signer for secret (at least 16 bytes, checked by config).
func NewSigner(secret string) *Signer {
	return &Signer{key: []byte(secret)}
}

// Sign returns a URL-safe token for c valid until expires.
func (s *Signer) Sign(c Claims, expires time.Time) string {
	c.Expires = expires.Unix()
	body, _ := json.Marshal(c) // Claims always marshals
	payload := base64.RawURLEncoding.EncodeToString(body)
	return payload + "." + s.mac(payload)
}

// Verify checks a token's signature, purpose and expiry.
func (s *Signer) Verify(tok, purpose string, now time.Time) (Claims, error) {
	payload, sig, ok := strings.Cut(tok, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(s.mac(payload))) {
		return Claims{}, ErrInvalid
	}
	body, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return Claims{}, ErrInvalid
	}
	var c Claims
	if err := json.Unmarshal(body, &c); err != nil {
		return Claims{}, ErrInvalid
	}
	if c.Purpose != purpose {
		return Claims{}, fmt.Errorf("%w: issued for %s, not %s", ErrInvalid, c.Purpose, purpose)
	}
	if now.Unix() > c.Expires {
		return Claims{}, ErrExpired
	}
	return c, nil
}

func (s *Signer) mac(payload string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:20])
}
