// Package token signs and verifies the links customers click in messages
// (unsubscribe, preferences, survey answers). A token is a compact binary
// payload plus a truncated HMAC-SHA256, so the public pages need no session
// to know a link is genuine, a tampered or expired link changes nothing, and
// a link stays short enough for a Chinese SMS (UCS-2, 67 characters a part).
package token

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Purposes a token can be issued for; a token verifies only for its own.
const (
	Unsubscribe = "unsubscribe"
	Preferences = "preferences"
	Survey      = "survey"
	// SurveyAnswer is the survey page's form token: an answer is recorded
	// only from a POST carrying it, so a link scanner that fetches a score
	// link records nothing.
	SurveyAnswer = "survey_answer"
)

// purposes numbers the purposes in the binary form; never renumber.
var purposes = []string{"", Unsubscribe, Preferences, Survey, SurveyAnswer}

// Errors returned by Verify.
var (
	ErrInvalid = errors.New("link is not valid")
	ErrExpired = errors.New("link has expired")
)

// Claims is what a token vouches for.
type Claims struct {
	Purpose    string
	CustomerID string
	Channel    string
	Topic      string
	MessageID  string
	Survey     string
	Expires    int64 // Unix seconds, set by Sign
}

// Signer issues and checks tokens with one secret.
type Signer struct {
	key []byte
}

// NewSigner returns a Signer for secret (at least 16 bytes, checked by config).
func NewSigner(secret string) *Signer {
	return &Signer{key: []byte(secret)}
}

const (
	version = 1
	macLen  = 12 // 96 bits: ample for links, short in URLs
	uuidTag = 0xFF
)

// Sign returns a URL-safe token for c valid until expires.
func (s *Signer) Sign(c Claims, expires time.Time) string {
	var b bytes.Buffer
	b.WriteByte(version)
	b.WriteByte(purposeCode(c.Purpose))
	_ = binary.Write(&b, binary.BigEndian, uint32(expires.Unix()))
	for _, f := range []string{c.CustomerID, c.Channel, c.Topic, c.MessageID, c.Survey} {
		putField(&b, f)
	}
	b.Write(s.mac(b.Bytes()))
	return base64.RawURLEncoding.EncodeToString(b.Bytes())
}

// Verify checks a token's signature, purpose and expiry.
func (s *Signer) Verify(tok, purpose string, now time.Time) (Claims, error) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) < 6+macLen {
		return Claims{}, ErrInvalid
	}
	body, sig := raw[:len(raw)-macLen], raw[len(raw)-macLen:]
	if !hmac.Equal(sig, s.mac(body)) || body[0] != version {
		return Claims{}, ErrInvalid
	}
	c := Claims{Expires: int64(binary.BigEndian.Uint32(body[2:6]))}
	if int(body[1]) < len(purposes) {
		c.Purpose = purposes[body[1]]
	}
	rest := body[6:]
	for _, f := range []*string{&c.CustomerID, &c.Channel, &c.Topic, &c.MessageID, &c.Survey} {
		if *f, rest, err = getField(rest); err != nil {
			return Claims{}, ErrInvalid
		}
	}
	if c.Purpose != purpose {
		return Claims{}, fmt.Errorf("%w: issued for %s, not %s", ErrInvalid, c.Purpose, purpose)
	}
	if now.Unix() > c.Expires {
		return Claims{}, ErrExpired
	}
	return c, nil
}

func (s *Signer) mac(body []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write(body)
	return m.Sum(nil)[:macLen]
}

func purposeCode(p string) byte {
	for i, q := range purposes {
		if q == p {
			return byte(i)
		}
	}
	return 0
}

// putField writes a UUID as its 16 bytes and anything else length-prefixed.
func putField(b *bytes.Buffer, f string) {
	if id, err := uuid.Parse(f); err == nil && id.String() == f {
		b.WriteByte(uuidTag)
		b.Write(id[:])
		return
	}
	if len(f) > 250 {
		f = f[:250]
	}
	b.WriteByte(byte(len(f)))
	b.WriteString(f)
}

func getField(b []byte) (string, []byte, error) {
	if len(b) == 0 {
		return "", nil, ErrInvalid
	}
	n := int(b[0])
	if n == uuidTag {
		if len(b) < 17 {
			return "", nil, ErrInvalid
		}
		var id uuid.UUID
		copy(id[:], b[1:17])
		return id.String(), b[17:], nil
	}
	if len(b) < 1+n {
		return "", nil, ErrInvalid
	}
	return string(b[1 : 1+n]), b[1+n:], nil
}
