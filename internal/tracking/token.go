// Package tracking rewrites the links of outgoing email to signed redirects
// on the public URL (/c/{token}), adds the open pixel (/o/{token}.gif),
// tells machine visits (link scanners, privacy proxies) from people, and
// keeps each message's content for the message log.
//
// A click token carries the message's ledger ID, the link's number in the
// message and the URL itself under an HMAC, so the redirect needs no lookup
// to be safe: a token anyone altered, or one naming a URL the message did
// not carry, does not verify, and the redirect is refused. Where the
// message's content is stored, the handler checks the URL against it too.
package tracking

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/google/uuid"
)

// ErrInvalid is a token that does not verify: altered, truncated, or
// signed with another secret.
var ErrInvalid = errors.New("tracking link is not valid")

const (
	tokenVersion = 1
	kindClick    = 'c'
	kindOpen     = 'o'
	macLen       = 12
	// MaxLinks is how many distinct links of one message are tracked; links
	// after it are left as written.
	MaxLinks = 250
)

// Signer signs and verifies tracking tokens. Its key is derived from the
// installation's signing secret, so a tracking token can never pass for an
// unsubscribe or survey link and the other way round.
type Signer struct {
	key []byte
}

// NewSigner derives the tracking key from secret (TIDINGS_SIGNING_SECRET).
func NewSigner(secret string) *Signer {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("tidings tracking links v1"))
	return &Signer{key: m.Sum(nil)}
}

// Click is what a click token names.
type Click struct {
	MessageID string
	Link      int
	URL       string
}

// SignClick returns the token of one link of one message.
func (s *Signer) SignClick(messageID string, link int, url string) string {
	id := uuid.MustParse(messageID)
	b := make([]byte, 0, 19+len(url)+macLen)
	b = append(b, tokenVersion, kindClick)
	b = append(b, id[:]...)
	b = append(b, byte(link))
	b = append(b, url...)
	return s.seal(b)
}

// SignOpen returns the token of a message's open pixel.
func (s *Signer) SignOpen(messageID string) string {
	id := uuid.MustParse(messageID)
	b := make([]byte, 0, 18+macLen)
	b = append(b, tokenVersion, kindOpen)
	b = append(b, id[:]...)
	return s.seal(b)
}

// VerifyClick checks a click token and returns what it names.
func (s *Signer) VerifyClick(tok string) (Click, error) {
	b, err := s.open(tok, kindClick, 19)
	if err != nil {
		return Click{}, err
	}
	id, _ := uuid.FromBytes(b[2:18])
	c := Click{MessageID: id.String(), Link: int(b[18]), URL: string(b[19:])}
	if c.URL == "" {
		return Click{}, ErrInvalid
	}
	return c, nil
}

// VerifyOpen checks an open token and returns the message ID.
func (s *Signer) VerifyOpen(tok string) (string, error) {
	b, err := s.open(tok, kindOpen, 18)
	if err != nil {
		return "", err
	}
	id, _ := uuid.FromBytes(b[2:18])
	return id.String(), nil
}

func (s *Signer) seal(b []byte) string {
	return base64.RawURLEncoding.EncodeToString(append(b, s.mac(b)...))
}

func (s *Signer) open(tok string, kind byte, minBody int) ([]byte, error) {
	// A mail client that linkified a plain-text URL may have taken the
	// sentence's full stop with it; no token ends in punctuation.
	tok = strings.TrimRight(tok, ".,;:!?)")
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) < minBody+macLen {
		return nil, ErrInvalid
	}
	body, sig := raw[:len(raw)-macLen], raw[len(raw)-macLen:]
	if !hmac.Equal(sig, s.mac(body)) || body[0] != tokenVersion || body[1] != kind {
		return nil, ErrInvalid
	}
	return body, nil
}

func (s *Signer) mac(b []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write(b)
	return m.Sum(nil)[:macLen]
}
