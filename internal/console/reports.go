package console

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/tidingsdev/tidings/internal/reports"
)

// A report page is the same on every report: the filters the report takes,
// headline figures, and panels, each a chart (an ECharts option the page
// embeds as JSON and console.js draws) with the table of its numbers below
// it and a CSV download of that table. The tables are built once, so the
// chart, the table and the CSV always show the same numbers.

// reportBuilder fills a report's page from the request's filters; an
// *reports.InputError is a filter the reader got wrong.
type reportBuilder func(c *Console, r *http.Request, v *view, f *reportFilters, page *reportPage) error

// reportOrder is the reports the console shows, in the order the reports
// index lists them; a name is the page's address and its catalog prefix
// (report.<name>.title).
var reportOrder = []string{"campaign", "journey", "nps", "csat", "retention", "churn", "lifecycle", "clv", "rfm", "deliverability", "acquisition"}

// reportBuilders are the builders by report name.
func reportBuilders() map[string]reportBuilder {
	return map[string]reportBuilder{
		"campaign": (*Console).campaignReport, "journey": (*Console).journeyReport,
		"nps": (*Console).npsReport, "csat": (*Console).csatReport,
		"retention": (*Console).retentionReport, "churn": (*Console).churnReport,
		"lifecycle": (*Console).lifecycleReport, "clv": (*Console).clvReport, "rfm": (*Console).rfmReport,
		"deliverability": (*Console).deliverabilityReport, "acquisition": (*Console).acquisitionReport,
	}
}

// reportPage is what report.html shows.
type reportPage struct {
	Report  string
	Filters *reportFilters
	// Problem is a filter the reader got wrong, in their language; the
	// page then shows the filters and nothing else.
	Problem string
	// Figures are the headline numbers above the panels.
	Figures []figure
	Panels  []*panel
	// Notes explain the figures (the formulas), in the reader's language.
	Notes []string
	// Empty is the message shown when there is nothing to chart yet.
	Empty string
}

// figure is one headline number.
type figure struct {
	ID, Label, Value string
}

// panel is one chart with its table.
type panel struct {
	// ID names the table in the page (#table-ID), in the CSV link and in
	// the downloaded file's name.
	ID    string
	Title string
	// Chart is the ECharts option; nil for a table without a chart.
	Chart map[string]any
	Table table
	// CSV is the download link of the table, with the page's filters.
	CSV string
	// Wide panels take the page's full width (the heat maps); so does a
	// panel whose table has more columns than half the page holds
	// (FullWidth).
	Wide bool
	// Note, when set, is shown below the table (when its figures were
	// counted).
	Note string
}

// table is a panel's numbers: the header in the reader's language and as
// CSV column names, each cell as shown and as written to CSV.
type table struct {
	Head []column
	Rows [][]cell
}

type column struct {
	Label, CSV string
	Num        bool
}

type cell struct {
	// Text is what the page shows, Raw what the CSV holds; a cell whose
	// Text is its Raw shows data as stored (a step, a source, a name) and
	// is marked translate="no".
	Text, Raw string
	// Href links the cell (a customer, a campaign).
	Href string
	Num  bool
}

// halfWidthColumns is the most columns a table shows in a panel half the
// page wide at 1280 pixels without cutting its last column off.
const halfWidthColumns = 6

// FullWidth says the panel takes the page's full width.
func (pn *panel) FullWidth() bool { return pn.Wide || len(pn.Table.Head) > halfWidthColumns }

// addPanel appends a panel whose table has the given columns and returns
// it for rows to be added.
func (p *reportPage) addPanel(id, title string, cols ...column) *panel {
	pn := &panel{ID: id, Title: title, Table: table{Head: cols}}
	p.Panels = append(p.Panels, pn)
	return pn
}

// panelView is what the panel partial draws: a panel, for a reader.
type panelView struct {
	V *view
	P *panel
}

// PanelView hands a panel to the panel partial, which report pages and the
// campaign page share.
func (v *view) PanelView(p *panel) panelView { return panelView{V: v, P: p} }

// row appends a row, its cells aligned as their columns.
func (pn *panel) row(cells ...cell) {
	for i := range cells {
		cells[i].Num = i < len(pn.Table.Head) && pn.Table.Head[i].Num
	}
	pn.Table.Rows = append(pn.Table.Rows, cells)
}

// col is a column of text; num a column of figures.
func (v *view) col(key, csvName string) column { return column{Label: v.T(key), CSV: csvName} }
func (v *view) num(key, csvName string) column {
	return column{Label: v.T(key), CSV: csvName, Num: true}
}

// Cells: text, a count, a ratio shown as a percentage, an amount, a
// figure with decimals; a missing figure shows as "—" and is empty in CSV.
func text(s string) cell { return cell{Text: s, Raw: s} }

func (v *view) count(n any) cell {
	return cell{Text: v.Num(n), Raw: fmt.Sprint(n)}
}

func (v *view) pct(f *float64) cell {
	if f == nil {
		return cell{Text: "—"}
	}
	return cell{Text: v.Percent(*f), Raw: strconv.FormatFloat(*f, 'f', -1, 64)}
}

func (v *view) money(f *float64) cell {
	if f == nil {
		return cell{Text: "—"}
	}
	return cell{Text: v.Money(*f), Raw: strconv.FormatFloat(*f, 'f', 2, 64)}
}

func (v *view) decimal(f *float64, places int) cell {
	if f == nil {
		return cell{Text: "—"}
	}
	return cell{Text: v.loc.printer.Sprintf("%.*f", places, *f), Raw: strconv.FormatFloat(*f, 'f', -1, 64)}
}

