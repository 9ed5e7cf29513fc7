package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// reply is one HTTP answer as a client sees it.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) String() string { return strconv.Itoa(r.status) + " " + string(r.body) }

// send makes a request with the given headers (name, value, ...).
func (a *testAPI) send(method, path, body string, header ...string) reply {
	a.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(a.t.Context(), method, a.http.URL+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := a.http.Client().Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, out}
}

// keyFor issues an API key with role and returns its secret.
func (a *testAPI) keyFor(role access.Role) string {
	a.t.Helper()
	_, secret, err := a.store.CreateAPIKeyWithRole(a.t.Context(), "key-"+string(role), string(role))
	if err != nil {
		a.t.Fatal(err)
	}
	return secret
}

// browser is a signed-in browser: its session cookie and CSRF token.
type browser struct {
	cookie, csrf string
}

// headers are what the browser sends: the cookie, and the CSRF token when
// withCSRF.
func (b browser) headers(withCSRF bool) []string {
	h := []string{"Cookie", b.cookie}
	if withCSRF {
		h = append(h, access.CSRFHeader, b.csrf)
	}
	return h
}

// user creates a user with role through the admin API and signs them in.
func (a *testAPI) user(email string, role access.Role) browser {
	a.t.Helper()
	const pw = "a long enough password"
	if r := a.send("POST", "/v1/users", `{"email":"`+email+`","role":"`+string(role)+`","password":"`+pw+`"}`, "Authorization", "Bearer "+a.key); r.status != http.StatusCreated {
		a.t.Fatalf("create user %s: %s", email, r)
	}
	return a.login(email, pw)
}

func (a *testAPI) login(email, pw string) browser {
	a.t.Helper()
	r := a.send("POST", "/v1/session", `{"email":"`+email+`","password":"`+pw+`"}`)
	if r.status != http.StatusOK {
		a.t.Fatalf("sign in %s: %s", email, r)
	}
	var s struct {
		CSRFToken string `json:"csrf_token"`
	}
	if err := json.Unmarshal(r.body, &s); err != nil || s.CSRFToken == "" {
		a.t.Fatalf("sign in %s: no CSRF token in %s", email, r.body)
	}
	c := (&http.Response{Header: r.header}).Cookies()
	if len(c) != 1 {
		a.t.Fatalf("sign in %s: cookies %v", email, c)
	}
	return browser{cookie: c[0].Name + "=" + c[0].Value, csrf: s.CSRFToken}
}

type documentedOp struct {
	method, path string
	roles        []string
}

