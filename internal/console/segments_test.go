package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// TestSegmentEditorCountsAsYouType: the count and sample follow the
// definition while it is typed (htmx), a mistake shows at its line, and
// Save stores the segment, which the list then shows.
func TestSegmentEditorCountsAsYouType(t *testing.T) {
	e := newConsole(t)
	e.user("mia@example.com", access.Marketer)
	ctx := t.Context()
	for _, c := range []store.CustomerInput{
		{ExternalID: "a", FirstName: testdb.String("Ada"), Locale: testdb.String("en"), Tags: []string{"vip"}},
		{ExternalID: "b", FirstName: testdb.String("怡君"), LastName: testdb.String("林"), Locale: testdb.String("zh-TW"), Tags: []string{"vip"}},
		{ExternalID: "c", FirstName: testdb.String("Bo"), Locale: testdb.String("en")},
	} {
		if _, _, err := e.store.UpsertCustomer(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	b := e.browser("en")
	e.signIn(b, "mia@example.com")
	e.run(b, chromedp.Navigate(e.url+"/console/segments"), chromedp.WaitVisible("#new-segment", chromedp.ByID),
		chromedp.Click("#new-segment", chromedp.ByID), chromedp.WaitVisible("#segment-count", chromedp.ByID))

	// Typing a definition (an input event, as a keystroke sends) updates
	// the count without a reload.
	typeIn := func(src string) {
		e.run(b, chromedp.SetValue("#source", src, chromedp.ByID),
			chromedp.Evaluate(`document.getElementById("source").dispatchEvent(new Event("input", {bubbles: true}))`, nil))
	}
	typeIn("name: vips\nmatch:\n  tags: vip\n")
	e.run(b, chromedp.Poll(`(document.getElementById("segment-count") || {textContent: ""}).textContent.trim() === "2 customers"`, nil))
	if got := e.text(b, "#sample"); !strings.Contains(got, "Ada") || !strings.Contains(got, "林怡君") || strings.Contains(got, "Bo") {
		t.Fatalf("sample of vips: %q", got)
	}
	typeIn("name: vips\nmatch:\n  tags: vip\n  locale: zh-TW\n")
	e.run(b, chromedp.Poll(`(document.getElementById("segment-count") || {textContent: ""}).textContent.trim() === "1 customer"`, nil))

	typeIn("name: vips\nmatch:\n  tags: vip\n  colour: blue\n")
	e.run(b, chromedp.WaitVisible("#problems", chromedp.ByID))
	var line string
	e.run(b, chromedp.AttributeValue("a.problem", "data-line", &line, nil))
	if line != "4" {
		t.Fatalf("the unknown field is reported at line %q, want 4: %s", line, e.text(b, "#problems"))
	}

	typeIn("name: vips\ndescription: Our VIPs\nmatch:\n  tags: vip\n")
	e.run(b, chromedp.Poll(`(document.getElementById("segment-count") || {textContent: ""}).textContent.trim() === "2 customers"`, nil))
	e.shot(b, "segment-en")
	e.run(b, chromedp.Click("#save", chromedp.ByID), chromedp.WaitVisible("#notice", chromedp.ByID))
	seg, err := e.mgmt.SavedSegment(ctx, "vips")
	if err != nil || !strings.Contains(seg.Definition, "tags: vip") {
		t.Fatalf("saved segment: %+v, %v", seg, err)
	}
	e.run(b, chromedp.Navigate(e.url+"/console/segments"), chromedp.WaitVisible(`tr[data-segment="vips"]`))
	if got := e.text(b, `tr[data-segment="vips"]`); !strings.Contains(got, "Our VIPs") {
		t.Fatalf("list row: %q", got)
	}
}
