package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// result is what a user sees of one `tidings` run.
type result struct {
	code           int
	stdout, stderr string
}

// tidings runs the command line through the same path as main, with env as
// the whole environment.
func tidings(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	a := &app{getenv: func(k string) string { return env[k] }, stdout: &stdout, stderr: &stderr, stdin: strings.NewReader("")}
	code := run(t.Context(), a, args)
	return result{code, stdout.String(), stderr.String()}
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%sstderr:\n%s", r.code, r.stdout, r.stderr)
}

// migratedEnv is an environment pointing at a fresh, migrated database,
// with a signing secret of its own (worker and api refuse the default).
func migratedEnv(t *testing.T) (map[string]string, *store.Store) {
	t.Helper()
	s, dsn := testdb.New(t)
	return map[string]string{"TIDINGS_DATABASE_URL": dsn, "TIDINGS_SIGNING_SECRET": "cli-test-signing-secret-0123456789"}, s
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMigrateUpAndStatus(t *testing.T) {
	t.Parallel()
	env := map[string]string{"TIDINGS_DATABASE_URL": testdb.Create(t)}
	ms, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}

	r := tidings(t, env, "migrate", "status")
	if r.code != 0 || strings.Count(r.stdout, "pending") != len(ms)+1 || !strings.Contains(r.stdout, fmt.Sprintf("%d pending; run `tidings migrate up`", len(ms))) {
		t.Errorf("status of an empty database:\n%s", r)
	}

	r = tidings(t, env, "migrate", "up")
	if r.code != 0 {
		t.Fatalf("migrate up:\n%s", r)
	}
	for _, m := range ms {
		if !strings.Contains(r.stdout, "applied "+m.Name+"\n") {
			t.Errorf("migrate up does not report applying %s:\n%s", m.Name, r)
		}
	}
	if !strings.Contains(r.stdout, fmt.Sprintf("schema is at version %d", store.LatestVersion())) {
		t.Errorf("migrate up does not report the version:\n%s", r)
	}

	r = tidings(t, env, "migrate", "up")
	if r.code != 0 || strings.Contains(r.stdout, "applied") {
		t.Errorf("second migrate up applied something:\n%s", r)
	}
	r = tidings(t, env, "migrate", "status")
	if r.code != 0 || strings.Contains(r.stdout, "pending") || !strings.Contains(r.stdout, ms[0].Name) {
		t.Errorf("status after migrate up:\n%s", r)
	}
}

