package store_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

func TestSavedSegments(t *testing.T) {
	s, _ := testdb.New(t)
	ctx := t.Context()
	in := store.Segment{Name: "vip-en", Description: "High value, English", Format: "yaml", Definition: "match:\n  value_tier: high\n"}
	got, outcome, err := s.SaveSegment(ctx, in)
	if err != nil || outcome != store.Inserted || got.Definition != in.Definition || got.Description != in.Description {
		t.Fatalf("first save = %+v, %s, %v", got, outcome, err)
	}
	same, outcome, err := s.SaveSegment(ctx, in)
	if err != nil || outcome != store.Unchanged || !same.UpdatedAt.Equal(got.UpdatedAt) {
		t.Fatalf("identical save = %+v, %s, %v; want unchanged", same, outcome, err)
	}
	in.Definition = "match:\n  value_tier: [high, mid]\n"
	upd, outcome, err := s.SaveSegment(ctx, in)
	if err != nil || outcome != store.Updated || upd.Definition != in.Definition || !upd.CreatedAt.Equal(got.CreatedAt) {
		t.Fatalf("update = %+v, %s, %v", upd, outcome, err)
	}
	if _, _, err := s.SaveSegment(ctx, store.Segment{Name: "a-second", Format: "json", Definition: `{"match": {"all": []}}`}); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListSegments(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "a-second" || list[1].Definition != in.Definition {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if _, err := s.GetSegment(ctx, "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get missing = %v, want ErrNotFound", err)
	}
	if _, _, err := s.SaveSegment(ctx, store.Segment{Name: "Bad Name", Format: "yaml", Definition: "x"}); err == nil {
		t.Error("a name with spaces and capitals was saved")
	}
	if err := s.DeleteSegment(ctx, "a-second"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSegment(ctx, "a-second"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete = %v, want ErrNotFound", err)
	}
}

// TestSegmentPagePagesASavedSegment pages the zh-TW members of a saved
// segment two at a time, in ID order, and leaves everyone else out.
func TestSegmentPagePagesASavedSegment(t *testing.T) {
	s, _ := testdb.New(t)
	ctx := t.Context()
	var want []string
	for i, locale := range []string{"zh-TW", "en", "zh-TW", "zh-CN", "zh-TW"} {
		c, _, err := s.UpsertCustomer(ctx, store.CustomerInput{ExternalID: fmt.Sprint("C", i), Locale: testdb.String(locale)})
		if err != nil {
			t.Fatal(err)
		}
		if locale == "zh-TW" {
			want = append(want, c.ID)
		}
	}
	slices.Sort(want)
	if _, _, err := s.SaveSegment(ctx, store.Segment{Name: "taiwan", Format: "yaml", Definition: "match:\n  locale: zh-TW\n"}); err != nil {
		t.Fatal(err)
	}
	var got []string
	after := ""
	for range 3 {
		page, err := s.SegmentPage(ctx, "taiwan", time.Now(), after, 2)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1]
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged %v, want the zh-TW customers %v", got, want)
	}
	if _, err := s.SegmentPage(ctx, "nobody-saved-this", time.Now(), "", 2); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown segment: %v, want ErrNotFound", err)
	}
}
