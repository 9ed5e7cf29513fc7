package store_test

import (
	"testing"

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