// reportFilters are the parameters a report takes, as the filter form
// shows them: the raw query values (so a reader sees what they typed) and
// what they were read as.
type reportFilters struct {
	q url.Values
	// Fields are the form's fields in order.
	Fields []filterField
	// Period is the period read from since and until, if the report has one.
	Period *reports.Period
}

// filterField is one input of the filter form.
type filterField struct {
	Name, Label, Value, Type, Hint string
	// Options make the field a select.
	Options []filterOption
}

type filterOption struct {
	Value, Label string
	Selected     bool
}

func (f *reportFilters) get(name string) string { return f.q.Get(name) }

// field adds an input to the form.
func (f *reportFilters) field(v *view, name, kind, hint string) {
	f.Fields = append(f.Fields, filterField{Name: name, Label: v.T("filter." + name), Value: f.q.Get(name), Type: kind, Hint: hint})
}

// choice adds a select of values (value, label pairs), the current one
// selected, and returns the value in force: the query's, else the first.
func (f *reportFilters) choice(v *view, name string, opts []filterOption) string {
	cur := f.q.Get(name)
	if cur == "" && len(opts) > 0 {
		cur = opts[0].Value
	}
	for i := range opts {
		opts[i].Selected = opts[i].Value == cur
	}
	f.Fields = append(f.Fields, filterField{Name: name, Label: v.T("filter." + name), Value: cur, Type: "select", Options: opts})
	return cur
}

// period adds since and until to the form and reads them, defaulting to
// the months calendar months up to now.
func (f *reportFilters) period(c *Console, v *view, months int) (reports.Period, error) {
	f.field(v, "since", "date", v.T("filter.since_hint"))
	f.field(v, "until", "date", v.T("filter.until_hint"))
	now := c.opt.Now()
	p, err := reports.ParsePeriod(f.q.Get("since"), f.q.Get("until"), now, reports.MonthsBack(now, months))
	if err != nil {
		return p, err
	}
	f.Period = &p
	return p, nil
}

// whole reads a whole-number filter (def when empty).
func (f *reportFilters) whole(name string, def int) (int, error) {
	s := f.q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, reports.InputErrorf(name, "%q is not a whole number", s)
	}
	return n, nil
}

// reportsIndex is GET /console/reports: every report, with what it shows.
func (c *Console) reportsIndex(w http.ResponseWriter, r *http.Request, v *view) error {
	v.Title, v.Nav = v.T("nav.reports"), "reports"
	c.render(w, r, http.StatusOK, v, "reports", reportOrder)
	return nil
}

// report is GET /console/reports/{name}: one report's page.
func (c *Console) report(w http.ResponseWriter, r *http.Request, v *view) error {
	page, status, err := c.buildReport(r, v)
	if err != nil {
		return err
	}
	c.render(w, r, status, v, "report", page)
	return nil
}

// reportCSV is GET /console/reports/{name}/csv?table=: one table of the
// report, with the same filters, as CSV.
func (c *Console) reportCSV(w http.ResponseWriter, r *http.Request, v *view) error {
	page, status, err := c.buildReport(r, v)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return &pageError{status: status, key: "error.report_filter", args: []any{page.Problem}}
	}
	id := r.URL.Query().Get("table")
	i := slices.IndexFunc(page.Panels, func(p *panel) bool { return p.ID == id })
	if i < 0 {
		return &pageError{status: http.StatusNotFound, key: "error.not_found"}
	}
	t := page.Panels[i].Table
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.csv"`, page.Report, id))
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	head := make([]string, len(t.Head))
	for i, h := range t.Head {
		head[i] = h.CSV
	}
	cw.Write(head)
	for _, row := range t.Rows {
		line := make([]string, len(row))
		for i, cl := range row {
			line[i] = cl.Raw
		}
		cw.Write(line)
	}
	cw.Flush()
	return cw.Error()
}

// buildReport runs the report the path names with the request's filters.
// A filter the reports refuse gives the page with the problem and 400.
func (c *Console) buildReport(r *http.Request, v *view) (*reportPage, int, error) {
	name := r.PathValue("name")
	build, ok := reportBuilders()[name]
	if !ok {
		return nil, 0, &pageError{status: http.StatusNotFound, key: "error.not_found"}
	}
	v.Title, v.Nav = v.T("report."+name+".title"), "reports"
	f := &reportFilters{q: r.URL.Query()}
	page := &reportPage{Report: name, Filters: f}
	err := build(c, r, v, f, page)
	var ie *reports.InputError
	if errors.As(err, &ie) {
		page.Problem = v.T("report.bad_filter", v.T("filter."+ie.Field), v.Message(ie.Format, ie.Args, ie.Message))
		page.Panels, page.Figures = nil, nil
		return page, http.StatusBadRequest, nil
	}
	if err != nil {
		return nil, 0, err
	}
	for _, p := range page.Panels {
		q := url.Values{}
		for k, vs := range f.q {
			if k != "table" {
				q[k] = vs
			}
		}
		q.Set("table", p.ID)
		p.CSV = Prefix + "reports/" + name + "/csv?" + q.Encode()
	}
	return page, http.StatusOK, nil
}

// PeriodText writes a report's period in the reader's language (its end is
// exclusive; reports count in UTC).
func (v *view) PeriodText(p *reports.Period) string {
	last := p.Until.UTC().Add(-time.Nanosecond)
	return v.T("report.period", p.Since.UTC().Format(v.loc.dateOnly), last.Format(v.loc.dateOnly))
}
