package console

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/store"
)

// segmentSample is how many members the editor shows beside the count.
const segmentSample = 10

type segmentsPage struct {
	Segments []store.Segment
}

// segments is GET /console/segments: the saved segments by name.
func (c *Console) segments(w http.ResponseWriter, r *http.Request, v *view) error {
	segs, err := c.mgmt.SavedSegments(r.Context())
	if err != nil {
		return err
	}
	v.Title, v.Nav = v.T("nav.segments"), "segments"
	c.render(w, r, http.StatusOK, v, "segments", segmentsPage{Segments: segs})
	return nil
}

// segmentPage is the segment editor: the definition and, beside it, its
// live count and sample; for a saved segment, its size over time.
type segmentPage struct {
	Name    string
	Source  string
	Lines   []editorLine
	Preview segmentPreview
	// Sizes are the segment's size at the end of each day it was measured,
	// newest first; Chart the same oldest first, for console.js to draw.
	Sizes []daySize
	Chart []sizePoint
}

// segmentHistoryDays is how far back the size over time goes.
const segmentHistoryDays = 90

// daySize is a segment's last measured size on a day of the reader's.
type daySize struct {
	Day  string
	At   time.Time
	Size int64
}

// sizePoint is one point of the size chart.
type sizePoint struct {
	Label string `json:"label"`
	Size  int64  `json:"size"`
}

// dailySizes keeps the last measurement of each day in the reader's time
// zone (the refresh measures hourly; a chart of days reads better), newest
// first, and the chart's points oldest first.
func dailySizes(v *view, sizes []store.AudienceSize) ([]daySize, []sizePoint) {
	var days []daySize
	for _, s := range sizes { // oldest first
		d := daySize{Day: v.Date(s.At), At: s.At, Size: s.Size}
		if n := len(days); n > 0 && days[n-1].Day == d.Day {
			days[n-1] = d
			continue
		}
		days = append(days, d)
	}
	points := make([]sizePoint, len(days))
	for i, d := range days {
		points[i] = sizePoint{Label: d.Day, Size: d.Size}
	}
	slices.Reverse(days)
	return days, points
}

// segmentPreview is the part of the editor that follows the typing.
type segmentPreview struct {
	V        *view
	Result   *mgmt.SegmentPreview
	Problems []mgmt.Problem
	Saved    bool
}

// newSegment is GET /console/segments/new.
func (c *Console) newSegment(w http.ResponseWriter, r *http.Request, v *view) error {
	src := "name: new-segment\nmatch:\n  orders_count: {gte: 1}\n"
	return c.showSegment(w, r, v, http.StatusOK, segmentPage{Source: src}, c.previewOf(r, v, src))
}

// segment is GET /console/segments/{name}: a saved segment in the editor,
// with its count and sample, and its size over the last 90 days.
func (c *Console) segment(w http.ResponseWriter, r *http.Request, v *view) error {
	seg, err := c.mgmt.SavedSegment(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	sizes, err := c.mgmt.SegmentSizes(r.Context(), seg.Name, segmentHistoryDays)
	if err != nil {
		return err
	}
	page := segmentPage{Name: seg.Name, Source: seg.Definition}
	page.Sizes, page.Chart = dailySizes(v, sizes)
	return c.showSegment(w, r, v, http.StatusOK, page, c.previewOf(r, v, seg.Definition))
}

// previewSegment is POST /console/segments/preview: the count and sample
// of the definition being typed (htmx swaps in the fragment; without
// JavaScript the whole editor comes back).
func (c *Console) previewSegment(w http.ResponseWriter, r *http.Request, v *view) error {
	src := formSource(r)
	p := c.previewOf(r, v, src)
	if r.Header.Get("HX-Request") == "true" {
		c.renderFragment(w, r, v, "segment", "segment-preview", p)
		return nil
	}
	return c.showSegment(w, r, v, http.StatusOK, segmentPage{Name: r.PostFormValue("name"), Source: src}, p)
}

// saveSegment is POST /console/segments: save the definition under its
// name, as `POST /v1/segments` does (audited as segment.save).
func (c *Console) saveSegment(w http.ResponseWriter, r *http.Request, v *view) error {
	src := formSource(r)
	saved, err := c.mgmt.SaveSegment(r.Context(), v.Who, mgmt.File{Text: []byte(src)}, "")
	if ps, ok := segmentProblems(v, err); ok {
		return c.showSegment(w, r, v, http.StatusUnprocessableEntity, segmentPage{Source: src}, segmentPreview{V: v, Problems: ps})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, Prefix+"segments/"+saved.Name+"?done=saved", http.StatusSeeOther)
	return nil
}

// deleteSegment is POST /console/segments/{name}/delete.
func (c *Console) deleteSegment(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := c.mgmt.DeleteSegment(r.Context(), v.Who, r.PathValue("name")); err != nil {
		return err
	}
	http.Redirect(w, r, Prefix+"segments?done=deleted", http.StatusSeeOther)
	return nil
}

// previewOf counts and samples a definition; its problems, located, are
// the preview rather than an error.
func (c *Console) previewOf(r *http.Request, v *view, src string) segmentPreview {
	res, err := c.mgmt.PreviewSegment(r.Context(), mgmt.SegmentRef{File: mgmt.File{Text: []byte(src)}}, c.opt.Now(), segmentSample)
	if ps, ok := segmentProblems(v, err); ok {
		return segmentPreview{V: v, Problems: ps}
	}
	if err != nil {
		c.log.ErrorContext(r.Context(), "segment preview failed", "err", err)
		return segmentPreview{V: v, Problems: []mgmt.Problem{{Message: v.T("error.internal")}}}
	}
	return segmentPreview{V: v, Result: &res}
}

// segmentProblems are a definition's located problems, or a field error
// (a missing name) as one problem.
func segmentProblems(v *view, err error) ([]mgmt.Problem, bool) {
	if ps, ok := mgmt.Problems(err); ok {
		return ps, true
	}
	if errs, ok := formErrors(v, err); ok {
		var ps []mgmt.Problem
		for f, m := range errs {
			ps = append(ps, mgmt.Problem{Path: f, Message: m})
		}
		return ps, true
	}
	if errors.Is(err, store.ErrNotFound) {
		// A saved segment the definition names went away meanwhile.
		return []mgmt.Problem{{Message: v.T("error.not_found")}}, true
	}
	return nil, false
}

func (c *Console) showSegment(w http.ResponseWriter, r *http.Request, v *view, status int, page segmentPage, p segmentPreview) error {
	page.Lines, page.Preview = editorLines(page.Source, p.Problems), p
	v.Title, v.Nav = v.T("segments.new"), "segments"
	if page.Name != "" {
		v.Title = page.Name
	}
	c.render(w, r, status, v, "segment", page)
	return nil
}

func formSource(r *http.Request) string {
	return strings.ReplaceAll(r.PostFormValue("source"), "\r\n", "\n")
}
