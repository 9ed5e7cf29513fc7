// Package names writes a customer's full name the way the name itself is
// written, wherever Tidings shows one: the To header of an email, segment
// previews, care-team alerts and templates. Chinese, Japanese and Korean
// names put the family name first with no space ("王芳"); others put the
// given name first ("Ann Lee"). The script decides, not the customer's
// locale: a Chinese name reads the same in an English alert.
package names

import (
	"strings"
	"unicode"
)

// Full joins a given and a family name into the full name, or "" when
// both are empty.
func Full(first, last string) string {
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first != "" && last != "" && familyFirst(first+last) {
		return last + first
	}
	return strings.TrimSpace(first + " " + last)
}

// familyFirst reports a name written only in Han, kana or Hangul.
func familyFirst(s string) bool {
	for _, r := range s {
		if !unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) && r != 'ー' && r != '・' {
			return false
		}
	}
	return true
}
