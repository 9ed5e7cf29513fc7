package console

import (
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidingsdev/tidings/examples"
	"github.com/tidingsdev/tidings/internal/campaign/manage"
	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/spec"
	"github.com/tidingsdev/tidings/internal/store"
)

// campaignsPerPage bounds the campaign list; the list pages by name.
const campaignsPerPage = 50

type campaignsPage struct {
	Campaigns []mgmt.CampaignRow
	Next      string
}

// campaigns is GET /console/campaigns: the campaigns by name, a keyset
// page at a time (?after=), each with its audience's last measured size
// and its results so far.
func (c *Console) campaigns(w http.ResponseWriter, r *http.Request, v *view) error {
	list, err := c.mgmt.CampaignList(r.Context(), r.URL.Query().Get("after"), campaignsPerPage)
	if err != nil {
		return err
	}
	page := campaignsPage{Campaigns: list.Campaigns}
	if list.Next != "" {
		page.Next = pageLink(r, "after", list.Next)
	}
	v.Title, v.Nav = v.T("nav.campaigns"), "campaigns"
	c.render(w, r, http.StatusOK, v, "campaigns", page)
	return nil
}

// totals is a campaign's results in one row: everyone who entered and
// every message sent, and the conversions and conversion rate of the
// treatment (the holdout's are on the campaign's page, beside them).
type totals struct {
	Entered, Sent, Converted int
	Rate                     float64
}

func resultTotals(rep store.CampaignReport) totals {
	var t totals
	treated := 0
	for _, a := range rep.Arms {
		t.Entered, t.Sent = t.Entered+a.Entered, t.Sent+a.Sent
		if !a.Holdout {
			treated, t.Converted = treated+a.Entered, t.Converted+a.Converted
		}
	}
	if treated > 0 {
		t.Rate = float64(t.Converted) / float64(treated)
	}
	return t
}

type campaignPage struct {
	mgmt.CampaignDetail
	// Results are as the last refresh kept them, at ResultsAt; counted for
	// the page (ResultsAt nil) before any refresh kept them.
	Results   store.CampaignReport
	ResultsAt *time.Time
	// Uplift is the treatment against the holdout with its 95% interval.
	Uplift *uplift
	// Diff is the shown version against the one before it.
	Diff   []diffLine
	Chart  []chartBar
	Notice string
	// Funnel is the campaign report's funnel by step, as its report page
	// draws it; Winner the automatic A/B test's choice, once made, with
	// WinnerText and WinnerTallies saying it in the reader's language.
	Funnel        *panel
	Winner        *store.CampaignWinner
	WinnerText    string
	WinnerTallies []string
}

// campaign is GET /console/campaigns/{name}?version=: state, results per
// arm and the funnel as the last refresh kept them (with their time),
// versions with the shown one's file and what it changed.
func (c *Console) campaign(w http.ResponseWriter, r *http.Request, v *view) error {
	name := r.PathValue("name")
	version := 0
	if s := r.URL.Query().Get("version"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return &pageError{status: http.StatusBadRequest, key: "error.version"}
		}
		version = n
	}
	d, err := c.mgmt.Campaign(r.Context(), name, version)
	if err != nil {
		return err
	}
	kept, err := reports.Campaign(r.Context(), c.store, name)
	if err != nil {
		return err
	}
	rep := kept.CampaignReport
	page := campaignPage{CampaignDetail: d, Results: rep, ResultsAt: kept.AsOf, Uplift: upliftOf(rep), Notice: noticeKey(r)}
	if d.Version > 1 {
		prev, err := c.mgmt.Campaign(r.Context(), name, d.Version-1)
		if err != nil {
			return err
		}
		page.Diff = diffLines(prev.Source, d.Source)
	}
	for _, a := range rep.Arms {
		page.Chart = append(page.Chart, chartBar{Label: v.ArmLabel(a), Sent: a.Sent, Converted: a.Converted, Rate: a.ConversionRate})
	}
	if w := rep.Winner; w != nil {
		page.Winner, page.WinnerText, page.WinnerTallies = w, winnerText(v, w), winnerTallies(v, w)
	}
	if len(rep.Arms) > 0 {
		fr, err := reports.CampaignFunnel(r.Context(), c.store, name, reports.FunnelQuery{Kept: true})
		if err != nil {
			return err
		}
		page.Funnel = funnelPanel(v, &reportPage{}, fr)
		page.Funnel.CSV = Prefix + "reports/campaign/csv?" + url.Values{"campaign": {name}, "table": {"funnel"}}.Encode()
	}
	v.Title, v.Nav = d.Name, "campaigns"
	c.render(w, r, http.StatusOK, v, "campaign", page)
	return nil
}

