package token

import (
	"errors"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	s := NewSigner("0123456789abcdef-secret")
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	tok := s.Sign(Claims{Purpose: Unsubscribe, CustomerID: "c1", Channel: "email", Topic: "marketing"}, now.Add(time.Hour))

	got, err := s.Verify(tok, Unsubscribe, now)
	if err != nil {
		t.Fatalf("verify fresh token: %v", err)
	}
	if got.CustomerID != "c1" || got.Topic != "marketing" {
		t.Errorf("claims = %+v, want customer c1 topic marketing", got)
	}

	cases := map[string]struct {
		tok     string
		purpose string
		at      time.Time
		want    error
	}{
		"expired":       {tok, Unsubscribe, now.Add(2 * time.Hour), ErrExpired},
		"other purpose": {tok, Survey, now, ErrInvalid},
		"tampered body": {"x" + tok[1:], Unsubscribe, now, ErrInvalid},
		"tampered sig":  {tok[:len(tok)-5] + flip(tok[len(tok)-5]) + tok[len(tok)-4:], Unsubscribe, now, ErrInvalid},
		"truncated":     {tok[:len(tok)-4], Unsubscribe, now, ErrInvalid},
		"other secret":  {NewSigner("another-secret-0123").Sign(Claims{Purpose: Unsubscribe}, now.Add(time.Hour)), Unsubscribe, now, ErrInvalid},
		"garbage":       {"%%%.%%%", Unsubscribe, now, ErrInvalid},
	}
	for name, c := range cases {
		if _, err := s.Verify(c.tok, c.purpose, c.at); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", name, err, c.want)
		}
	}
}

func flip(b byte) string {
	if b == 'A' {
		return "B"
	}
	return "A"
}

// A survey link must leave room for copy in a Chinese SMS, where a part holds
// 67 characters: the token stays under 80 characters.
func TestSurveyTokenIsShort(t *testing.T) {
	s := NewSigner("0123456789abcdef-secret")
	tok := s.Sign(Claims{Purpose: Survey, CustomerID: "5d4bd439-73a8-4b78-9bf9-66f5c190caa3",
		MessageID: "0f8fad5b-d9cb-469f-a165-70867728950e", Survey: "nps"}, time.Now().AddDate(0, 0, 30))
	if len(tok) > 80 {
		t.Errorf("survey token is %d characters, want at most 80: %s", len(tok), tok)
	}
	got, err := s.Verify(tok, Survey, time.Now())
	if err != nil || got.MessageID != "0f8fad5b-d9cb-469f-a165-70867728950e" || got.Survey != "nps" {
		t.Errorf("round trip = %+v, %v", got, err)
	}
}
