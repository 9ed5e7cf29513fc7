package store_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

func TestUpsertCustomerInsertsThenUpdatesThenLeavesAlone(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := testdb.New(t)
	in := store.CustomerInput{
		ExternalID: "C-1",
		Email:      testdb.String("ann@example.com"),
		Phone:      testdb.String("+8613800138000"),
		FirstName:  testdb.String("Ann"),
		LastName:   testdb.String("Lee"),
		Locale:     testdb.String("zh-CN"),
		TimeZone:   testdb.String("Asia/Shanghai"),
		Birthday:   testdb.String("1990-02-28"),
		Country:    testdb.String("CN"),
		Region:     testdb.String("Shanghai"),
		City:       testdb.String("Shanghai"),
		Gender:     testdb.String("female"),
		Tags:       []string{"vip", "newsletter"},
		Attributes: map[string]any{"plan": "gold", "seats": 3.0},
	}

	c, outcome, err := s.UpsertCustomer(ctx, in)
	if err != nil {
		t.Fatalf("insert: %v", err)
	}
	if outcome != store.Inserted {
		t.Errorf("first upsert outcome = %s, want inserted", outcome)
	}
	want := store.Customer{
		ID: c.ID, ExternalID: "C-1", Email: "ann@example.com", Phone: "+8613800138000",
		FirstName: "Ann", LastName: "Lee", Locale: "zh-CN", TimeZone: "Asia/Shanghai",
		Country: "CN", Region: "Shanghai", City: "Shanghai", Gender: "female",
		Tags: []string{"vip", "newsletter"}, Attributes: map[string]any{"plan": "gold", "seats": 3.0},
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Birthday: c.Birthday,
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("stored customer\n got %+v\nwant %+v", c, want)
	}
	if c.Birthday == nil || c.Birthday.Format(time.DateOnly) != "1990-02-28" {
		t.Errorf("birthday = %v, want 1990-02-28", c.Birthday)
	}
	if c.Location().String() != "Asia/Shanghai" {
		t.Errorf("Location = %s, want Asia/Shanghai", c.Location())
	}

	again, outcome, err := s.UpsertCustomer(ctx, in)
	if err != nil {
		t.Fatalf("re-upsert: %v", err)
	}
	if outcome != store.Unchanged {
		t.Errorf("same profile again: outcome = %s, want unchanged", outcome)
	}
	if !again.UpdatedAt.Equal(c.UpdatedAt) {
		t.Errorf("unchanged upsert moved updated_at from %s to %s", c.UpdatedAt, again.UpdatedAt)
	}

	in.City = testdb.String("Hangzhou")
	moved, outcome, err := s.UpsertCustomer(ctx, in)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if outcome != store.Updated {
		t.Errorf("changed city: outcome = %s, want updated", outcome)
	}
	if moved.ID != c.ID || moved.City != "Hangzhou" {
		t.Errorf("after update: id %s city %q, want id %s city Hangzhou", moved.ID, moved.City, c.ID)
	}
	if !moved.UpdatedAt.After(c.UpdatedAt) {
		t.Errorf("update kept updated_at at %s", moved.UpdatedAt)
	}
	if !moved.CreatedAt.Equal(c.CreatedAt) {
		t.Errorf("update changed created_at from %s to %s", c.CreatedAt, moved.CreatedAt)
	}
}

