package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"

	"github.com/tidingsdev/tidings/internal/devserver"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
	"github.com/tidingsdev/tidings/workflows"
)

// TestNoPIIInTemporal plants unique strings in a customer's name, email
// address and phone number, in the properties of their events and in their
// survey comment, runs onboarding (converted by a purchase) and a survey
// (a detractor who comments) through the API, and then reads everything
// the embedded Temporal server persisted: none of the strings is there,
// while the events' IDs are (so the search does see what workflows carry).
// The customer's mail and the care team's alert still show them: the
// activities read them from PostgreSQL.
func TestNoPIIInTemporal(t *testing.T) {
	for _, persistence := range []string{devserver.SQLite, devserver.Postgres} {
		t.Run(persistence, func(t *testing.T) {
			var scan func() []byte
			e := newEnv(t, setup{
				Temporal: func(t *testing.T, dsn string) client.Client {
					c, dump := embeddedTemporal(t, persistence, dsn)
					scan = dump
					return c
				},
				Journeys: workflows.Settings{}.Set(workflows.Survey, "delay", time.Second).
					Set(workflows.Survey, "answer_wait", time.Minute).Set(workflows.Survey, "comment_wait", 30*time.Second),
			})
			tag := randomHex(t)
			pii := map[string]string{
				"first name":     "Zorvane" + tag,
				"email":          "inbox-" + tag + "@example.com",
				"phone":          "+14155" + phoneDigits(tag),
				"signup source":  "signup-note-" + tag,
				"delivery note":  "parcel-note-" + tag,
				"gift message":   "gift-message-" + tag,
				"survey comment": "The lid was cracked " + tag,
			}
			id := e.customer(store.CustomerInput{ExternalID: "P-" + tag, FirstName: ptr(pii["first name"]),
				Email: ptr(pii["email"]), Phone: ptr(pii["phone"]), TimeZone: ptr(awake(t))})
			ids := []string{"signup-" + tag, "delivered-" + tag, "order-" + tag}

			e.event(ids[0], "P-"+tag, workflows.EventSignup, map[string]any{"source": pii["signup source"]}, http.StatusCreated)
			if welcome := e.waitMail(pii["email"], 1)[0]; !strings.Contains(welcome.Text, pii["first name"]) {
				t.Errorf("welcome does not greet the customer by name:\n%s", welcome.Text)
			}
			e.event(ids[1], "P-"+tag, workflows.EventOrderDelivered, map[string]any{"note": pii["delivery note"]}, http.StatusCreated)
			e.event(ids[2], "P-"+tag, workflows.EventPurchase, map[string]any{
				"amount": 42.5, "currency": "EUR", "gift_message": pii["gift message"]}, http.StatusCreated)

			var onb workflows.OnboardingResult
			e.result(workflows.JourneyID(workflows.Onboarding, id), &onb)
			var revenue float64
			var currency string
			if err := e.store.Pool().QueryRow(t.Context(), `SELECT revenue::float8, currency FROM conversions
				WHERE customer_id = $1 AND journey = $2`, id, workflows.Onboarding).Scan(&revenue, &currency); err != nil {
				t.Fatalf("onboarding %+v recorded no conversion: %v", onb, err)
			}
			if onb.Outcome != workflows.OutcomeConverted || revenue != 42.5 || currency != "EUR" {
				t.Errorf("onboarding %+v, conversion %v %s; want converted with the order's 42.50 EUR", onb, revenue, currency)
			}

			ask := e.waitMail(pii["email"], 2)[1]
			link := regexp.MustCompile(`https://\S+/s/[A-Za-z0-9_.~-]+`).FindString(ask.Text)
			if link == "" {
				t.Fatalf("survey email %q has no answer link:\n%s", ask.Subject, ask.Text)
			}
			e.answerSurvey(link, 3, pii["survey comment"])
			if alert := e.waitMail(careTeam, 1)[0]; !strings.Contains(alert.Text, pii["survey comment"]) {
				t.Errorf("care alert does not carry the comment:\n%s", alert.Text)
			}
			var sv workflows.SurveyResult
			e.result(workflows.JourneyID(workflows.Survey, id), &sv)
			if sv.Outcome != workflows.OutcomeDetractor || sv.Score == nil || *sv.Score != 3 {
				t.Errorf("survey %+v, want a detractor scoring 3", sv)
			}

			state := scan()
			for _, want := range ids {
				if !contains(state, want) {
					t.Errorf("Temporal's state has no event ID %s: the search does not see what workflows carry", want)
				}
			}
			for what, s := range pii {
				if contains(state, s) {
					t.Errorf("Temporal's %s state holds the customer's %s %q", persistence, what, s)
				}
			}
		})
	}
}