// chartBar is one arm in the results chart (console.js draws it with
// ECharts from the JSON the page embeds).
type chartBar struct {
	Label     string  `json:"label"`
	Sent      int     `json:"sent"`
	Converted int     `json:"converted"`
	Rate      float64 `json:"rate"`
}

// uplift is the treatment's conversion rate minus the holdout's, in
// percentage points, with its 95% interval, as the campaign report computes
// it (reports.Uplift), shaped for the page.
type uplift struct {
	Points, Low, High float64
	// Significant is true when the interval excludes zero; TooFew while
	// either group is smaller than MinGroup.
	Significant, TooFew bool
	MinGroup            int
}

func upliftOf(rep store.CampaignReport) *uplift {
	e := reports.WithUncertainty(rep).Uplift
	if e == nil {
		return nil
	}
	return &uplift{Points: e.Points, Low: e.Low, High: e.High, MinGroup: e.MinGroup,
		TooFew: !e.Enough, Significant: e.Enough && e.Confident}
}

// setCampaignStatus is POST /console/campaigns/{name}/{action}: pause,
// resume or archive, as `POST /v1/campaigns/{name}/{action}` does.
func (c *Console) setCampaignStatus(w http.ResponseWriter, r *http.Request, v *view) error {
	name, action := r.PathValue("name"), r.PathValue("action")
	_, err := c.mgmt.SetCampaignStatus(r.Context(), v.Who, name, action)
	switch {
	case errors.Is(err, manage.ErrArchived):
		return &pageError{status: http.StatusConflict, key: "error.archived", args: []any{name}}
	case errors.Is(err, mgmt.ErrNoEngine):
		return &pageError{status: http.StatusServiceUnavailable, key: "error.engine"}
	case err != nil:
		if _, ok := formErrors(v, err); ok {
			return &pageError{status: http.StatusNotFound, key: "error.not_found"}
		}
		return err
	}
	http.Redirect(w, r, Prefix+"campaigns/"+name+"?done="+action, http.StatusSeeOther)
	return nil
}

// editorPage is the campaign editor: the file, and what the last action
// on it found.
type editorPage struct {
	Source string
	// Name is the campaign being edited ("" for a new one).
	Name     string
	Lines    []editorLine
	Examples []string
	Check    *mgmt.CampaignCheck
	DryRun   *mgmt.DryRun
	// Confirm is the change Apply would store, shown before it is stored.
	Confirm *applyConfirm
	Problem string
}

// editorLine is one line number in the editor's gutter, marked when a
// problem is on it.
type editorLine struct {
	N   int
	Bad bool
}

type applyConfirm struct {
	Campaign string
	Summary  string
	Parts    []*spec.Problem
	// Current is the version in force (0 for a new campaign), Diff the
	// file against it.
	Current int
	Diff    []diffLine
	Same    bool
}

// newCampaign is GET /console/campaigns/new?example=: the editor, empty or
// holding an example file.
func (c *Console) newCampaign(w http.ResponseWriter, r *http.Request, v *view) error {
	page := editorPage{Examples: exampleNames()}
	if ex := r.URL.Query().Get("example"); ex != "" {
		data, err := fs.ReadFile(examples.Campaigns, "campaigns/"+ex+".yaml")
		if err != nil || !slices.Contains(page.Examples, ex) {
			return &pageError{status: http.StatusNotFound, key: "error.not_found"}
		}
		page.Source = string(data)
	}
	return c.showEditor(w, r, v, http.StatusOK, page)
}

// editCampaign is GET /console/campaigns/{name}/edit: the editor holding
// the current version's file.
func (c *Console) editCampaign(w http.ResponseWriter, r *http.Request, v *view) error {
	d, err := c.mgmt.Campaign(r.Context(), r.PathValue("name"), 0)
	if err != nil {
		return err
	}
	return c.showEditor(w, r, v, http.StatusOK, editorPage{Source: d.Source, Name: d.Name})
}

