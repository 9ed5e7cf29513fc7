package tracking

import (
	"strings"
	"testing"
	"time"
)

const msgID = "2f1e4d3c-5b6a-4789-8a7b-6c5d4e3f2a1b"

func TestRewriteTracksLinksButLeavesThePublicPagesAndOtherSchemes(t *testing.T) {
	s := NewSigner("test-secret-at-least-16")
	rw := NewRewriter(s, "https://news.example.com/")
	htmlIn := `<html><body><p><a href="https://shop.example/spring?utm=a&amp;b=1">Shop</a>
<a style="x" href='https://shop.example/spring?utm=a&amp;b=1'>again</a>
<a href="https://news.example.com/u/TOKEN">Unsubscribe</a> <a href="https://news.example.com/p/TOKEN">Preferences</a>
<a href="https://news.example.com/s/TOKEN?score=9">9</a> <a href="mailto:care@example.com">mail</a> <a href="#top">top</a>
<a href="http://blog.example/post">blog</a></p></body></html>`
	text := "Shop: https://shop.example/spring?utm=a&b=1.\nUnsubscribe: https://news.example.com/u/TOKEN\n(see https://blog.example/post)"
	out := rw.Rewrite(msgID, Policy{Clicks: true, Opens: true, Text: true}, htmlIn, text)

	want := []string{"https://shop.example/spring?utm=a&b=1", "http://blog.example/post", "https://blog.example/post"}
	if strings.Join(out.Links, " ") != strings.Join(want, " ") {
		t.Fatalf("links = %q, want %q", out.Links, want)
	}
	for _, kept := range []string{`href="https://news.example.com/u/TOKEN"`, `href="https://news.example.com/p/TOKEN"`,
		`href="https://news.example.com/s/TOKEN?score=9"`, `href="mailto:care@example.com"`, `href="#top"`} {
		if !strings.Contains(out.HTML, kept) {
			t.Errorf("HTML lost %s", kept)
		}
	}
	if strings.Contains(out.HTML, "shop.example") || strings.Contains(out.HTML, "blog.example") {
		t.Errorf("an external link was left untracked:\n%s", out.HTML)
	}
	if n := strings.Count(out.HTML, "https://news.example.com/c/"); n != 3 {
		t.Errorf("%d tracked links in HTML, want 3", n)
	}
	if !strings.Contains(out.HTML, `.gif" width="1" height="1" alt=""`) || !strings.Contains(out.HTML, `.gif" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0;"></body>`) {
		t.Errorf("open pixel not placed before </body>:\n%s", out.HTML)
	}
	if !strings.Contains(out.Text, "Unsubscribe: https://news.example.com/u/TOKEN") || !strings.Contains(out.Text, ".\nUnsubscribe") || !strings.HasSuffix(out.Text, ")") {
		t.Errorf("text part: unsubscribe or punctuation lost:\n%s", out.Text)
	}

	// Every tracked link verifies to the URL it replaced.
	for _, tok := range tokensIn(out.HTML + out.Text) {
		c, err := s.VerifyClick(tok)
		if err != nil {
			t.Fatalf("token %s: %v", tok, err)
		}
		if c.MessageID != msgID || c.URL != out.Links[c.Link] {
			t.Errorf("token names %+v, want message %s and link %d = %s", c, msgID, c.Link, out.Links[c.Link])
		}
	}
}

func tokensIn(s string) []string {
	var out []string
	for _, part := range strings.Split(s, "/c/")[1:] {
		end := strings.IndexAny(part, "\"' \n).")
		if end < 0 {
			end = len(part)
		}
		out = append(out, part[:end])
	}
	return out
}

func TestRewriteWithoutPolicyChangesNothing(t *testing.T) {
	rw := NewRewriter(NewSigner("test-secret-at-least-16"), "https://news.example.com")
	h, txt := `<a href="https://shop.example">x</a></body>`, "https://shop.example"
	out := rw.Rewrite(msgID, Policy{}, h, txt)
	if out.HTML != h || out.Text != txt || len(out.Links) != 0 {
		t.Errorf("untracked message changed: %+v", out)
	}
	out = rw.Rewrite(msgID, Policy{Clicks: true}, h, txt)
	if out.Text != txt || strings.Contains(out.HTML, "/o/") {
		t.Errorf("clicks only: text rewritten or pixel added: %+v", out)
	}
}

func TestTokensRefuseTamperingAndOtherKeys(t *testing.T) {
	s := NewSigner("test-secret-at-least-16")
	tok := s.SignClick(msgID, 2, "https://shop.example/a")
	if _, err := NewSigner("another-secret-of-16+").VerifyClick(tok); err != ErrInvalid {
		t.Errorf("a token of another key verified: %v", err)
	}
	b := []byte(tok)
	for i := range b {
		orig := b[i]
		b[i] = "AB"[0]
		if orig == 'A' {
			b[i] = 'B'
		}
		if _, err := s.VerifyClick(string(b)); err == nil {
			t.Fatalf("token altered at %d still verifies", i)
		}
		b[i] = orig
	}
	if _, err := s.VerifyOpen(tok); err != ErrInvalid {
		t.Errorf("a click token passed as an open token: %v", err)
	}
	if _, err := s.VerifyClick(s.SignOpen(msgID)); err != ErrInvalid {
		t.Errorf("an open token passed as a click token: %v", err)
	}
	if id, err := s.VerifyOpen(s.SignOpen(msgID)); err != nil || id != msgID {
		t.Errorf("open token: %q, %v", id, err)
	}
}

func TestClassifyTellsMachinesFromPeople(t *testing.T) {
	browser := "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"
	for _, c := range []struct {
		v    Visit
		want string
	}{
		{Visit{UserAgent: browser, IP: "203.0.113.9", Method: "GET", SinceSent: time.Hour}, ""},
		{Visit{UserAgent: "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", Method: "GET", SinceSent: time.Minute}, ""},
		{Visit{UserAgent: "Mozilla/5.0", IP: "203.0.113.9", Method: "GET", SinceSent: time.Hour}, MachineAppleProxy},
		{Visit{UserAgent: browser, IP: "17.58.1.2", Method: "GET", SinceSent: time.Hour}, MachineAppleProxy},
		{Visit{UserAgent: "Mozilla/5.0 (compatible; Barracuda Sentinel)", Method: "GET", SinceSent: time.Hour}, MachineScanner},
		{Visit{UserAgent: "python-requests/2.31", Method: "GET", SinceSent: time.Hour}, MachineScanner},
		{Visit{UserAgent: browser, Method: "GET", SinceSent: 3 * time.Second}, MachinePrefetch},
		{Visit{UserAgent: browser, Method: "HEAD", SinceSent: time.Hour}, MachineHead},
		{Visit{Method: "GET", SinceSent: time.Hour}, MachineNoAgent},
	} {
		if got := Classify(c.v); got != c.want {
			t.Errorf("Classify(%+v) = %q, want %q", c.v, got, c.want)
		}
	}
}