// embeddedTemporal starts the embedded Temporal server with the given
// persistence (PostgreSQL beside the environment's database) and returns a
// client and a function that reads everything it persisted.
func embeddedTemporal(t *testing.T, persistence, dsn string) (client.Client, func() []byte) {
	t.Helper()
	opt := devserver.Options{Persistence: persistence, DataDir: t.TempDir(), FrontendPort: devserver.AnyPort,
		Logger: slog.New(slog.DiscardHandler)}
	var dbs []string
	if persistence == devserver.Postgres {
		opt.PostgresURL = dsn
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		base := strings.TrimPrefix(u.Path, "/")
		dbs = []string{base + "_temporal", base + "_temporal_visibility"}
		t.Cleanup(func() { dropDatabases(t, dbs) })
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	srv, err := devserver.Start(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	c, err := client.Dial(srv.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, func() []byte {
		if persistence == devserver.Postgres {
			return dumpPostgres(t, dsn, dbs)
		}
		return dumpFiles(t, opt.DataDir)
	}
}

// dumpFiles reads every file of the SQLite store (databases, write-ahead
// logs) as it is on disk.
func dumpFiles(t *testing.T, dir string) []byte {
	t.Helper()
	var all []byte
	paths, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	if len(all) == 0 {
		t.Fatalf("no SQLite files in %s", dir)
	}
	return all
}

// dumpPostgres reads every row of every table of Temporal's databases
// (executions, history, memos and search attributes in visibility) as text,
// byte columns in hex.
func dumpPostgres(t *testing.T, dsn string, dbs []string) []byte {
	t.Helper()
	var all bytes.Buffer
	for _, db := range dbs {
		u, _ := url.Parse(dsn)
		u.Path = "/" + db
		conn, err := pgx.Connect(t.Context(), u.String())
		if err != nil {
			t.Fatal(err)
		}
		rows, err := conn.Query(t.Context(), `SELECT quote_ident(table_name) FROM information_schema.tables
			WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
		if err != nil {
			t.Fatal(err)
		}
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, table := range tables {
			rows, err := conn.Query(t.Context(), `SELECT t::text FROM `+table+` t`)
			if err != nil {
				t.Fatal(err)
			}
			texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range texts {
				all.WriteString(s)
				all.WriteByte('\n')
			}
		}
		_ = conn.Close(t.Context())
	}
	return all.Bytes()
}

// contains reports whether state holds s as text or as the hex PostgreSQL
// writes byte columns in.
func contains(state []byte, s string) bool {
	return bytes.Contains(state, []byte(s)) || bytes.Contains(state, []byte(hex.EncodeToString([]byte(s))))
}

func dropDatabases(t *testing.T, dbs []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, testdb.AdminURL())
	if err != nil {
		t.Logf("drop %v: %v", dbs, err)
		return
	}
	defer c.Close(ctx)
	for _, db := range dbs {
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)"); err != nil {
			t.Logf("drop %s: %v", db, err)
		}
	}
}

func randomHex(t *testing.T) string {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// phoneDigits turns the tag into six digits, for a phone number as unique
// as the other strings.
func phoneDigits(tag string) string {
	var n uint64
	_, _ = fmt.Sscanf(tag, "%x", &n)
	return fmt.Sprintf("%06d", n%1000000)
}
