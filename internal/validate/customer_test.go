package validate

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
)

func ptr(s string) *string { return &s }

var today = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func TestCustomerNormalises(t *testing.T) {
	in := store.CustomerInput{
		ExternalID: "  C-1 ",
		Email:      ptr("Ann@Example.COM"),
		Phone:      ptr("138 0013 8000"),
		Locale:     ptr("zh_cn"),
		TimeZone:   ptr("Asia/Shanghai"),
		Birthday:   ptr("2000-02-29"),
		Gender:     ptr("Female"),
		Country:    ptr("cn"),
		Tags:       []string{" vip ", "beta"},
	}
	if err := Customer(&in, CustomerOptions{DefaultRegion: "CN", Now: today}); err != nil {
		t.Fatalf("valid profile refused: %v", err)
	}
	want := store.CustomerInput{
		ExternalID: "C-1", Email: ptr("Ann@example.com"), Phone: ptr("+8613800138000"), Locale: ptr("zh-CN"),
		TimeZone: ptr("Asia/Shanghai"), Birthday: ptr("2000-02-29"), Gender: ptr("female"), Country: ptr("CN"),
		Tags: []string{"vip", "beta"},
	}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("normalised to %+v, want %+v", in, want)
	}
}

func TestCustomerEmptyValues(t *testing.T) {
	// Empty email and phone mean "clear"; an empty birthday means "leave".
	in := store.CustomerInput{ExternalID: "C-2", Email: ptr(""), Phone: ptr(""), Birthday: ptr("")}
	if err := Customer(&in, CustomerOptions{Now: today}); err != nil {
		t.Fatalf("empty values refused: %v", err)
	}
	if in.Email == nil || *in.Email != "" || in.Phone == nil || *in.Phone != "" || in.Birthday != nil {
		t.Errorf("after validation: email %v phone %v birthday %v", in.Email, in.Phone, in.Birthday)
	}
}

func TestCustomerNamesEveryBadField(t *testing.T) {
	for _, c := range []struct {
		name  string
		in    store.CustomerInput
		field string
		msg   string
	}{
		{"no external id", store.CustomerInput{ExternalID: "  "}, "external_id", "is required"},
		{"long external id", store.CustomerInput{ExternalID: strings.Repeat("x", 201)}, "external_id", "longer than 200"},
		{"email", store.CustomerInput{ExternalID: "x", Email: ptr("Ann <a@b.com>")}, "email", "not a valid email address"},
		{"phone", store.CustomerInput{ExternalID: "x", Phone: ptr("12345")}, "phone", "not a valid phone number"},
		{"locale", store.CustomerInput{ExternalID: "x", Locale: ptr("klingon")}, "locale", "not a locale"},
		{"empty locale", store.CustomerInput{ExternalID: "x", Locale: ptr("")}, "locale", "empty"},
		{"zone", store.CustomerInput{ExternalID: "x", TimeZone: ptr("EST")}, "time_zone", "ambiguous"},
		{"impossible birthday", store.CustomerInput{ExternalID: "x", Birthday: ptr("2023-02-29")}, "birthday", "not a date"},
		{"future birthday", store.CustomerInput{ExternalID: "x", Birthday: ptr("2026-05-02")}, "birthday", "in the future"},
		{"ancient birthday", store.CustomerInput{ExternalID: "x", Birthday: ptr("1899-12-31")}, "birthday", "before 1900"},
		{"gender", store.CustomerInput{ExternalID: "x", Gender: ptr("wizard")}, "gender", "not one of"},
		{"country", store.CustomerInput{ExternalID: "x", Country: ptr("USA")}, "country", "ISO 3166"},
		{"country digits", store.CustomerInput{ExternalID: "x", Country: ptr("1A")}, "country", "ISO 3166"},
		{"empty tag", store.CustomerInput{ExternalID: "x", Tags: []string{"a", " "}}, "tags", "tag 2 is empty"},
	} {
		err := Customer(&c.in, CustomerOptions{DefaultRegion: "US", Now: today})
		es, ok := AsErrors(err)
		if !ok || len(es) != 1 || es[0].Field != c.field || !strings.Contains(es[0].Message, c.msg) {
			t.Errorf("%s: %v; want one problem with %s mentioning %q", c.name, err, c.field, c.msg)
		}
	}
}

func TestCustomerReportsAllProblemsAtOnce(t *testing.T) {
	in := store.CustomerInput{ExternalID: "x", Email: ptr("nope"), TimeZone: ptr("PST"), Gender: ptr("?")}
	es, _ := AsErrors(Customer(&in, CustomerOptions{Now: today}))
	var fields []string
	for _, e := range es {
		fields = append(fields, e.Field)
	}
	if strings.Join(fields, ",") != "email,time_zone,gender" {
		t.Errorf("fields = %v, want email, time_zone and gender", fields)
	}
}

func TestEvent(t *testing.T) {
	now := today
	for _, c := range []struct {
		name  string
		in    store.EventInput
		field string
	}{
		{"valid purchase", store.EventInput{EventID: "o-1", CustomerID: "c", Type: "purchase", Properties: map[string]any{"amount": 10.5}}, ""},
		{"purchase without amount", store.EventInput{EventID: "o-1", CustomerID: "c", Type: "purchase"}, ""},
		{"no event id", store.EventInput{EventID: " ", CustomerID: "c", Type: "signup"}, "event_id"},
		{"no customer", store.EventInput{EventID: "e", Type: "signup"}, "customer"},
		{"no type", store.EventInput{EventID: "e", CustomerID: "c"}, "type"},
		{"type with spaces", store.EventInput{EventID: "e", CustomerID: "c", Type: "Order Delivered"}, "type"},
		{"far future", store.EventInput{EventID: "e", CustomerID: "c", Type: "signup", OccurredAt: now.Add(48 * time.Hour)}, "occurred_at"},
		{"amount as text", store.EventInput{EventID: "e", CustomerID: "c", Type: "purchase", Properties: map[string]any{"amount": "10"}}, "properties.amount"},
		{"negative amount", store.EventInput{EventID: "e", CustomerID: "c", Type: "purchase", Properties: map[string]any{"amount": -1.0}}, "properties.amount"},
	} {
		err := Event(&c.in, now)
		if c.field == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		es, ok := AsErrors(err)
		if !ok || len(es) != 1 || es[0].Field != c.field {
			t.Errorf("%s: %v; want one problem with %s", c.name, err, c.field)
		}
	}

	in := store.EventInput{EventID: "e", CustomerID: "c", Type: "signup"}
	if err := Event(&in, now); err != nil || !in.OccurredAt.Equal(now) {
		t.Errorf("event without a time: occurred_at %s, %v; want now", in.OccurredAt, err)
	}
}
