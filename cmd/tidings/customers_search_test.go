package main

import (
	"strings"
	"testing"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

func TestCustomersSearchAndTimeline(t *testing.T) {
	t.Parallel()
	env, s := migratedEnv(t)
	env["TIDINGS_DEFAULT_REGION"] = "US"
	c, _, err := s.UpsertCustomer(t.Context(), store.CustomerInput{ExternalID: "C-7", Email: testdb.String("ada@example.com"),
		Phone: testdb.String("+14155550100"), FirstName: testdb.String("Ada"), LastName: testdb.String("Lovelace"), Tags: []string{"vip"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetConsent(t.Context(), store.ConsentChange{CustomerID: c.ID, Channel: "email", Topic: "marketing", Status: store.Granted, Source: "signup_form"}); err != nil {
		t.Fatal(err)
	}
	for _, q := range [][]string{{"ada lo"}, {"(415) 555-0100"}, {"--tag", "vip"}, {"ADA@example.com"}} {
		r := tidings(t, env, append([]string{"customers", "search"}, q...)...)
		if r.code != 0 || !strings.Contains(r.stdout, "C-7  ") || !strings.Contains(r.stdout, "Ada Lovelace") {
			t.Errorf("search %q:\n%s", q, r)
		}
	}
	// A Chinese name is listed family name first, without a space.
	if _, _, err := s.UpsertCustomer(t.Context(), store.CustomerInput{ExternalID: "C-8", FirstName: testdb.String("芳"), LastName: testdb.String("王")}); err != nil {
		t.Fatal(err)
	}
	if r := tidings(t, env, "customers", "search", "C-8"); r.code != 0 || !strings.Contains(r.stdout, "王芳") {
		t.Errorf("search C-8:\n%s", r)
	}
	if r := tidings(t, env, "customers", "search", "grace"); r.code != 0 || !strings.Contains(r.stdout, "no customers found") {
		t.Errorf("search for nobody:\n%s", r)
	}
	if r := tidings(t, env, "customers", "search", "--phone", "12"); r.code != exitUsage || !strings.Contains(r.stderr, "phone") {
		t.Errorf("search a bad phone:\n%s", r)
	}
	r := tidings(t, env, "customers", "timeline", "C-7")
	if r.code != 0 || !strings.Contains(r.stdout, "consent") || !strings.Contains(r.stdout, "channel=email topic=marketing status=granted source=signup_form") {
		t.Errorf("timeline:\n%s", r)
	}
}
