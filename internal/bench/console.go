package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tidingsdev/tidings/examples"
	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/mgmt"
)

// Console goals, at a million customers and ten million messages.
const (
	consolePageGoal = 200 * time.Millisecond
	// consoleRuns is how many times each page is rendered (after a warm-up).
	consoleRuns = 20
)

// browser is a signed-in console session: a cookie jar holding the
// session cookie, as a browser keeps it.
type browser struct {
	base   string
	client *http.Client
}

// signIn signs an admin in through the console's own sign-in form
// (GET for its CSRF cookie and field, POST with email and password).
func (s *served) signIn(ctx context.Context) (*browser, error) {
	m, err := s.app.Mgmt(ctx)
	if err != nil {
		return nil, err
	}
	u, err := m.CreateUser(ctx, access.Operator("bench"), mgmt.NewUser{Email: "bench-admin@example.com", Role: "admin"})
	if err != nil {
		return nil, err
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	b := &browser{base: s.url, client: &http.Client{Jar: jar, Timeout: time.Minute}}
	page, _, err := b.get(ctx, "/console/login")
	if err != nil {
		return nil, err
	}
	m1 := csrfInput.FindStringSubmatch(page)
	if m1 == nil {
		return nil, errors.New("sign-in page: no CSRF field")
	}
	form := url.Values{"email": {u.User.Email}, "password": {u.Password}, access.CSRFField: {m1[1]}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url+"/console/login", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/console/" {
		return nil, fmt.Errorf("sign in: %s at %s", resp.Status, resp.Request.URL.Path)
	}
	return b, nil
}

var csrfInput = regexp.MustCompile(`name="` + access.CSRFField + `"\s+value="([^"]+)"`)

// get renders path and returns the page, failing on any status but 200.
func (b *browser) get(ctx context.Context, path string) (string, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.base+path, nil)
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Accept-Language", "en")
	resp, err := b.client.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", 0, fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", resp.StatusCode, fmt.Errorf("GET %s: %s: %.300s", path, resp.Status, body)
	}
	return string(body), len(body), nil
}

// consolePage is one page the scenario renders.
type consolePage struct{ name, path string }

var consoleLink = regexp.MustCompile(`href="(/console/[^"?#]*)"`)

// consoleScenario generates n customers with their history (ten messages
// and five events each by default) and renders every console page through
// the real HTTP server with a signed-in session: each page the navigation
// links to (so pages added later are measured too), plus a campaign, a
// customer found by search, a segment, a template and a message. The
// baseline is GET /healthz on the same server, in the same run.
func consoleScenario(ctx context.Context, r *run, n int) error {
	s, err := r.servedAsRefreshed(ctx, n)
	if err != nil {
		return err
	}
	b, err := s.signIn(ctx)
	if err != nil {
		return err
	}
	pages, err := consolePages(ctx, s, b)
	if err != nil {
		return err
	}
	res := r.res
	res.Baseline = "GET /healthz on the same server, in the same run"
	health, err := sample(ctx, consoleRuns, func(int) error {
		_, _, err := b.get(ctx, "/healthz")
		return err
	})
	if err != nil {
		return err
	}
	over := 0
	for _, p := range pages {
		r.step("rendering", "page", p.name, "path", p.path)
		var size int
		l, err := sample(ctx, consoleRuns, func(int) error {
			var err error
			_, size, err = b.get(ctx, p.path)
			return err
		})
		if timedOut(err) {
			// A page that takes longer than the client waits is over the
			// goal; the other pages are still measured.
			res.goal(p.name+" (p95)", "< "+consolePageGoal.String(), "over "+b.client.Timeout.String(), false)
			res.note("%s (%s) did not answer within %s", p.name, p.path, b.client.Timeout)
			over++
			continue
		}
		if err != nil {
			return err
		}
		if !res.latencies(p.name, "p95", 0.95, l, health, consolePageGoal) {
			over++
		}
		res.check("%s (%s) answered 200 with %d bytes every time", p.name, p.path, size)
	}
	res.row("pages over the goal", "", float64(over))
	res.note("%d renders per page after one warm-up, one at a time, signed in as an admin through the sign-in form, Accept-Language en", consoleRuns)
	return nil
}

// timedOut reports whether err is the client giving up on a page.
func timedOut(err error) bool {
	var ue *url.Error
	return errors.As(err, &ue) && ue.Timeout()
}

