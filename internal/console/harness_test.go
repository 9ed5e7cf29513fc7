package console_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"go.temporal.io/sdk/client"
	"go.temporal.io/server/temporaltest"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/api"
	"github.com/tidingsdev/tidings/internal/app"
	"github.com/tidingsdev/tidings/internal/config"
	"github.com/tidingsdev/tidings/internal/devserver"
	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/schedules"
	"github.com/tidingsdev/tidings/internal/smtpsink"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
	"github.com/tidingsdev/tidings/worker"
)

// password is every test user's password.
const password = "correct horse battery staple"

// screenshotDir, when set, is where the tests save the screenshots
// docs/console.md shows (`make console-screenshots`).
const screenshotEnv = "TIDINGS_CONSOLE_SCREENSHOTS"

// consoleEnv is the product as `tidings api` assembles it — HTTP API and
// console — over a fresh PostgreSQL database and an in-process Temporal
// server, and a headless Chromium to drive it.
type consoleEnv struct {
	t     *testing.T
	url   string
	env   map[string]string
	app   *app.App
	store *store.Store
	mgmt  *mgmt.Service
	alloc context.Context
	sink  *smtpsink.Sink
}

// runJourneys starts the worker and the event router, as `tidings worker`
// does, until the test ends: campaigns then really send, to the test's
// SMTP server.
func (e *consoleEnv) runJourneys() {
	e.t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	w, err := e.app.Worker(ctx, worker.Options{StopTimeout: 5 * time.Second})
	if err != nil {
		e.t.Fatal(err)
	}
	r, err := e.app.Router(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = w.Run(ctx) })
	wg.Go(func() { r.Run(ctx, 200*time.Millisecond) })
	e.t.Cleanup(func() { stop(); wg.Wait() })
}

// consoleOption sets up more of the product before the console is built,
// given the Temporal server and the settings it will read.
type consoleOption func(t *testing.T, ts *temporaltest.TestServer, env map[string]string)

// withTemporalUI serves the real Temporal Web UI for the test's Temporal
// server and points the console's run links at it, so a test can follow
// one; its address is env's TIDINGS_TEMPORAL_UI_URL.
func withTemporalUI(t *testing.T, ts *temporaltest.TestServer, env map[string]string) {
	ui, err := devserver.StartUI(ts.GetFrontendHostPort(), ts.GetDefaultNamespace(), devserver.AnyPort)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ui.Stop)
	env["TIDINGS_TEMPORAL_UI_URL"], env["TIDINGS_TEMPORAL_NAMESPACE"] = ui.URL(), ts.GetDefaultNamespace()
}

// withPolicy gives the product a policy file (TIDINGS_POLICY_FILE) of
// the given text.
func withPolicy(text string) consoleOption {
	return func(t *testing.T, _ *temporaltest.TestServer, env map[string]string) {
		path := filepath.Join(t.TempDir(), "policy.yaml")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		env["TIDINGS_POLICY_FILE"] = path
	}
}

func newConsole(t *testing.T, opts ...consoleOption) *consoleEnv {
	t.Helper()
	chrome := findChromium(t)
	st, dsn := testdb.New(t)
	sink, err := smtpsink.Start(smtpsink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	env := map[string]string{
		"TIDINGS_DATABASE_URL": dsn, "TIDINGS_SIGNING_SECRET": "console-test-secret-0123456789",
		"TIDINGS_SMTP_URL": sink.URL(), "TIDINGS_QUIET_HOURS": "00:00-00:00",
	}
	for _, o := range opts {
		o(t, ts, env)
	}
	cfg, err := config.Load(func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := app.New(cfg, slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	t.Cleanup(a.Close)
	a.UseTemporal(ts.GetDefaultClient())
	ctx := t.Context()
	srv, err := a.API(ctx, api.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	m, err := a.Mgmt(ctx)
	if err != nil {
		t.Fatal(err)
	}
	browserOpts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900), chromedp.Flag("lang", "en-GB"))
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), browserOpts...)
	t.Cleanup(cancel)
	return &consoleEnv{t: t, url: hs.URL, env: env, app: a, store: st, mgmt: m, alloc: alloc, sink: sink}
}

// findChromium is Debian's chromium (or TIDINGS_CHROMIUM). Without it the
// browser tests skip on a laptop but fail in CI, where .ci/run installs it.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("TIDINGS_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium found (install Debian's chromium package or set TIDINGS_CHROMIUM); CI must run the browser tests")
	}
	t.Skip("no Chromium found; install Debian's chromium to run the console's browser tests")
	return ""
}