func TestMigrateUpCreatesTheDatabase(t *testing.T) {
	t.Parallel()
	dsn := testdb.Create(t)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(t.Context(), testdb.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(t.Context())
	if _, err := admin.Exec(t.Context(), "DROP DATABASE "+pgx.Identifier{cfg.Database}.Sanitize()); err != nil {
		t.Fatal(err)
	}

	r := tidings(t, map[string]string{"TIDINGS_DATABASE_URL": dsn}, "migrate", "up")
	if r.code != 0 || !strings.Contains(r.stdout, "schema is at version") {
		t.Errorf("migrate up on a missing database:\n%s", r)
	}
}

func TestCommandsRefuseAnUnmigratedDatabase(t *testing.T) {
	t.Parallel()
	env := map[string]string{"TIDINGS_DATABASE_URL": testdb.Create(t)}
	file := writeFile(t, "c.csv", "external_id\nC-1\n")
	for _, args := range [][]string{
		{"customers", "get", "C-1"},
		{"customers", "import", file},
		{"events", "send", "--customer", "C-1", "--type", "signup"},
	} {
		r := tidings(t, env, args...)
		if r.code != exitSchema || !strings.Contains(r.stderr, "tidings migrate up") {
			t.Errorf("tidings %s on an unmigrated database: want exit 4 naming `tidings migrate up`\n%s", strings.Join(args, " "), r)
		}
	}
}

// TestAMistypedDatabaseIsNotCreated: every command but `migrate up` exits 4
// naming a database that does not exist, and leaves it uncreated.
func TestAMistypedDatabaseIsNotCreated(t *testing.T) {
	t.Parallel()
	dsn, name := testdb.Missing(t)
	env := map[string]string{"TIDINGS_DATABASE_URL": dsn}
	for _, args := range [][]string{
		{"migrate", "status"},
		{"customers", "get", "C-1"},
		{"apikeys", "list"},
		{"segments", "list"},
		{"events", "send", "--customer", "C-1", "--type", "signup"},
	} {
		r := tidings(t, env, args...)
		if r.code != exitSchema || !strings.Contains(r.stderr, `"`+name+`"`) || !strings.Contains(r.stderr, "does not exist") {
			t.Errorf("tidings %s on a missing database: want exit 4 naming %s\n%s", strings.Join(args, " "), name, r)
		}
	}
	if r := tidings(t, env, "migrate", "up"); r.code != 0 {
		t.Fatalf("migrate up creates the database:\n%s", r)
	}
	if r := tidings(t, env, "customers", "get", "C-1"); !strings.Contains(r.stderr, `no customer with ID or external ID "C-1"`) {
		t.Errorf("customers get after migrate up: want it to look the customer up\n%s", r)
	}
}

// TestPoolSettingsInTheDatabaseURL runs commands with every pool setting
// README "PostgreSQL" names in TIDINGS_DATABASE_URL: each works, creating
// the database included.
func TestPoolSettingsInTheDatabaseURL(t *testing.T) {
	t.Parallel()
	base, _ := testdb.Missing(t)
	dsn := base + "&pool_max_conns=32&pool_min_conns=2&pool_min_idle_conns=1&pool_max_conn_lifetime=1h" +
		"&pool_max_conn_lifetime_jitter=1m&pool_max_conn_idle_time=30m&pool_health_check_period=1m"
	env := map[string]string{"TIDINGS_DATABASE_URL": dsn}
	for _, args := range [][]string{
		{"migrate", "up"},
		{"migrate", "status"},
		{"apikeys", "list"},
		{"segments", "list"},
	} {
		if r := tidings(t, env, args...); r.code != 0 {
			t.Errorf("tidings %s with pool settings in the URL:\n%s", strings.Join(args, " "), r)
		}
	}
}

func TestImportExitCodesAndSummary(t *testing.T) {
	t.Parallel()
	env, s := migratedEnv(t)
	clean := writeFile(t, "clean.csv", "external_id,email,phone\nC-1,ann@example.com,(415) 555-0123\nC-2,bo@example.com,\n")

	r := tidings(t, env, "customers", "import", clean)
	if r.code != 0 || !strings.Contains(r.stdout, "2 rows") || !strings.Contains(r.stdout, "2 inserted, 0 updated, 0 unchanged, 0 rejected") {
		t.Errorf("clean import:\n%s", r)
	}
	r = tidings(t, env, "customers", "import", clean)
	if r.code != 0 || !strings.Contains(r.stdout, "0 inserted, 0 updated, 2 unchanged, 0 rejected") {
		t.Errorf("clean import again:\n%s", r)
	}
	c, err := s.CustomerByExternalID(t.Context(), "C-1")
	if err != nil || c.Phone != "+14155550123" {
		t.Errorf("C-1 phone = %q (%v), want +14155550123 from TIDINGS_DEFAULT_REGION's default US", c.Phone, err)
	}

	dirty := writeFile(t, "dirty.csv", "external_id,email\nC-3,cy@example.com\nC-4,Cy <cy@example.com>\nC-5,not-an-email\n")
	rejects := filepath.Join(t.TempDir(), "rejects.csv")
	r = tidings(t, env, "customers", "import", dirty, "--rejects", rejects)
	if r.code != exitRejected {
		t.Errorf("import with bad rows: want exit 3\n%s", r)
	}
	if !strings.Contains(r.stderr, "2 of 3 rows rejected") || !strings.Contains(r.stdout, "1 inserted") ||
		!strings.Contains(r.stdout, `line 3: email: "Cy <cy@example.com>" is not a valid email address`) ||
		!strings.Contains(r.stdout, "rejected rows written to "+rejects) {
		t.Errorf("import with bad rows does not say which and why:\n%s", r)
	}
	got, err := os.ReadFile(rejects)
	if err != nil {
		t.Fatal(err)
	}
	want := "line,field,reason\n" +
		"3,email,\"\"\"Cy <cy@example.com>\"\" is not a valid email address\"\n" +
		"4,email,\"\"\"not-an-email\"\" is not a valid email address\"\n"
	if string(got) != want {
		t.Errorf("rejects file:\n%s\nwant:\n%s", got, want)
	}
	if _, err := s.CustomerByExternalID(t.Context(), "C-3"); err != nil {
		t.Errorf("the good row of a file with bad rows was not stored: %v", err)
	}
}

func TestImportRefusesUnusableInput(t *testing.T) {
	t.Parallel()
	env, s := migratedEnv(t)
	unknown := writeFile(t, "crm.csv", "external_id,email,Loyalty Tier\nC-1,ann@example.com,gold\n")
	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"unknown column": {[]string{"customers", "import", unknown}, `unknown column "Loyalty Tier" (column 3)`},
		"missing file":   {[]string{"customers", "import", filepath.Join(t.TempDir(), "nope.csv")}, "nope.csv"},
		"bad --map":      {[]string{"customers", "import", unknown, "--map", "Loyalty Tier"}, "want COLUMN=FIELD"},
		"no file":        {[]string{"customers", "import"}, "accepts 1 arg"},
		"unknown flag":   {[]string{"customers", "import", unknown, "--frobnicate"}, "unknown flag"},
	} {
		r := tidings(t, env, c.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: want exit 2 and %q\n%s", name, c.want, r)
		}
	}
	if n, _ := testdb.CountCustomers(t.Context(), s); n != 0 {
		t.Errorf("refused imports stored %d customers", n)
	}

	// Mapped, the same file imports.
	r := tidings(t, env, "customers", "import", unknown, "--map", "Loyalty Tier=attributes.tier", "--json")
	var sum struct{ Inserted, Rejected int }
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &sum) != nil || sum.Inserted != 1 {
		t.Errorf("mapped import with --json:\n%s", r)
	}
	c, err := s.CustomerByExternalID(t.Context(), "C-1")
	if err != nil || c.Attributes["tier"] != "gold" {
		t.Errorf("mapped column: attributes %v (%v), want tier gold", c.Attributes, err)
	}
}