func TestUpsertNilKeepsStoredValuesAndEmptyClearsContact(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := testdb.New(t)
	first := store.CustomerInput{
		ExternalID: "C-2",
		Email:      testdb.String("bo@example.com"),
		Phone:      testdb.String("+14155550123"),
		FirstName:  testdb.String("Bo"),
		Locale:     testdb.String("en"),
		TimeZone:   testdb.String("America/New_York"),
		Birthday:   testdb.String("1985-07-04"),
		Tags:       []string{"a"},
		Attributes: map[string]any{"plan": "free", "source": "web"},
	}
	if _, _, err := s.UpsertCustomer(ctx, first); err != nil {
		t.Fatal(err)
	}

	// A later file only knows the external ID and a new plan: nothing else
	// may be wiped, and the other attribute stays.
	c, outcome, err := s.UpsertCustomer(ctx, store.CustomerInput{
		ExternalID: "C-2",
		Attributes: map[string]any{"plan": "pro"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if outcome != store.Updated {
		t.Errorf("outcome = %s, want updated", outcome)
	}
	if c.Email != "bo@example.com" || c.Phone != "+14155550123" || c.FirstName != "Bo" ||
		c.TimeZone != "America/New_York" || c.Birthday == nil || !reflect.DeepEqual(c.Tags, []string{"a"}) {
		t.Errorf("a partial upsert wiped stored values: %+v", c)
	}
	if want := map[string]any{"plan": "pro", "source": "web"}; !reflect.DeepEqual(c.Attributes, want) {
		t.Errorf("attributes = %v, want %v (merged key by key)", c.Attributes, want)
	}

	// An explicit empty string clears email and phone.
	c, _, err = s.UpsertCustomer(ctx, store.CustomerInput{
		ExternalID: "C-2", Email: testdb.String(""), Phone: testdb.String(""),
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Email != "" || c.Phone != "" {
		t.Errorf("after clearing: email %q phone %q, want both empty", c.Email, c.Phone)
	}
	if c.FirstName != "Bo" {
		t.Errorf("clearing contact details also changed first name to %q", c.FirstName)
	}
	var nulls int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM customers WHERE email IS NULL AND phone IS NULL`).Scan(&nulls); err != nil {
		t.Fatal(err)
	}
	if nulls != 1 {
		t.Errorf("cleared email and phone are not stored as NULL (%d rows)", nulls)
	}
}

func TestUpsertDefaultsForANewCustomer(t *testing.T) {
	t.Parallel()
	s, _ := testdb.New(t)
	c, _, err := s.UpsertCustomer(t.Context(), store.CustomerInput{ExternalID: "bare"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Locale != "en" || c.TimeZone != "UTC" || c.Email != "" || len(c.Tags) != 0 || len(c.Attributes) != 0 {
		t.Errorf("new customer with only an external ID = %+v, want locale en, zone UTC, nothing else", c)
	}
}

func TestUpsertSameBatchTwiceChangesNothing(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := testdb.New(t)
	batch := make([]store.CustomerInput, 50)
	for i := range batch {
		batch[i] = store.CustomerInput{
			ExternalID: fmt.Sprintf("B-%03d", i),
			Email:      testdb.String(fmt.Sprintf("b%03d@example.com", i)),
			FirstName:  testdb.String("B"),
			Tags:       []string{"t"},
			Attributes: map[string]any{"n": float64(i)},
		}
	}
	first, err := s.UpsertCustomers(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if got := outcomes(first); got[store.Inserted] != 50 || len(first) != 50 {
		t.Fatalf("first batch outcomes = %v, want 50 inserted", got)
	}
	before := updatedAts(t, s)

	second, err := s.UpsertCustomers(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if got := outcomes(second); got[store.Unchanged] != 50 || len(second) != 50 {
		t.Errorf("same batch again: outcomes = %v, want 50 unchanged", got)
	}
	ids := map[string]string{}
	for _, r := range first {
		ids[r.ExternalID] = r.ID
	}
	for _, r := range second {
		if ids[r.ExternalID] != r.ID {
			t.Errorf("%s: second upsert reported id %s, first %s", r.ExternalID, r.ID, ids[r.ExternalID])
		}
	}
	if after := updatedAts(t, s); !reflect.DeepEqual(before, after) {
		t.Errorf("re-upserting the same batch moved updated_at")
	}

	// One changed row in an otherwise identical batch.
	batch[7].FirstName = testdb.String("Changed")
	third, err := s.UpsertCustomers(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if got := outcomes(third); got[store.Updated] != 1 || got[store.Unchanged] != 49 {
		t.Errorf("one changed row: outcomes = %v, want 1 updated, 49 unchanged", got)
	}
	for _, r := range third {
		if r.Outcome == store.Updated && r.ExternalID != "B-007" {
			t.Errorf("updated %s, want B-007", r.ExternalID)
		}
	}
}

func TestUpsertRefusesDuplicateExternalIDInOneBatch(t *testing.T) {
	t.Parallel()
	s, _ := testdb.New(t)
	_, err := s.UpsertCustomers(t.Context(), []store.CustomerInput{{ExternalID: "X"}, {ExternalID: "Y"}, {ExternalID: "X"}})
	if err == nil {
		t.Fatal("a batch with X twice was accepted")
	}
	if n, _ := testdb.CountCustomers(t.Context(), s); n != 0 {
		t.Errorf("a refused batch stored %d customers", n)
	}
}

func TestCustomerLookup(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := testdb.New(t)
	id := addCustomer(t, s, "EXT-9")

	byID, err := s.Customer(ctx, id)
	if err != nil {
		t.Fatalf("by id: %v", err)
	}
	byExt, err := s.CustomerByExternalID(ctx, "EXT-9")
	if err != nil {
		t.Fatalf("by external id: %v", err)
	}
	if byID.ExternalID != "EXT-9" || byExt.ID != id {
		t.Errorf("lookups disagree: by id %s/%s, by external id %s/%s", byID.ID, byID.ExternalID, byExt.ID, byExt.ExternalID)
	}

	if _, err := s.Customer(ctx, "00000000-0000-0000-0000-000000000001"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown id: err = %v, want ErrNotFound", err)
	}
	if _, err := s.CustomerByExternalID(ctx, "EXT-404"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown external id: err = %v, want ErrNotFound", err)
	}
}

func TestBirthdayOnFebruary29(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := testdb.New(t)
	c, _, err := s.UpsertCustomer(ctx, store.CustomerInput{ExternalID: "leap", Birthday: testdb.String("2000-02-29")})
	if err != nil {
		t.Fatal(err)
	}
	if c.Birthday.Format(time.DateOnly) != "2000-02-29" {
		t.Errorf("birthday = %s, want 2000-02-29", c.Birthday.Format(time.DateOnly))
	}
	// The birthday sweep finds customers by month and day through birthday_md.
	var md int
	if err := s.Pool().QueryRow(ctx, `SELECT birthday_md FROM customers WHERE id = $1`, c.ID).Scan(&md); err != nil {
		t.Fatal(err)
	}
	if md != 229 {
		t.Errorf("birthday_md = %d, want 229", md)
	}
}

func TestCustomerPageVisitsEveryCustomerOnceInOrder(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := testdb.New(t)
	const total, pageSize = 2537, 500
	want := map[string]bool{}
	batch := make([]store.CustomerInput, 0, 1000)
	for i := range total {
		batch = append(batch, store.CustomerInput{ExternalID: fmt.Sprintf("P-%05d", i)})
		if len(batch) == cap(batch) || i == total-1 {
			res, err := s.UpsertCustomers(ctx, batch)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res {
				want[r.ID] = true
			}
			batch = batch[:0]
		}
	}
	if len(want) != total {
		t.Fatalf("stored %d customers, want %d", len(want), total)
	}

	seen := map[string]bool{}
	after, pages, prev := "", 0, ""
	for {
		page, err := s.CustomerPage(ctx, after, pageSize)
		if err != nil {
			t.Fatalf("page %d: %v", pages+1, err)
		}
		if len(page) == 0 {
			break
		}
		pages++
		if len(page) > pageSize {
			t.Fatalf("page %d has %d rows, limit %d", pages, len(page), pageSize)
		}
		for _, c := range page {
			if seen[c.ID] {
				t.Errorf("customer %s seen twice", c.ID)
			}
			if c.ID <= prev {
				t.Errorf("customer %s comes after %s: not in ID order", c.ID, prev)
			}
			seen[c.ID], prev = true, c.ID
		}
		after = page[len(page)-1].ID
	}
	if pages != 6 {
		t.Errorf("%d pages of %d, want 6", pages, pageSize)
	}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("paging saw %d customers, want exactly the %d stored", len(seen), len(want))
	}
	if n, err := testdb.CountCustomers(ctx, s); err != nil || n != total {
		t.Errorf("CountCustomers = %d, %v; want %d", n, err, total)
	}
}

func outcomes(rs []store.UpsertResult) map[string]int {
	out := map[string]int{}
	for _, r := range rs {
		out[r.Outcome]++
	}
	return out
}

func updatedAts(t *testing.T, s *store.Store) map[string]time.Time {
	t.Helper()
	rows, err := s.Pool().Query(t.Context(), `SELECT external_id, updated_at FROM customers`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var id string
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			t.Fatal(err)
		}
		out[id] = at
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCustomerIDsByKeyResolvesIDsAndExternalIDs(t *testing.T) {
	s, _ := testdb.New(t)
	a := addCustomer(t, s, "C-1")
	b := addCustomer(t, s, "C-2")
	// An external ID that looks like another customer's ID: the ID wins,
	// as it does for one lookup.
	c := addCustomer(t, s, a)
	erased := addCustomer(t, s, "C-3")
	if err := s.EraseCustomer(t.Context(), erased); err != nil {
		t.Fatal(err)
	}

	got, err := s.CustomerIDsByKey(t.Context(), []string{a, strings.ToUpper(b), "C-2", "C-9", a, "", erased})
	if err != nil {
		t.Fatal(err)
	}
	if got[a] != a || got[strings.ToUpper(b)] != b || got["C-2"] != b {
		t.Errorf("resolved %v, want %s for its ID, %s for its ID in capitals and for C-2", got, a, b)
	}
	if _, ok := got["C-9"]; ok {
		t.Error("an unknown key resolved")
	}
	if _, ok := got[erased]; ok {
		t.Error("an erased customer resolved")
	}
	if got[a] == c {
		t.Error("an external ID won over the customer whose ID it is")
	}
	if len(got) != 3 {
		t.Errorf("resolved %d keys, want 3", len(got))
	}
}