// documentedOps lists every operation of the OpenAPI document with the
// roles it says may call it.
func documentedOps(t *testing.T) []documentedOp {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]struct {
			Roles *[]string `json:"x-tidings-roles"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	var out []documentedOp
	for path, ops := range doc.Paths {
		for method, o := range ops {
			if o.Roles == nil {
				t.Errorf("%s %s does not say which roles may call it (x-tidings-roles)", strings.ToUpper(method), path)
				continue
			}
			out = append(out, documentedOp{strings.ToUpper(method), path, *o.Roles})
		}
	}
	// Signing out ends the walk's browser sessions: last.
	sort.Slice(out, func(i, j int) bool {
		ki, kj := out[i].method+" "+out[i].path, out[j].method+" "+out[j].path
		if (ki == "DELETE /v1/session") != (kj == "DELETE /v1/session") {
			return kj == "DELETE /v1/session"
		}
		return ki < kj
	})
	return out
}

// TestEveryRouteEnforcesItsRoles walks the OpenAPI document: every
// operation's documented roles are the route table's, a request without
// credentials gets 401, and every role gets 403 exactly when it is not
// documented, with an API key and with a browser session alike.
func TestEveryRouteEnforcesItsRoles(t *testing.T) {
	a := newManagedAPI(t)
	levels := map[string]access.Level{"GET /metrics": access.Public}
	authenticated := 0
	for _, rt := range (&Server{}).routes() {
		levels[rt.pattern] = rt.level
		if rt.level != access.Public {
			authenticated++
		}
	}
	keys := map[access.Role]string{}
	browsers := map[access.Role]browser{}
	for _, r := range access.Roles() {
		keys[r] = a.keyFor(r)
		browsers[r] = a.user(string(r)+"@example.com", r)
	}
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	checked := 0
	for _, op := range documentedOps(t) {
		name := op.method + " " + op.path
		level, ok := levels[name]
		if !ok {
			t.Errorf("%s is documented but not served", name)
			continue
		}
		var want []string
		for _, r := range level.Roles() {
			want = append(want, string(r))
		}
		if !slices.Equal(op.roles, want) && !(len(op.roles) == 0 && len(want) == 0) {
			t.Errorf("%s: documented roles %v, the route table says %v", name, op.roles, want)
		}
		if level == access.Public {
			continue
		}
		url := param.ReplaceAllString(op.path, "nobody")
		body := ""
		if op.method != "GET" && op.method != "DELETE" {
			body = "{}"
		}
		if r := a.send(op.method, url, body); r.status != http.StatusUnauthorized || apiError(t, r.body).Code != codeUnauthorized {
			t.Errorf("%s without credentials: %s, want 401", name, r)
		}
		if r := a.send(op.method, url, body, "Authorization", "Bearer tdg_notakey"); r.status != http.StatusUnauthorized {
			t.Errorf("%s with an unknown key: %s, want 401", name, r)
		}
		for _, role := range access.Roles() {
			allowed := role.May(level)
			for via, header := range map[string][]string{
				"key":     {"Authorization", "Bearer " + keys[role]},
				"session": browsers[role].headers(true),
			} {
				r := a.send(op.method, url, body, header...)
				switch {
				case !allowed && (r.status != http.StatusForbidden || apiError(t, r.body).Code != codeForbidden):
					t.Errorf("%s as %s by %s: %s, want 403 forbidden", name, role, via, r)
				case !allowed && !strings.Contains(apiError(t, r.body).Message, access.RoleList(level.Roles())):
					t.Errorf("%s as %s by %s: the refusal does not name the roles that may: %s", name, role, via, r.body)
				case allowed && (r.status == http.StatusUnauthorized || r.status == http.StatusForbidden || r.status >= 500):
					t.Errorf("%s as %s by %s: %s, want it let through", name, role, via, r)
				}
			}
		}
		checked++
	}
	if checked != authenticated {
		t.Errorf("checked %d authenticated operations, the route table has %d", checked, authenticated)
	}
}

func TestBrowserSessionCookieCSRFAndSignOut(t *testing.T) {
	a := newAPI(t, false)
	a.customer("C-1", nil)
	if r := a.send("POST", "/v1/users", `{"email":"Mei@Example.com","role":"marketer","password":"sixteen chars ok"}`, "Authorization", "Bearer "+a.key); r.status != http.StatusCreated {
		t.Fatalf("create user: %s", r)
	}
	if r := a.send("POST", "/v1/session", `{"email":"mei@example.com","password":"not the password"}`); r.status != http.StatusUnauthorized || r.header.Get("Set-Cookie") != "" {
		t.Errorf("wrong password: %s, cookie %q; want 401 and no cookie", r, r.header.Get("Set-Cookie"))
	}
	if r := a.send("POST", "/v1/session", `{"email":"nobody@example.com","password":"not the password"}`); r.status != http.StatusUnauthorized ||
		apiError(t, r.body).Message != "email or password is wrong" {
		t.Errorf("unknown email: %s; want the same 401 as a wrong password", r)
	}
	r := a.send("POST", "/v1/session", `{"email":"MEI@example.com ","password":"sixteen chars ok"}`)
	if r.status != http.StatusOK {
		t.Fatalf("sign in: %s", r)
	}
	set := r.header.Get("Set-Cookie")
	for _, want := range []string{"__Host-tidings_session=", "Path=/", "HttpOnly", "Secure", "SameSite=Lax", "Max-Age="} {
		if !strings.Contains(set, want) {
			t.Errorf("session cookie %q lacks %s", set, want)
		}
	}
	b := a.login("mei@example.com", "sixteen chars ok")

	r = a.send("GET", "/v1/session", "", b.headers(false)...)
	var who sessionResponse
	if err := json.Unmarshal(r.body, &who); r.status != http.StatusOK || err != nil || who.Principal.Name != "mei@example.com" ||
		who.Principal.Role != access.Marketer || who.CSRFToken != b.csrf || who.User == nil {
		t.Errorf("GET /v1/session: %s", r)
	}
	if r := a.send("GET", "/v1/customers/C-1", "", b.headers(false)...); r.status != http.StatusOK {
		t.Errorf("a read needs no CSRF token: %s", r)
	}
	put := `{"email":"c1@example.com"}`
	if r := a.send("PUT", "/v1/customers/C-1", put, b.headers(false)...); r.status != http.StatusForbidden || apiError(t, r.body).Code != codeCSRF {
		t.Errorf("a write without the CSRF token: %s, want 403 csrf", r)
	}
	if r := a.send("PUT", "/v1/customers/C-1", put, "Cookie", b.cookie, access.CSRFHeader, b.csrf+"x"); r.status != http.StatusForbidden {
		t.Errorf("a write with a wrong CSRF token: %s, want 403", r)
	}
	other := a.login("mei@example.com", "sixteen chars ok")
	if r := a.send("PUT", "/v1/customers/C-1", put, "Cookie", b.cookie, access.CSRFHeader, other.csrf); r.status != http.StatusForbidden {
		t.Errorf("a write with another session's CSRF token: %s, want 403", r)
	}
	if r := a.send("PUT", "/v1/customers/C-1", put, b.headers(true)...); r.status != http.StatusOK {
		t.Errorf("a write with the CSRF token: %s", r)
	}
	if c, _ := a.store.CustomerByExternalID(t.Context(), "C-1"); c.Email != "c1@example.com" {
		t.Errorf("the write did not land: %+v", c)
	}
	if r := a.send("PUT", "/v1/customers/C-1", put, "Cookie", b.cookie, "Authorization", "Bearer tdg_wrong"); r.status != http.StatusUnauthorized {
		t.Errorf("a bad key beside a good cookie: %s, want 401 (a key never borrows a session)", r)
	}

	r = a.send("DELETE", "/v1/session", "", b.headers(true)...)
	if r.status != http.StatusNoContent || !strings.Contains(r.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("sign out: %s, cookie %q", r, r.header.Get("Set-Cookie"))
	}
	if r := a.send("GET", "/v1/session", "", b.headers(false)...); r.status != http.StatusUnauthorized {
		t.Errorf("the session after signing out: %s, want 401", r)
	}
	if r := a.send("GET", "/v1/session", "", other.headers(false)...); r.status != http.StatusOK {
		t.Errorf("signing out one session ended another: %s", r)
	}
	if r := a.send("PATCH", "/v1/users/mei@example.com", `{"disabled":true}`, "Authorization", "Bearer "+a.key); r.status != http.StatusOK {
		t.Fatalf("disable: %s", r)
	}
	if r := a.send("GET", "/v1/session", "", other.headers(false)...); r.status != http.StatusUnauthorized {
		t.Errorf("a disabled user's session: %s, want 401", r)
	}
	if r := a.send("POST", "/v1/session", `{"email":"mei@example.com","password":"sixteen chars ok"}`); r.status != http.StatusForbidden {
		t.Errorf("a disabled user signing in: %s, want 403", r)
	}
}

func TestSessionCookieOverPlainHTTPIsNotSecure(t *testing.T) {
	a := newAPI(t, false, func(o *Options) { o.InsecureCookies = true })
	a.user("dev@example.com", access.Viewer)
	r := a.send("POST", "/v1/session", `{"email":"dev@example.com","password":"a long enough password"}`)
	if set := r.header.Get("Set-Cookie"); !strings.HasPrefix(set, "tidings_session=") || strings.Contains(set, "Secure") || !strings.Contains(set, "HttpOnly") {
		t.Errorf("development cookie %q: want tidings_session, HttpOnly, not Secure", set)
	}
}

func TestFailedSignInsAreLimitedPerAccountAndPerAddress(t *testing.T) {
	a := newAPI(t, false)
	a.user("ann@example.com", access.Viewer)
	a.user("bob@example.com", access.Viewer)
	for i := range 5 {
		if r := a.send("POST", "/v1/session", `{"email":"ann@example.com","password":"guess `+strconv.Itoa(i)+`"}`); r.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %s, want 401", i, r)
		}
	}
	r := a.send("POST", "/v1/session", `{"email":"ann@example.com","password":"a long enough password"}`)
	if r.status != http.StatusTooManyRequests || apiError(t, r.body).Code != codeRateLimited {
		t.Fatalf("the right password after 5 failures: %s, want 429", r)
	}
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 800 || s > 901 {
		t.Errorf("Retry-After %q, want about 15 minutes", r.header.Get("Retry-After"))
	}
	if msg := apiError(t, r.body).Message; !strings.Contains(msg, "this account") || !strings.Contains(msg, "minutes") {
		t.Errorf("429 message %q does not say what is limited and for how long", msg)
	}
	// Another account from the same address still signs in, until the
	// address itself has failed 20 times.
	a.login("bob@example.com", "a long enough password")
	for i := range 15 {
		a.send("POST", "/v1/session", `{"email":"nobody`+strconv.Itoa(i)+`@example.com","password":"guess"}`)
	}
	r = a.send("POST", "/v1/session", `{"email":"bob@example.com","password":"a long enough password"}`)
	if r.status != http.StatusTooManyRequests || !strings.Contains(apiError(t, r.body).Message, "address") {
		t.Errorf("sign-in from an address with 20 failures: %s, want 429 naming the address", r)
	}
	es, err := a.store.AuditEntries(t.Context(), store.AuditQuery{Action: "session.login_failed", Limit: 100})
	if err != nil || len(es) != 20 {
		t.Errorf("%d failed sign-ins audited (%v), want 20", len(es), err)
	}
}

func TestAuditLogRecordsWhoDidWhatAndErasureAndExport(t *testing.T) {
	a := newAPI(t, false)
	id := a.customer("C-1", map[string]any{"email": "ann@example.com"})
	admin := a.user("root@example.com", access.Admin)
	steps := []struct {
		method, path, body string
		header             []string
		status             int
	}{
		{"POST", "/v1/users", `{"email":"mei@example.com","role":"viewer"}`, admin.headers(true), http.StatusCreated},
		{"PATCH", "/v1/users/mei@example.com", `{"role":"marketer"}`, admin.headers(true), http.StatusOK},
		{"POST", "/v1/users/mei@example.com/reset-password", "", admin.headers(true), http.StatusOK},
		{"POST", "/v1/apikeys", `{"name":"shop","role":"ops"}`, []string{"Authorization", "Bearer " + a.key}, http.StatusCreated},
		{"GET", "/v1/customers/C-1/export", "", []string{"Authorization", "Bearer " + a.key}, http.StatusOK},
		{"DELETE", "/v1/customers/" + id, "", admin.headers(true), http.StatusServiceUnavailable}, // Temporal is down here
	}
	for _, st := range steps {
		if r := a.send(st.method, st.path, st.body, st.header...); r.status != st.status {
			t.Fatalf("%s %s: %s, want %d", st.method, st.path, r, st.status)
		}
	}
	r := a.send("GET", "/v1/audit?limit=50", "", "Authorization", "Bearer "+a.key)
	var page auditResponse
	if err := json.Unmarshal(r.body, &page); r.status != http.StatusOK || err != nil {
		t.Fatalf("GET /v1/audit: %s", r)
	}
	if len(page.Entries) != 8 {
		t.Fatalf("audit log has %d entries, want 8: %s", len(page.Entries), r.body)
	}
	var got []string
	for _, e := range page.Entries {
		got = append(got, e.ActorKind+":"+e.ActorName+" "+e.Action+" "+e.Target)
		if e.At.IsZero() || (e.ActorKind == access.KindUser && e.IP != "127.0.0.1") {
			t.Errorf("entry %+v lacks when or from where", e)
		}
	}
	want := []string{
		"user:root@example.com customer.erase customer:" + id,
		"api_key:test customer.export customer:" + id,
		"api_key:test apikey.create " + page.Entries[2].Target,
		"user:root@example.com user.reset_password user:mei@example.com",
		"user:root@example.com user.set_role user:mei@example.com",
		"user:root@example.com user.create user:mei@example.com",
		"user:root@example.com session.login user:root@example.com",
		"api_key:test user.create user:root@example.com",
	}
	if !slices.Equal(got, want) {
		t.Errorf("audit log, newest first:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if c, _ := a.store.Customer(t.Context(), id); !store.IsErased(c) {
		t.Errorf("the customer was not erased")
	}
	r = a.send("GET", "/v1/audit?action=customer&limit=1", "", "Authorization", "Bearer "+a.key)
	page = auditResponse{}
	if err := json.Unmarshal(r.body, &page); err != nil || len(page.Entries) != 1 || page.Entries[0].Action != "customer.erase" || page.NextBefore == 0 {
		t.Fatalf("audit filtered by action, first page: %s", r)
	}
	r = a.send("GET", "/v1/audit?action=customer&before="+strconv.FormatInt(page.NextBefore, 10), "", "Authorization", "Bearer "+a.key)
	page = auditResponse{}
	if err := json.Unmarshal(r.body, &page); err != nil || len(page.Entries) != 1 || page.Entries[0].Action != "customer.export" || page.NextBefore != 0 {
		t.Errorf("audit filtered by action, second page: %s", r)
	}
	if r := a.send("GET", "/v1/audit?since=yesterday", "", "Authorization", "Bearer "+a.key); r.status != http.StatusBadRequest || apiError(t, r.body).Field != "since" {
		t.Errorf("bad since: %s, want 400 naming since", r)
	}
}

func TestKeysMadeBeforeRolesKeepFullAccessUntilScoped(t *testing.T) {
	a := newAPI(t, false)
	k, old, err := a.store.CreateAPIKey(t.Context(), "legacy")
	if err != nil {
		t.Fatal(err)
	}
	testdb.MustExec(t, a.store, `UPDATE api_keys SET role = NULL WHERE id = $1`, k.ID)
	r := a.send("GET", "/v1/session", "", "Authorization", "Bearer "+old)
	if !bytes.Contains(r.body, []byte(`"unscoped": true`)) || !bytes.Contains(r.body, []byte(`"role": "admin"`)) {
		t.Errorf("an unscoped key: %s, want unscoped with admin access", r)
	}
	if r := a.send("GET", "/v1/users", "", "Authorization", "Bearer "+old); r.status != http.StatusOK {
		t.Errorf("an unscoped key on an admin route: %s", r)
	}
	if r := a.send("PATCH", "/v1/apikeys/"+k.Prefix, `{"role":"viewer"}`, "Authorization", "Bearer "+a.key); r.status != http.StatusOK {
		t.Fatalf("scope: %s", r)
	}
	if r := a.send("GET", "/v1/users", "", "Authorization", "Bearer "+old); r.status != http.StatusForbidden {
		t.Errorf("the key scoped to viewer on an admin route: %s, want 403", r)
	}
	if r := a.send("GET", "/v1/customers/nobody", "", "Authorization", "Bearer "+old); r.status != http.StatusNotFound {
		t.Errorf("the key scoped to viewer reading: %s, want 404", r)
	}
	es, _ := a.store.AuditEntries(t.Context(), store.AuditQuery{Action: "apikey.scope"})
	if len(es) != 1 || es[0].Detail["from"] != "unscoped" || es[0].Detail["to"] != "viewer" {
		t.Errorf("scoping audited as %+v", es)
	}
}

func TestUsersAdminGuardsAndBadInput(t *testing.T) {
	a := newAPI(t, false)
	root := a.user("root@example.com", access.Admin)
	for _, tc := range []struct {
		method, path, body string
		status             int
		field              string
	}{
		{"POST", "/v1/users", `{"email":"not an email","role":"boss","password":"short"}`, 422, "email"},
		{"POST", "/v1/users", `{"email":"root@example.com","role":"viewer"}`, 409, "email"},
		{"POST", "/v1/users", `{"email":"x@example.com","role":"viewer","pasword":"typo"}`, 400, "pasword"},
		{"PATCH", "/v1/users/root@example.com", `{"role":"viewer"}`, 422, "role"},
		{"PATCH", "/v1/users/root@example.com", `{"disabled":true}`, 422, "disabled"},
		{"PATCH", "/v1/users/root@example.com", `{}`, 422, "role"},
		{"PATCH", "/v1/users/nobody@example.com", `{"role":"ops"}`, 404, "user"},
		{"POST", "/v1/apikeys", `{"name":"","role":"owner"}`, 422, "name"},
		{"PUT", "/v1/session/password", `{"current_password":"wrong","new_password":"a new long password"}`, 422, "current_password"},
		{"PUT", "/v1/session/password", `{"current_password":"a long enough password","new_password":"short"}`, 422, "new_password"},
	} {
		r := a.send(tc.method, tc.path, tc.body, root.headers(true)...)
		if r.status != tc.status || apiError(t, r.body).Field != tc.field {
			t.Errorf("%s %s %s: %s, want %d naming %s", tc.method, tc.path, tc.body, r, tc.status, tc.field)
		}
	}
	r := a.send("POST", "/v1/users", `{"email":"mei@example.com","role":"viewer"}`, root.headers(true)...)
	var created struct {
		Password string `json:"password"`
	}
	if err := json.Unmarshal(r.body, &created); err != nil || len(created.Password) < 20 {
		t.Fatalf("a generated password: %s", r)
	}
	mei := a.login("mei@example.com", created.Password)
	if r := a.send("PUT", "/v1/session/password", `{"current_password":"`+created.Password+`","new_password":"my own new password"}`, mei.headers(true)...); r.status != http.StatusNoContent {
		t.Fatalf("change own password: %s", r)
	}
	if r := a.send("GET", "/v1/session", "", mei.headers(false)...); r.status != http.StatusUnauthorized {
		t.Errorf("the session after a password change: %s, want 401", r)
	}
	a.login("mei@example.com", "my own new password")
	r = a.send("POST", "/v1/users/mei@example.com/reset-password", "", root.headers(true)...)
	if err := json.Unmarshal(r.body, &created); err != nil || r.status != http.StatusOK || created.Password == "" {
		t.Fatalf("reset: %s", r)
	}
	if r := a.send("POST", "/v1/session", `{"email":"mei@example.com","password":"my own new password"}`); r.status != http.StatusUnauthorized {
		t.Errorf("the old password after a reset: %s, want 401", r)
	}
	a.login("mei@example.com", created.Password)
}