// TestImportGBKFile: a file Excel saved in zh-CN is refused with exit 2,
// the line and the flag to use, and nothing stored; with --encoding gbk it
// imports with the names intact.
func TestImportGBKFile(t *testing.T) {
	t.Parallel()
	env, s := migratedEnv(t)
	gbk, err := simplifiedchinese.GBK.NewEncoder().String("external_id,first_name,last_name,city\nC-1,Ann,Lee,London\nC-2,芳,王,上海\n")
	if err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, "客户.csv", gbk)
	r := tidings(t, env, "customers", "import", file)
	if r.code != exitUsage || !strings.Contains(r.stderr, "line 3: not UTF-8") || !strings.Contains(r.stderr, "--encoding gbk") {
		t.Errorf("GBK file without --encoding: want exit 2 naming line 3 and --encoding gbk\n%s", r)
	}
	if n, _ := testdb.CountCustomers(t.Context(), s); n != 0 {
		t.Errorf("a refused file stored %d customers", n)
	}
	r = tidings(t, env, "customers", "import", file, "--encoding", "gbk")
	if r.code != 0 || !strings.Contains(r.stdout, "2 inserted") {
		t.Errorf("GBK file with --encoding gbk:\n%s", r)
	}
	if c, err := s.CustomerByExternalID(t.Context(), "C-2"); err != nil || c.FirstName != "芳" || c.LastName != "王" || c.City != "上海" {
		t.Errorf("C-2 = %+v (%v)", c, err)
	}
}

func TestImportJSONLines(t *testing.T) {
	t.Parallel()
	env, s := migratedEnv(t)
	file := writeFile(t, "people.jsonl", `{"external_id": "J-1", "email": "j1@example.com", "locale": "zh-TW", "time_zone": "Asia/Taipei"}`+"\n"+
		`{"external_id": "J-2", "emial": "j2@example.com"}`+"\n")
	r := tidings(t, env, "customers", "import", file)
	if r.code != exitRejected || !strings.Contains(r.stdout, "line 2: emial: unknown key") {
		t.Errorf("JSON Lines import with an unknown key:\n%s", r)
	}
	if c, err := s.CustomerByExternalID(t.Context(), "J-1"); err != nil || c.Locale != "zh-TW" {
		t.Errorf("J-1 = %+v, %v", c, err)
	}
}

