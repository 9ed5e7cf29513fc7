package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tidingsdev/tidings/activities"
	"github.com/tidingsdev/tidings/internal/channels/email"
	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
	"github.com/tidingsdev/tidings/internal/token"
	"github.com/tidingsdev/tidings/templates"
	"github.com/tidingsdev/tidings/worker"
)

// testDeps wires the send path and the journeys as `tidings worker` does,
// with the production defaults (quiet hours on, built-in templates).
func testDeps(t *testing.T) Deps {
	set, err := templates.Load(templates.Options{DefaultLocale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	return Deps{
		DatabaseURL: testdb.AdminURL(),
		SendPath: func(st *store.Store, smtpURL string, conns int) (*delivery.Service, func(), error) {
			mailer, err := email.New(email.Config{URL: smtpURL, From: "hello@tidings.example", FromName: "Tidings", Connections: conns})
			if err != nil {
				return nil, nil, err
			}
			svc, err := delivery.New(st, set, mailer, nil, delivery.Options{
				QuietHours: "21:00-09:00", DefaultLocale: "en", PublicURL: "http://127.0.0.1:8080",
				UnsubscribeMailto: "unsubscribe@tidings.example",
				Company:           templates.Company{Name: "Tidings", PostalAddress: "1 Harbour Road, Hong Kong"},
				Signer:            token.NewSigner("bench-test-secret-0123456789"),
			})
			if err != nil {
				_ = mailer.Close()
				return nil, nil, err
			}
			return svc, func() { _ = mailer.Close() }, nil
		},
		JourneyDeps: func(st *store.Store, send activities.Sender) worker.Deps {
			return worker.Deps{Store: st, Sender: send, Settings: activities.Settings{
				CareTeamEmail: "care@tidings.example", CouponSecret: []byte("bench-test-coupons"),
			}}
		},
		Log: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// TestEveryScenarioAtSmokeSize runs each scenario end to end at a tiny size,
// so the benchmarks cannot rot: the real worker, send path, API and router
// against an embedded Temporal server, PostgreSQL and the SMTP sink. Run
// fails on a broken invariant (a message lost or sent twice, an event not
// stored or not routed); speed is not checked here.
func TestEveryScenarioAtSmokeSize(t *testing.T) {
	if testing.Short() {
		t.Skip("starts embedded Temporal servers")
	}
	deps := testDeps(t)
	rep := Report{}
	for _, s := range Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			before := benchDatabases(t)
			res, err := Run(t.Context(), deps, s, s.Smoke)
			if err != nil {
				t.Fatal(err)
			}
			if res.Scenario != s.Name || res.N != s.Smoke || len(res.Checks) == 0 || res.Baseline == "" {
				t.Errorf("result %+v lacks its scenario, size, checks or baseline", res)
			}
			compared := 0
			for _, row := range res.Rows {
				if row.Ratio != nil {
					compared++
					if math.IsNaN(*row.Ratio) || math.IsInf(*row.Ratio, 0) || *row.Ratio <= 0 {
						t.Errorf("%s: ratio %v", row.Name, *row.Ratio)
					}
				}
			}
			if compared == 0 {
				t.Error("no figure is compared with its baseline")
			}
			if len(res.Goals) == 0 {
				t.Error("no goal is reported")
			}
			var out bytes.Buffer
			Print(&out, res)
			for _, want := range []string{s.Name, "baseline", "ratio", "goals:", "checks:"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("table lacks %q:\n%s", want, out.String())
				}
			}
			if left := newNames(before, benchDatabases(t)); len(left) > 0 {
				t.Errorf("scratch databases left behind: %v", left)
			}
			rep.Results = append(rep.Results, res)
		})
	}

	path := filepath.Join(t.TempDir(), "out", "bench.json")
	if err := WriteJSON(path, rep); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil || len(back.Results) != len(rep.Results) {
		t.Errorf("JSON report does not read back: %v, %d results", err, len(back.Results))
	}
}

func TestScenarioNamesAndSizesAreChecked(t *testing.T) {
	if _, err := Lookup("nope"); err == nil || !strings.Contains(err.Error(), "blast, journeys, sweep, ingest") {
		t.Errorf("Lookup(nope) = %v, want an error listing the scenarios", err)
	}
	s, err := Lookup("sweep")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), testDeps(t), s, 0); err == nil || !strings.Contains(err.Error(), "n must be positive") {
		t.Errorf("Run with n=0 = %v, want an error naming n", err)
	}
	if _, err := Run(context.Background(), Deps{}, s, 10); err == nil || !strings.Contains(err.Error(), "DatabaseURL") {
		t.Errorf("Run without deps = %v, want an error naming what is missing", err)
	}
}

// benchDatabases lists the scratch databases on the server.
func benchDatabases(t *testing.T) []string {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), testdb.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	rows, err := conn.Query(t.Context(), `SELECT datname FROM pg_database WHERE datname LIKE 'tidings\_bench\_%'`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func newNames(before, after []string) []string {
	var out []string
	for _, n := range after {
		if !slices.Contains(before, n) {
			out = append(out, n)
		}
	}
	return out
}
