package store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

func TestMessageContentsAreKeptAsFirstStored(t *testing.T) {
	s, _ := testdb.New(t)
	id := "2f1e4d3c-5b6a-4789-8a7b-6c5d4e3f2a1b"
	first := store.MessageContent{MessageID: id, Headers: map[string]string{"To": "ann@example.com"}, Subject: "Hi",
		HTML: "<p>x</p>", Text: "x", Links: []string{"https://shop.example/a", "https://shop.example/b"}, Tracked: true}
	if err := s.StoreMessageContents(t.Context(), []store.MessageContent{first}); err != nil {
		t.Fatal(err)
	}
	again := first
	again.Subject, again.Links = "changed", nil
	if err := s.StoreMessageContents(t.Context(), []store.MessageContent{again}); err != nil {
		t.Fatal(err)
	}
	got, err := s.MessageContentOf(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "Hi" || len(got.Links) != 2 || got.Links[1] != "https://shop.example/b" || got.Headers["To"] != "ann@example.com" || !got.Tracked {
		t.Errorf("content = %+v, want the first one stored", got)
	}
}

func TestErasureDeletesWhatWentOut(t *testing.T) {
	s, _ := testdb.New(t)
	email := "ann@example.com"
	c, _, err := s.UpsertCustomer(t.Context(), store.CustomerInput{ExternalID: "C-erase", Email: &email})
	if err != nil {
		t.Fatal(err)
	}
	id := "3f1e4d3c-5b6a-4789-8a7b-6c5d4e3f2a1b"
	if _, _, err := s.ReserveMessages(t.Context(), []store.Message{{ID: id, IdempotencyKey: "k", CustomerID: c.ID, Journey: "j", Step: "s",
		Channel: "email", Template: "welcome", Topic: "marketing", Recipient: email}}); err != nil {
		t.Fatal(err)
	}
	if err := s.StoreMessageContents(t.Context(), []store.MessageContent{{MessageID: id, Subject: "Hi Ann", Headers: map[string]string{"To": email}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordClick(t.Context(), store.MessageClick{MessageID: id, URL: "https://shop.example/", UserAgent: "Mozilla/5.0 (X11)", FirstAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.EraseCustomer(t.Context(), c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MessageContentOf(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the content of an erased customer's message survives: %v", err)
	}
	clicks, err := s.MessageClicks(t.Context(), id)
	if err != nil || len(clicks) != 1 || clicks[0].UserAgent != "" {
		t.Errorf("clicks after erasure = %+v, %v; want the count without the user agent", clicks, err)
	}
}

// TestContentsAreCompressedWithLZ4: a message's HTML (kilobytes of markup)
// is compressed with lz4, which costs PostgreSQL a fraction of pglz's CPU
// per stored message, and reads back as it was written.
func TestContentsAreCompressedWithLZ4(t *testing.T) {
	s, _ := testdb.New(t)
	ctx := t.Context()
	var lz4 bool
	if err := s.Pool().QueryRow(ctx, `SELECT 'lz4' = ANY (enumvals) FROM pg_settings WHERE name = 'default_toast_compression'`).Scan(&lz4); err != nil {
		t.Fatal(err)
	}
	if !lz4 {
		t.Skip("this PostgreSQL is built without lz4")
	}
	id := "3a2b1c0d-5b6a-4789-8a7b-6c5d4e3f2a1b"
	html := strings.Repeat(`<tr><td style="padding:8px;font-family:Helvetica,Arial,sans-serif">Spring offer, 10% off</td></tr>`, 100)
	if err := s.StoreMessageContents(ctx, []store.MessageContent{{MessageID: id, HTML: html, Text: "x"}}); err != nil {
		t.Fatal(err)
	}
	var method string
	var stored int
	if err := s.Pool().QueryRow(ctx, `SELECT coalesce(pg_column_compression(html), ''), pg_column_size(html) FROM message_contents WHERE message_id = $1`, id).Scan(&method, &stored); err != nil {
		t.Fatal(err)
	}
	if method != "lz4" || stored >= len(html)/4 {
		t.Errorf("HTML of %d bytes stored in %d bytes compressed with %q, want lz4", len(html), stored, method)
	}
	got, err := s.MessageContentOf(ctx, id)
	if err != nil || got.HTML != html {
		t.Errorf("HTML read back differs (%v)", err)
	}
}