// editorAction is POST /console/campaigns/editor: Validate, Dry run, Apply
// (which first shows what would change) and Confirm, each through the
// management function the API's campaign routes call.
func (c *Console) editorAction(w http.ResponseWriter, r *http.Request, v *view) error {
	page := editorPage{Source: strings.ReplaceAll(r.PostFormValue("source"), "\r\n", "\n"), Name: r.PostFormValue("name")}
	f := mgmt.CampaignFile{Text: []byte(page.Source)}
	ctx := r.Context()
	switch r.PostFormValue("action") {
	case "validate":
		chk, err := c.mgmt.ValidateCampaign(ctx, f, mgmt.CheckOptions{Segments: true})
		if err != nil {
			return err
		}
		page.Check = &chk
		status := http.StatusOK
		if !chk.Valid {
			status = http.StatusUnprocessableEntity
		}
		return c.showEditor(w, r, v, status, page)
	case "dry-run":
		p, err := c.mgmt.DryRunCampaign(ctx, f, mgmt.DryRunOptions{Samples: 3, Next: 5})
		if ps, ok := mgmt.Problems(err); ok {
			page.Check = &mgmt.CampaignCheck{Problems: ps}
			return c.showEditor(w, r, v, http.StatusUnprocessableEntity, page)
		}
		if err != nil {
			return err
		}
		page.DryRun = &p
		return c.showEditor(w, r, v, http.StatusOK, page)
	case "apply":
		chk, err := c.mgmt.ValidateCampaign(ctx, f, mgmt.CheckOptions{Segments: true})
		if err != nil {
			return err
		}
		if !chk.Valid {
			page.Check = &chk
			return c.showEditor(w, r, v, http.StatusUnprocessableEntity, page)
		}
		conf := &applyConfirm{Campaign: chk.Campaign, Summary: chk.Summary, Parts: chk.SummaryParts}
		cur, err := c.mgmt.Campaign(ctx, chk.Campaign, 0)
		switch {
		case err == nil:
			conf.Current, conf.Diff, conf.Same = cur.Version, diffLines(cur.Source, page.Source), cur.Source == page.Source
		case !errors.Is(err, store.ErrNotFound):
			return err
		default:
			conf.Diff = diffLines("", page.Source)
		}
		page.Confirm = conf
		return c.showEditor(w, r, v, http.StatusOK, page)
	case "confirm":
		res, err := c.mgmt.ApplyCampaign(ctx, v.Who, f)
		if ps, ok := mgmt.Problems(err); ok {
			page.Check = &mgmt.CampaignCheck{Problems: ps}
			return c.showEditor(w, r, v, http.StatusUnprocessableEntity, page)
		}
		if errors.Is(err, mgmt.ErrNoEngine) {
			page.Problem = v.T("error.engine")
			return c.showEditor(w, r, v, http.StatusServiceUnavailable, page)
		}
		if err != nil {
			return err
		}
		http.Redirect(w, r, Prefix+"campaigns/"+res.Campaign.Name+"?done=applied", http.StatusSeeOther)
		return nil
	}
	return &pageError{status: http.StatusBadRequest, key: "error.action"}
}

func (c *Console) showEditor(w http.ResponseWriter, r *http.Request, v *view, status int, page editorPage) error {
	if page.Check != nil {
		page.Lines = editorLines(page.Source, page.Check.Problems)
	} else {
		page.Lines = editorLines(page.Source, nil)
	}
	if page.Examples == nil && page.Name == "" {
		page.Examples = exampleNames()
	}
	v.Title, v.Nav = v.T("editor.title"), "campaigns"
	if page.Name != "" {
		v.Title = v.T("editor.title_of", page.Name)
	}
	c.render(w, r, status, v, "campaign_edit", page)
	return nil
}

// editorLines numbers a file's lines for the editor's gutter, marking
// those a problem is on.
func editorLines(source string, problems []mgmt.Problem) []editorLine {
	bad := map[int]bool{}
	for _, p := range problems {
		bad[p.Line] = true
	}
	lines := make([]editorLine, strings.Count(source, "\n")+1)
	for i := range lines {
		lines[i] = editorLine{N: i + 1, Bad: bad[i+1]}
	}
	return lines
}

// exampleNames are the example campaign files, without .yaml.
func exampleNames() []string {
	files, _ := fs.Glob(examples.Campaigns, "campaigns/*.yaml")
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = strings.TrimSuffix(strings.TrimPrefix(f, "campaigns/"), ".yaml")
	}
	return out
}

// editorView is the editor partial's data: the lines of its gutter, the
// file, and where typing posts the file for a live preview ("" for none).
type editorView struct {
	V      *view
	Lines  []editorLine
	Source string
	Live   string
}

func editorBox(v *view, lines []editorLine, source string, live ...string) editorView {
	e := editorView{V: v, Lines: lines, Source: source}
	if len(live) > 0 {
		e.Live = live[0]
	}
	return e
}

type problemsView struct {
	V        *view
	Problems []mgmt.Problem
}

func problemsBox(v *view, ps []mgmt.Problem) problemsView { return problemsView{V: v, Problems: ps} }