// servedAsRefreshed serves a copy of the dataset of n customers as a
// running product has it when someone opens a page or asks for a report:
// the example segments saved and the hourly refresh done once, by the code
// `tidings segments refresh-scores` runs (scores, stages, the reports'
// tallies, audience sizes, the campaigns' results and funnels, the
// journeys' funnels). The refresh's time is a row of the result.
func (r *run) servedAsRefreshed(ctx context.Context, n int) (*served, error) {
	s, err := r.serveDataset(ctx, n)
	if err != nil {
		return nil, err
	}
	m, err := s.app.Mgmt(ctx)
	if err != nil {
		return nil, err
	}
	if err := saveExampleSegments(ctx, m); err != nil {
		return nil, err
	}
	r.step("refreshing scores, tallies, audiences and funnels, as the hourly refresh does")
	began := time.Now()
	if _, err := m.RefreshScores(ctx, access.Operator("bench")); err != nil {
		return nil, err
	}
	r.res.row("the hourly refresh, once before anything is measured", "s", time.Since(began).Seconds())
	return s, nil
}

// saveExampleSegments saves the example segments, so the segments pages
// list and show real definitions.
func saveExampleSegments(ctx context.Context, m *mgmt.Service) error {
	files, err := fs.Glob(examples.Segments, "segments/*")
	if err != nil {
		return err
	}
	for _, f := range files {
		text, err := fs.ReadFile(examples.Segments, f)
		if err != nil {
			return err
		}
		base := path.Base(f)
		name := strings.TrimSuffix(base, path.Ext(base))
		if _, err := m.SaveSegment(ctx, access.Operator("bench"), mgmt.File{Name: base, Text: text}, name); err != nil {
			return fmt.Errorf("save segment %s: %w", name, err)
		}
	}
	return nil
}

// consolePages are the navigation's pages (read from the overview) and
// one page of each kind that lists lead to.
func consolePages(ctx context.Context, s *served, b *browser) ([]consolePage, error) {
	overview, _, err := b.get(ctx, "/console/")
	if err != nil {
		return nil, err
	}
	var pages []consolePage
	seen := map[string]bool{}
	add := func(name, path string) {
		if !seen[path] {
			seen[path] = true
			pages = append(pages, consolePage{name, path})
		}
	}
	for _, m := range consoleLink.FindAllStringSubmatch(overview, -1) {
		p := m[1]
		if strings.HasPrefix(p, "/console/assets/") || strings.HasPrefix(p, "/console/login") || strings.HasPrefix(p, "/console/language") {
			continue
		}
		name := strings.Trim(strings.TrimPrefix(p, "/console"), "/")
		if name == "" {
			name = "overview"
		}
		add(name, p)
	}
	// Settings has sub-pages of its own.
	for _, p := range []string{"/console/settings/keys", "/console/settings/policy", "/console/settings/audit"} {
		add(strings.TrimPrefix(p, "/console/"), p)
	}
	var one struct {
		campaign, customer, email, message, segment string
	}
	q := s.st.Pool().QueryRow(ctx, `
		SELECT (SELECT name FROM campaigns ORDER BY created_at DESC LIMIT 1),
		       (SELECT external_id FROM customers WHERE orders_count > 2 ORDER BY bucket_hash LIMIT 1),
		       (SELECT email FROM customers WHERE orders_count > 2 ORDER BY bucket_hash LIMIT 1),
		       (SELECT id::text FROM messages WHERE id IN (SELECT message_id FROM message_contents) ORDER BY created_at DESC LIMIT 1),
		       coalesce((SELECT name FROM segments ORDER BY name LIMIT 1), '')`)
	if err := q.Scan(&one.campaign, &one.customer, &one.email, &one.message, &one.segment); err != nil {
		return nil, fmt.Errorf("pick pages: %w", err)
	}
	add("campaign page", "/console/campaigns/"+url.PathEscape(one.campaign))
	add("customers search", "/console/customers?q="+url.QueryEscape(one.email))
	add("customer page", "/console/customers/"+url.PathEscape(one.customer))
	add("message page", "/console/messages/"+one.message)
	add("template page", "/console/templates/spring_sale")
	if one.segment != "" {
		add("segment page", "/console/segments/"+url.PathEscape(one.segment))
	}
	slices.SortStableFunc(pages, func(a, b consolePage) int { return strings.Compare(a.path, b.path) })
	return pages, nil
}
