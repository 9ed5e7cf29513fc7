package tracking

import (
	"html"
	"regexp"
	"strings"
)

// Policy says what is tracked in one message: resolved by the send path from
// the topic's settings and the customer's privacy choice.
type Policy struct {
	// Clicks rewrites the links of the HTML part.
	Clicks bool
	// Text also rewrites the links of the plain-text part.
	Text bool
	// Opens adds the open pixel to the HTML part.
	Opens bool
}

// Any reports whether anything is tracked.
func (p Policy) Any() bool { return p.Clicks || p.Opens }

// Rewriter turns the links of a rendered email into tracked redirects.
type Rewriter struct {
	signer *Signer
	base   string
	// keep are URL prefixes left as written: the public pages a customer
	// acts on (unsubscribe, preferences, survey answers) must reach them
	// directly, one-click unsubscribe above all.
	keep []string
}

// NewRewriter builds a Rewriter for links on publicURL (TIDINGS_PUBLIC_URL).
func NewRewriter(signer *Signer, publicURL string) *Rewriter {
	base := strings.TrimSuffix(publicURL, "/")
	return &Rewriter{signer: signer, base: base, keep: []string{base + "/u/", base + "/p/", base + "/s/", base + "/c/", base + "/o/"}}
}

// Rewritten is an email after tracking: its bodies and the distinct URLs it
// links to, numbered as the tokens number them.
type Rewritten struct {
	HTML  string
	Text  string
	Links []string
}

// bareURL finds a URL in plain text; trailing punctuation is trimmed below,
// since a sentence may end right after a link.
var bareURL = regexp.MustCompile(`https?://[^\s<>"'\x60]+`)

// Rewrite applies p to one message's bodies. Links to the public pages and
// anything that is not http(s) stay as written.
func (w *Rewriter) Rewrite(messageID string, p Policy, htmlBody, text string) Rewritten {
	out := Rewritten{HTML: htmlBody, Text: text}
	index := map[string]int{}
	number := func(u string) (int, bool) {
		if n, ok := index[u]; ok {
			return n, true
		}
		if len(out.Links) >= MaxLinks {
			return 0, false
		}
		index[u] = len(out.Links)
		out.Links = append(out.Links, u)
		return index[u], true
	}
	if p.Clicks && htmlBody != "" {
		out.HTML = w.rewriteHTML(messageID, htmlBody, number)
	}
	if p.Clicks && p.Text && text != "" {
		out.Text = bareURL.ReplaceAllStringFunc(text, func(m string) string {
			u, tail := trimTrailing(m)
			if !w.trackable(u) {
				return m
			}
			n, ok := number(u)
			if !ok {
				return m
			}
			return w.clickURL(messageID, n, u) + tail
		})
	}
	if p.Opens && htmlBody != "" {
		pixel := `<img src="` + w.base + "/o/" + w.signer.SignOpen(messageID) + `.gif" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0;">`
		if at := strings.LastIndex(asciiLower(out.HTML), "</body"); at >= 0 {
			out.HTML = out.HTML[:at] + pixel + out.HTML[at:]
		} else {
			out.HTML += pixel
		}
	}
	return out
}

// rewriteHTML replaces the href of every anchor (and area) tag that
// trackable accepts. It scans instead of matching a regular expression: a
// blast rewrites every message, and the scan costs a fraction.
func (w *Rewriter) rewriteHTML(messageID, body string, number func(string) (int, bool)) string {
	lower := asciiLower(body)
	var b strings.Builder
	done := 0
	for from := 0; ; {
		i := strings.Index(lower[from:], "href")
		if i < 0 {
			break
		}
		i += from
		from = i + 4
		// Inside an <a ...> or <area ...> tag?
		lt := strings.LastIndexByte(lower[:i], '<')
		if lt < 0 || strings.IndexByte(lower[lt:i], '>') >= 0 || !isAnchor(lower[lt+1:]) || !isSpace(lower[i-1]) {
			continue
		}
		j := skipSpace(lower, i+4)
		if j >= len(lower) || lower[j] != '=' {
			continue
		}
		j = skipSpace(lower, j+1)
		if j >= len(lower) || (lower[j] != '"' && lower[j] != '\'') {
			continue
		}
		end := strings.IndexByte(lower[j+1:], lower[j])
		if end < 0 {
			break
		}
		end += j + 1
		raw := html.UnescapeString(strings.TrimSpace(body[j+1 : end]))
		from = end + 1
		if !w.trackable(raw) {
			continue
		}
		n, ok := number(raw)
		if !ok {
			continue
		}
		b.WriteString(body[done:j])
		b.WriteString(`"` + html.EscapeString(w.clickURL(messageID, n, raw)) + `"`)
		done = end + 1
	}
	if done == 0 {
		return body
	}
	b.WriteString(body[done:])
	return b.String()
}

func isAnchor(tag string) bool {
	return (strings.HasPrefix(tag, "a") && len(tag) > 1 && isSpace(tag[1])) ||
		(strings.HasPrefix(tag, "area") && len(tag) > 4 && isSpace(tag[4]))
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// asciiLower lowers A-Z only, so every byte keeps its offset (a full
// Unicode lowering may change the length of a character).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// trackable reports whether a link is rewritten: http(s), and not to one
// of the public pages.
func (w *Rewriter) trackable(u string) bool {
	l := strings.ToLower(u)
	if !strings.HasPrefix(l, "https://") && !strings.HasPrefix(l, "http://") {
		return false
	}
	for _, k := range w.keep {
		if strings.HasPrefix(u, k) {
			return false
		}
	}
	return true
}

func (w *Rewriter) clickURL(messageID string, n int, u string) string {
	return w.base + "/c/" + w.signer.SignClick(messageID, n, u)
}

// trimTrailing splits sentence punctuation off the end of a URL found in
// text ("see https://example.com." links to https://example.com), keeping a
// closing parenthesis that has its opening one inside the URL.
func trimTrailing(u string) (string, string) {
	end := len(u)
	for end > 0 {
		c := u[end-1]
		if strings.IndexByte(".,;:!?'\"", c) >= 0 {
			end--
			continue
		}
		if c == ')' && strings.Count(u[:end], "(") < strings.Count(u[:end], ")") {
			end--
			continue
		}
		break
	}
	return u[:end], u[end:]
}
