package console_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/store"
)

// TestSignInLanguageAndRoles walks the console's foundation in a real
// browser: the sign-in page speaks the browser's language, switching
// language changes the text and is remembered, an admin manages users, and
// a viewer sees no edit buttons and is refused a forged post.
func TestSignInLanguageAndRoles(t *testing.T) {
	e := newConsole(t)
	e.user("ann@example.com", access.Admin)
	e.user("vic@example.com", access.Viewer)

	// A Taipei browser gets Traditional Chinese before anyone signs in.
	admin := e.browser("zh-TW,zh;q=0.9,en;q=0.5")
	e.run(admin, chromedp.Navigate(e.url+"/console/"), chromedp.WaitVisible("#email", chromedp.ByID))
	if got := e.text(admin, "h1"); got != "登入 Tidings" {
		t.Fatalf("sign-in heading for zh-TW = %q", got)
	}
	e.shots(admin, "login", "zh-TW", "zh-CN", "en")
	e.run(admin, chromedp.Click(`a[data-lang="en"]`), chromedp.WaitVisible("#email", chromedp.ByID))
	if got := e.text(admin, "h1"); got != "Sign in to Tidings" {
		t.Fatalf("after switching to English the heading is %q", got)
	}

	// A wrong password is refused in the page's language.
	e.run(admin,
		chromedp.SendKeys("#email", "ann@example.com", chromedp.ByID),
		chromedp.SendKeys("#password", "wrong password", chromedp.ByID),
		chromedp.Click("#sign-in", chromedp.ByID),
		chromedp.WaitVisible("#login-error", chromedp.ByID))
	if got := e.text(admin, "#login-error"); got != "The email or password is wrong." {
		t.Fatalf("wrong password: %q", got)
	}

	e.signIn(admin, "ann@example.com")
	if got := e.text(admin, "h1"); got != "Overview" {
		t.Fatalf("after sign-in the heading is %q, want the English overview (the switch is remembered)", got)
	}
	e.run(admin, chromedp.Click(`a[data-lang="zh-CN"]`), chromedp.WaitVisible("#logout", chromedp.ByID))
	if got := e.text(admin, "h1"); got != "概览" {
		t.Fatalf("after switching to Simplified Chinese the heading is %q", got)
	}
	e.run(admin, chromedp.Reload(), chromedp.WaitVisible("#logout", chromedp.ByID))
	if got := e.text(admin, "h1"); got != "概览" {
		t.Fatalf("after a reload the heading is %q: the language was not remembered", got)
	}

	// The admin adds a marketer; the generated password is shown once.
	e.run(admin,
		chromedp.Navigate(e.url+"/console/settings/users"),
		chromedp.WaitVisible("#add-user", chromedp.ByID),
		chromedp.SendKeys(`#add-user input[name=email]`, "mei@example.com"),
		chromedp.SetValue(`#add-user select[name=role]`, "marketer"),
		chromedp.Submit(`#add-user`),
		chromedp.WaitVisible("#new-password", chromedp.ByID))
	if got := e.text(admin, "#created-user p"); !strings.Contains(got, "mei@example.com") {
		t.Fatalf("confirmation: %q", got)
	}
	if pw := e.text(admin, "#new-password"); len(pw) < 12 {
		t.Fatalf("generated password %q", pw)
	}
	// Times are in the reader's zone (Taipei), with its offset.
	if got := e.text(admin, `tr[data-user="ann@example.com"]`); !strings.Contains(got, "UTC+8") || !strings.Contains(got, "年") {
		t.Fatalf("the admin's last sign-in is not shown in Taipei time, in Chinese: %q", got)
	}
	mei, err := e.store.UserByEmailOrID(t.Context(), "mei@example.com")
	if err != nil || mei.Role != "marketer" {
		t.Fatalf("mei after adding: %+v, %v", mei, err)
	}
	e.shot(admin, "users-zh-CN")
	e.run(admin, chromedp.Navigate(e.url+"/console/settings/users"), chromedp.WaitVisible(`tr[data-user="mei@example.com"]`))
	e.shots(admin, "users", "en")
	e.run(admin, chromedp.Navigate(e.url+"/console/settings/audit"), chromedp.WaitVisible("h1", chromedp.ByQuery))
	if got := e.text(admin, "main"); !strings.Contains(got, "mei@example.com") {
		t.Fatalf("audit log lacks the new user: %q", got)
	}
	e.shots(admin, "audit", "zh-CN", "en")
	// A post without the session's CSRF token changes nothing.
	if got := e.post(admin, "/console/settings/users", map[string]string{"email": "eve@example.com", "role": "admin"}); got != http.StatusForbidden {
		t.Fatalf("post without CSRF token: %d, want 403", got)
	}
	assertNoUser(t, e.store, "eve@example.com")

	// A viewer: no Settings in the menu, 403 on the page and on a forged
	// post that carries the viewer's own valid CSRF token.
	viewer := e.browser("en-GB,en;q=0.8")
	e.signIn(viewer, "vic@example.com")
	var settingsLinks int
	e.run(viewer, chromedp.Evaluate(`document.querySelectorAll('a[href^="/console/settings"]').length`, &settingsLinks))
	if settingsLinks != 0 {
		t.Fatalf("viewer sees %d links to settings", settingsLinks)
	}
	if got := e.post(viewer, "/console/settings/users", map[string]string{
		"email": "eve@example.com", "role": "admin", "csrf_token": e.csrf(viewer),
	}); got != http.StatusForbidden {
		t.Fatalf("viewer's forged post: %d, want 403", got)
	}
	assertNoUser(t, e.store, "eve@example.com")
	e.run(viewer, chromedp.Navigate(e.url+"/console/settings/users"), chromedp.WaitVisible("#error-message", chromedp.ByID))
	if got := e.text(viewer, "#error-message"); got != "Your role (viewer) cannot do this; it takes admin." {
		t.Fatalf("viewer on the users page: %q", got)
	}

	// Signing out ends the session: the overview asks for a sign-in again.
	e.run(viewer, chromedp.Navigate(e.url+"/console/"), chromedp.WaitVisible("#logout", chromedp.ByID),
		chromedp.Click("#logout", chromedp.ByID), chromedp.WaitVisible("#email", chromedp.ByID),
		chromedp.Navigate(e.url+"/console/"), chromedp.WaitVisible("#email", chromedp.ByID))
}