// defaultSchedules creates the default Temporal Schedules, as `tidings
// dev` does, and fires schedule id once now (an ID "" fires none); it
// returns the Temporal client.
func (e *consoleEnv) defaultSchedules(id string) client.Client {
	e.t.Helper()
	ctx := e.t.Context()
	c, err := e.app.Temporal(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := schedules.EnsureDefaults(ctx, c.ScheduleClient(), e.app.Config().TemporalTaskQueue); err != nil {
		e.t.Fatal(err)
	}
	if id != "" {
		if err := e.mgmt.ScheduleAction(ctx, access.Operator("test"), id, "trigger", ""); err != nil {
			e.t.Fatal(err)
		}
	}
	return c
}

// user adds a user with role and the shared test password.
func (e *consoleEnv) user(email string, role access.Role) {
	e.t.Helper()
	_, err := e.mgmt.CreateUser(e.t.Context(), access.Operator("test"), mgmt.NewUser{Email: email, Role: string(role), Password: password})
	if err != nil {
		e.t.Fatal(err)
	}
}

// browser starts a browser of its own (its own profile and cookies) whose
// requests say the reader prefers acceptLanguage.
func (e *consoleEnv) browser(acceptLanguage string) context.Context {
	e.t.Helper()
	ctx, cancel := chromedp.NewContext(e.alloc)
	e.t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 150*time.Second)
	e.t.Cleanup(cancelTimeout)
	e.run(ctx,
		network.Enable(),
		network.SetExtraHTTPHeaders(network.Headers{"Accept-Language": acceptLanguage}),
		emulation.SetTimezoneOverride("Asia/Taipei"),
		// The zone console.js would report, set before the first page so it
		// never reloads one under the test's feet.
		network.SetCookie("tidings_tz", "Asia%2FTaipei").WithURL(e.url+"/console/").WithPath("/console/"),
	)
	return ctx
}

// run performs browser actions, failing the test with the page's address
// and heading when one fails.
func (e *consoleEnv) run(ctx context.Context, actions ...chromedp.Action) {
	e.t.Helper()
	if err := chromedp.Run(ctx, actions...); err != nil {
		var loc, h1 string
		short, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = chromedp.Run(short, chromedp.Location(&loc), chromedp.Text("h1", &h1, chromedp.AtLeast(0)))
		e.t.Fatalf("browser at %s (heading %q): %v", loc, h1, err)
	}
}

