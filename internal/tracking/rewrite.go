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

var (
	// hrefAttr finds the href of an anchor (or area) tag, quoted either way.
	hrefAttr = regexp.MustCompile(`(?is)(<(?:a|area)\b[^>]*?\shref\s*=\s*)("[^"]*"|'[^']*')`)
	// bareURL finds a URL in plain text; trailing punctuation is trimmed
	// below, since a sentence may end right after a link.
	bareURL   = regexp.MustCompile(`https?://[^\s<>"'\x60]+`)
	bodyClose = regexp.MustCompile(`(?i)</body\s*>`)
)

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
		out.HTML = hrefAttr.ReplaceAllStringFunc(htmlBody, func(m string) string {
			sub := hrefAttr.FindStringSubmatch(m)
			quoted := sub[2]
			raw := html.UnescapeString(strings.TrimSpace(quoted[1 : len(quoted)-1]))
			if !w.trackable(raw) {
				return m
			}
			n, ok := number(raw)
			if !ok {
				return m
			}
			return sub[1] + `"` + html.EscapeString(w.clickURL(messageID, n, raw)) + `"`
		})
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
		if loc := bodyClose.FindAllStringIndex(out.HTML, -1); len(loc) > 0 {
			at := loc[len(loc)-1][0]
			out.HTML = out.HTML[:at] + pixel + out.HTML[at:]
		} else {
			out.HTML += pixel
		}
	}
	return out
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