func TestCustomersGet(t *testing.T) {
	t.Parallel()
	env, s := migratedEnv(t)
	c, _, err := s.UpsertCustomer(t.Context(), store.CustomerInput{ExternalID: "C-7", Email: testdb.String("c7@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetConsent(t.Context(), store.ConsentChange{CustomerID: c.ID, Channel: "email", Topic: "marketing", Status: store.Granted, Source: "signup_form"}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"C-7", c.ID} {
		r := tidings(t, env, "customers", "get", key)
		var got struct {
			ID, ExternalID, Email string
			Consents              []store.Consent
		}
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &got) != nil {
			t.Fatalf("get %s:\n%s", key, r)
		}
		if got.ID != c.ID || got.Email != "c7@example.com" || len(got.Consents) != 1 || got.Consents[0].Status != store.Granted {
			t.Errorf("get %s = %+v", key, got)
		}
	}
	r := tidings(t, env, "customers", "get", "C-404")
	if r.code != exitFailure || !strings.Contains(r.stderr, `no customer with ID or external ID "C-404"`) {
		t.Errorf("get unknown:\n%s", r)
	}
}

func TestEventsSendIsIdempotent(t *testing.T) {
	t.Parallel()
	env, s := migratedEnv(t)
	if _, _, err := s.UpsertCustomer(t.Context(), store.CustomerInput{ExternalID: "C-1"}); err != nil {
		t.Fatal(err)
	}
	send := []string{"events", "send", "--customer", "C-1", "--type", "purchase", "--id", "order-77",
		"--prop", "amount=42.50", "--prop", "currency=USD", "--occurred-at", "2026-04-01T10:00:00+08:00"}

	r := tidings(t, env, send...)
	if r.code != 0 || r.stdout != "event order-77 (purchase for C-1) recorded\n" {
		t.Errorf("first send:\n%s", r)
	}
	r = tidings(t, env, send...)
	if r.code != 0 || r.stdout != "event order-77 (purchase for C-1) already recorded (nothing changed)\n" {
		t.Errorf("second send:\n%s", r)
	}
	c, err := s.CustomerByExternalID(t.Context(), "C-1")
	if err != nil {
		t.Fatal(err)
	}
	if c.OrdersCount != 1 || c.TotalSpent != 42.5 || c.LastPurchaseAt == nil || c.LastPurchaseAt.UTC().Hour() != 2 {
		t.Errorf("after sending order-77 twice: %d orders, %.2f spent, last purchase %v; want 1, 42.50, 02:00 UTC",
			c.OrdersCount, c.TotalSpent, c.LastPurchaseAt)
	}
	evs, err := s.CustomerEvents(t.Context(), c.ID, "purchase", c.CreatedAt.AddDate(-1, 0, 0), 10)
	if err != nil || len(evs) != 1 || evs[0].Properties["currency"] != "USD" || evs[0].Properties["amount"] != 42.5 {
		t.Errorf("stored events = %+v, %v; want one with amount 42.5 (a number) and currency USD", evs, err)
	}

	file := writeFile(t, "event.json", `{"event_id": "signup-1", "customer": "C-1", "type": "signup", "properties": {"source": "app"}}`)
	r = tidings(t, env, "events", "send", "--file", file)
	if r.code != 0 || !strings.Contains(r.stdout, "event signup-1 (signup for C-1) recorded") {
		t.Errorf("send from a file:\n%s", r)
	}
}

func TestEventsSendRefusesBadInput(t *testing.T) {
	t.Parallel()
	env, s := migratedEnv(t)
	if _, _, err := s.UpsertCustomer(t.Context(), store.CustomerInput{ExternalID: "C-1"}); err != nil {
		t.Fatal(err)
	}
	badFile := writeFile(t, "event.json", `{"event_id": "e", "customer": "C-1", "kind": "signup"}`)
	for name, c := range map[string]struct {
		args []string
		code int
		want string
	}{
		"no customer":    {[]string{"--type", "signup"}, exitUsage, "customer: is required"},
		"bad type":       {[]string{"--customer", "C-1", "--type", "Signed Up"}, exitUsage, "type:"},
		"text amount":    {[]string{"--customer", "C-1", "--type", "purchase", "--prop", "amount=ten"}, exitUsage, "properties.amount"},
		"bad --prop":     {[]string{"--customer", "C-1", "--type", "signup", "--prop", "novalue"}, exitUsage, "want KEY=VALUE"},
		"bad time":       {[]string{"--customer", "C-1", "--type", "signup", "--occurred-at", "yesterday"}, exitUsage, "--occurred-at"},
		"unknown key":    {[]string{"--file", badFile}, exitUsage, `unknown field "kind"`},
		"unknown person": {[]string{"--customer", "C-404", "--type", "signup"}, exitFailure, `"C-404"`},
	} {
		r := tidings(t, env, append([]string{"events", "send"}, c.args...)...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: want exit %d and %q\n%s", name, c.code, c.want, r)
		}
	}
	var n int
	if err := s.Pool().QueryRow(t.Context(), `SELECT count(*) FROM events`).Scan(&n); err != nil || n != 0 {
		t.Errorf("refused sends stored %d events (%v)", n, err)
	}
}

func TestInvalidConfigurationExits2AndNamesTheVariable(t *testing.T) {
	t.Parallel()
	r := tidings(t, map[string]string{"TIDINGS_LOG_LEVEL": "loud"}, "version")
	if r.code != exitUsage || !strings.Contains(r.stderr, "TIDINGS_LOG_LEVEL") || !strings.Contains(r.stderr, "loud") {
		t.Errorf("bad TIDINGS_LOG_LEVEL:\n%s", r)
	}
	r = tidings(t, nil, "version", "--smtp-connections", "0")
	if r.code != exitUsage || !strings.Contains(r.stderr, "TIDINGS_SMTP_CONNECTIONS (from --smtp-connections)") {
		t.Errorf("bad --smtp-connections:\n%s", r)
	}
	r = tidings(t, map[string]string{"TIDINGS_DATABASE_URL": "mysql://localhost/x"}, "customers", "get", "x")
	if r.code != exitUsage || !strings.Contains(r.stderr, "TIDINGS_DATABASE_URL") {
		t.Errorf("bad TIDINGS_DATABASE_URL:\n%s", r)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	r := tidings(t, nil, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "tidings dev (go") || !strings.Contains(r.stdout, fmt.Sprintf("schema %d)", store.LatestVersion())) {
		t.Errorf("version:\n%s", r)
	}
}

func TestHelpOfEveryCommand(t *testing.T) {
	t.Parallel()
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				walk(sub, append(append([]string{}, path...), sub.Name()))
			}
		}
	}
	var sink bytes.Buffer
	root := newRootCmd(&app{getenv: func(string) string { return "" }, stdout: &sink, stderr: &sink})
	walk(root, nil)
	for _, want := range []string{"migrate up", "migrate status", "customers import", "customers get", "events send", "version"} {
		found := false
		for _, p := range paths {
			found = found || strings.Join(p, " ") == want
		}
		if !found {
			t.Errorf("no command %q", want)
		}
	}
	for _, p := range paths {
		cmd, _, err := root.Find(p)
		if err != nil {
			t.Fatal(err)
		}
		r := tidings(t, nil, append(p, "--help")...)
		name := strings.Join(append([]string{"tidings"}, p...), " ")
		if r.code != 0 || !strings.Contains(r.stdout, "Usage:") || !strings.Contains(r.stdout, name) || r.stderr != "" {
			t.Errorf("%s --help:\n%s", name, r)
			continue
		}
		if cmd.Short == "" || !strings.Contains(r.stdout, strings.TrimSpace(firstLine(cmd.Long, cmd.Short))) {
			t.Errorf("%s --help does not describe the command:\n%s", name, r.stdout)
		}
	}
}

func firstLine(long, short string) string {
	if long == "" {
		return short
	}
	line, _, _ := strings.Cut(long, "\n")
	return line
}