// submit clicks what sends a form and waits for the element the answer
// shows. The answer is a new document, so waiting polls the page by script:
// a node looked up in the old document would be gone before it is read.
// The old document is marked first, so an element it shows too (the error
// of the post before) is not taken for the answer.
func (e *consoleEnv) submit(ctx context.Context, click, then string) {
	e.t.Helper()
	e.run(ctx, chromedp.Evaluate(`document.documentElement.dataset.sent = "1"`, nil), chromedp.Click(click, chromedp.ByQuery))
	js := fmt.Sprintf(`document.readyState === "complete" && !document.documentElement.dataset.sent && document.querySelector(%q) !== null`, then)
	for {
		var ok bool
		if err := chromedp.Run(ctx, chromedp.Evaluate(js, &ok)); err == nil && ok {
			break
		}
		select {
		case <-ctx.Done():
			e.run(ctx, chromedp.WaitVisible(then, chromedp.ByQuery)) // fails with the page's address
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
	e.run(ctx, chromedp.WaitVisible(then, chromedp.ByQuery))
}

// signIn signs in through the sign-in page.
func (e *consoleEnv) signIn(ctx context.Context, email string) {
	e.t.Helper()
	e.run(ctx,
		chromedp.Navigate(e.url+"/console/login"),
		chromedp.WaitVisible("#email", chromedp.ByID),
		chromedp.SendKeys("#email", email, chromedp.ByID),
		chromedp.SendKeys("#password", password, chromedp.ByID),
	)
	e.submit(ctx, "#sign-in", "#logout")
}

// text is the text of the first element matching sel.
func (e *consoleEnv) text(ctx context.Context, sel string) string {
	e.t.Helper()
	var s string
	e.run(ctx, chromedp.Text(sel, &s, chromedp.ByQuery))
	return strings.TrimSpace(s)
}

// post sends a form post from the page, as a forged or scripted request
// would, and returns its status.
func (e *consoleEnv) post(ctx context.Context, path string, form map[string]string) int {
	e.t.Helper()
	var parts []string
	for k, v := range form {
		parts = append(parts, fmt.Sprintf("%q: %q", k, v))
	}
	js := fmt.Sprintf(`fetch(%q, {method: "POST", body: new URLSearchParams({%s}), redirect: "manual"}).then(r => r.status)`,
		path, strings.Join(parts, ", "))
	var status int
	e.run(ctx, chromedp.Evaluate(js, &status, awaitPromise))
	return status
}

// awaitPromise makes chromedp.Evaluate wait for the promise a script
// returns.
func awaitPromise(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }

// csrf reads the CSRF token the signed-in page carries in its forms.
func (e *consoleEnv) csrf(ctx context.Context) string {
	e.t.Helper()
	var token string
	e.run(ctx, chromedp.Evaluate(`document.querySelector("input[name=csrf_token]").value`, &token))
	return token
}

// shot saves a screenshot of the page for docs/console.md when
// TIDINGS_CONSOLE_SCREENSHOTS names a directory.
func (e *consoleEnv) shot(ctx context.Context, name string) {
	e.t.Helper()
	dir := os.Getenv(screenshotEnv)
	if dir == "" {
		return
	}
	var png []byte
	e.run(ctx, chromedp.FullScreenshot(&png, 100))
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// shots saves the page's screenshot in each of langs (name-<lang>.png),
// switching with the page's own language links as a reader would, then
// switches back to the language the page was in. Each Chinese page is
// first checked for English the console wrote itself (englishOn).
func (e *consoleEnv) shots(ctx context.Context, name string, langs ...string) {
	e.t.Helper()
	was := e.lang(ctx)
	for _, l := range langs {
		e.switchLang(ctx, l)
		if l != "en" {
			if words := e.englishOn(ctx); len(words) > 0 {
				e.t.Errorf("%s in %s shows English: %q", name, l, words)
			}
		}
		e.shot(ctx, name+"-"+l)
	}
	e.switchLang(ctx, was)
}

// lang is the language the page is shown in ("zh-CN").
func (e *consoleEnv) lang(ctx context.Context) string {
	e.t.Helper()
	var code string
	e.run(ctx, chromedp.Evaluate(`document.querySelector(".languages a[aria-current]").dataset.lang`, &code))
	return code
}

// switchLang picks lang with the page's language link, unless the page is
// in it already, and waits for the page again.
func (e *consoleEnv) switchLang(ctx context.Context, lang string) {
	e.t.Helper()
	if e.lang(ctx) == lang {
		return
	}
	e.submit(ctx, fmt.Sprintf(`.languages a[data-lang=%q]`, lang), fmt.Sprintf(`.languages a[aria-current][data-lang=%q]`, lang))
	// Charts are drawn once the scripts have run.
	e.run(ctx, chromedp.Poll(`[...document.querySelectorAll("[data-chart], [data-report-chart]")].every(el => el.querySelector("canvas"))`, nil))
}

// englishOn lists the English words on a Chinese page that the console
// wrote: the page's text without what the reader's data holds (names,
// addresses, identifiers, files, rendered messages), which the templates
// mark translate="no" or set in code, and without the words of data, the
// data a sentence names (a campaign, a provider's reason).
func (e *consoleEnv) englishOn(ctx context.Context, data ...string) []string {
	e.t.Helper()
	var words []string
	e.run(ctx, chromedp.Evaluate(englishScript, &words))
	return slices.DeleteFunc(words, func(w string) bool { return slices.Contains(data, w) })
}

// englishScript collects the Latin words of the page's visible text
// outside data — code, pre, textarea, frames, inputs, [translate=no] —
// and the language switch (each language's own name); abbreviations
// Chinese writes as they are (SMS, UTC, RFM) pass.
const englishScript = `(() => {
  const skip = "script, style, code, pre, textarea, iframe, select, option, kbd, samp, [translate=no], .languages, .brand, svg, canvas";
  const out = new Set();
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(skip) || !el.checkVisibility()) continue;
    // A word with a digit, a dot, an @, a slash, _ or - in it is a name
    // (survey_request, nps-after-delivery, ann@example.com, Asia/Taipei).
    // Quoted text is what someone typed ("calm").
    for (const w of n.textContent.replace(/"[^"]*"|“[^”]*”/g, " ").split(/[^A-Za-z0-9_@.\/:+'-]+/)) {
      if (/^[A-Za-z']{2,}$/.test(w) && !/^(UTC|SMS|ID|CSV|RFM|NPS|CSAT|CLV|CAC|API|URL|HTML|YAML|JSON|GSM|UCS|IANA|VIP|Tidings|Temporal|Web|UI|Newcombe|vs)$/.test(w)) out.add(w);
    }
  }
  return [...out];
})()`

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