func assertNoUser(t *testing.T, st *store.Store, email string) {
	t.Helper()
	if u, err := st.UserByEmailOrID(t.Context(), email); err == nil {
		t.Fatalf("user %s was created: %+v", email, u)
	}
}

// TestOneTimeLoginLink: the link `tidings dev` prints signs its user in
// once; opened again it is refused, and its token is no session cookie.
func TestOneTimeLoginLink(t *testing.T) {
	e := newConsole(t)
	e.user("dev@example.com", access.Admin)
	token, err := e.mgmt.IssueLoginLink(t.Context(), access.Operator("test"), "dev@example.com", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.mgmt.Session(t.Context(), token); err == nil {
		t.Fatal("an unused link's token signs in as a session cookie")
	}
	link := e.url + "/console/login/link?token=" + token
	b := e.browser("en")
	e.run(b, chromedp.Navigate(link), chromedp.WaitVisible("#logout", chromedp.ByID))
	if got := e.text(b, ".who"); !strings.HasPrefix(got, "dev@example.com") {
		t.Fatalf("signed in as %q", got)
	}
	other := e.browser("zh-CN")
	e.run(other, chromedp.Navigate(link), chromedp.WaitVisible("#login-error", chromedp.ByID))
	if got := e.text(other, "#login-error"); got != "该登录链接已使用或已过期。请用密码登录，或重新获取链接。" {
		t.Fatalf("second use: %q", got)
	}
}
