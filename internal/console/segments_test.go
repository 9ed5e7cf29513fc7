package console_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/reports"
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
	// The same in Simplified Chinese: the page again, and the count again as
	// the definition is typed.
	for _, lang := range []string{"zh-CN", "en"} {
		e.switchLang(b, lang)
		typeIn("name: vips\ndescription: Our VIPs\nmatch:\n  tags: vip\n")
		e.run(b, chromedp.Poll(`/2/.test((document.getElementById("segment-count") || {textContent: ""}).textContent)`, nil))
		if lang != "en" {
			if words := e.englishOn(b); len(words) > 0 {
				t.Errorf("segment editor in %s shows English: %q", lang, words)
			}
			e.shot(b, "segment-"+lang)
		}
	}
	e.submit(b, "#save", "#notice")
	seg, err := e.mgmt.SavedSegment(ctx, "vips")
	if err != nil || !strings.Contains(seg.Definition, "tags: vip") {
		t.Fatalf("saved segment: %+v, %v", seg, err)
	}
	e.run(b, chromedp.Navigate(e.url+"/console/segments"), chromedp.WaitVisible(`tr[data-segment="vips"]`))
	if got := e.text(b, `tr[data-segment="vips"]`); !strings.Contains(got, "Our VIPs") {
		t.Fatalf("list row: %q", got)
	}

	// Its size over time: nothing before a measurement; then each day's
	// last measurement, drawn and listed — two earlier days, and today's
	// from a score refresh, which measures every segment.
	e.run(b, chromedp.Navigate(e.url+"/console/segments/vips"), chromedp.WaitVisible("#sizes-none", chromedp.ByID))
	taipei, _ := time.LoadLocation("Asia/Taipei")
	now := time.Now().In(taipei)
	noon := time.Date(now.Year(), now.Month(), now.Day(), 12, 0, 0, 0, taipei)
	if err := e.store.RecordAudienceSizes(ctx, []store.AudienceSize{
		{Kind: store.AudienceSegment, Name: "vips", At: noon.AddDate(0, 0, -2), Size: 3},
		{Kind: store.AudienceSegment, Name: "vips", At: noon.AddDate(0, 0, -1).Add(-time.Hour), Size: 5},
		{Kind: store.AudienceSegment, Name: "vips", At: noon.AddDate(0, 0, -1), Size: 1},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.mgmt.RefreshScores(ctx, access.Operator("test")); err != nil {
		t.Fatal(err)
	}
	var drawn []int
	e.run(b, chromedp.Reload(), chromedp.WaitVisible("#sizes-chart canvas", chromedp.ByQuery),
		chromedp.Evaluate(`echarts.getInstanceByDom(document.getElementById("sizes-chart")).getOption().series[0].data`, &drawn))
	if !slices.Equal(drawn, []int{3, 1, 2}) {
		t.Errorf("chart draws %v, want 3, 1, 2 (a day's last measurement each)", drawn)
	}
	var rows []string
	e.run(b, chromedp.Evaluate(`[...document.querySelectorAll("#sizes tbody tr")].map(r => r.cells[0].textContent + " " + r.cells[1].textContent)`, &rows))
	want := []string{now.Format("2 Jan 2006") + " 2", noon.AddDate(0, 0, -1).Format("2 Jan 2006") + " 1", noon.AddDate(0, 0, -2).Format("2 Jan 2006") + " 3"}
	if !slices.Equal(rows, want) {
		t.Errorf("size table %q, want %q", rows, want)
	}
	e.shots(b, "segment-sizes", "en", "zh-CN")
	e.run(b, chromedp.Navigate(e.url+"/console/segments"), chromedp.WaitVisible(`tr[data-segment="vips"]`))
	e.shots(b, "segments", "en", "zh-CN")
}

// TestRefreshSweepMovesSegmentSizes: the hourly refresh sweep, fired by
// its schedule on a running worker, measures every saved segment, so the
// segment's size over time gains today's point without anyone refreshing
// by hand; it also keeps the journeys' funnels, which the funnel reports
// read with its time.
func TestRefreshSweepMovesSegmentSizes(t *testing.T) {
	e := newConsole(t)
	e.runJourneys()
	e.user("mia@example.com", access.Marketer)
	ctx := t.Context()
	for _, id := range []string{"a", "b", "c"} {
		tags := []string{"vip"}
		if id == "c" {
			tags = nil
		}
		if _, _, err := e.store.UpsertCustomer(ctx, store.CustomerInput{ExternalID: id, Tags: tags}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.mgmt.SaveSegment(ctx, access.Operator("test"), mgmt.File{Text: []byte("name: vips\nmatch:\n  tags: vip\n")}, ""); err != nil {
		t.Fatal(err)
	}
	e.defaultSchedules("")
	b := e.browser("en")
	e.signIn(b, "mia@example.com")
	e.run(b, chromedp.Navigate(e.url+"/console/segments/vips"), chromedp.WaitVisible("#sizes-none", chromedp.ByID))

	if err := e.mgmt.ScheduleAction(ctx, access.Operator("test"), "refresh-reports", "trigger", ""); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		sizes, err := e.mgmt.SegmentSizes(ctx, "vips", 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(sizes) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the refresh sweep recorded no size of the segment in a minute")
		}
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		r, err := reports.JourneyFunnel(ctx, e.store, "winback", reports.FunnelQuery{
			Period: reports.DefaultFunnelPeriod(time.Now()), Kept: true})
		if err != nil {
			t.Fatal(err)
		}
		if r.AsOf != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the refresh sweep kept no funnel of the win-back journey in a minute")
		}
	}
	var rows []string
	e.run(b, chromedp.Reload(), chromedp.WaitVisible("#sizes-chart canvas", chromedp.ByQuery),
		chromedp.Evaluate(`[...document.querySelectorAll("#sizes tbody tr")].map(r => r.cells[0].textContent + " " + r.cells[1].textContent)`, &rows))
	taipei, _ := time.LoadLocation("Asia/Taipei")
	if want := []string{time.Now().In(taipei).Format("2 Jan 2006") + " 2"}; !slices.Equal(rows, want) {
		t.Errorf("size table after the sweep %q, want %q", rows, want)
	}
}
