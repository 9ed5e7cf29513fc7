package console

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/store"
)

// One builder per report: it reads the report's filters, calls the report
// function the API and the CLI call, and lays the result out as figures and
// panels.

// campaignReport: the arms as a funnel (entered, sent, converted), the
// uplift over the holdout with its 95% interval as error bars, and the A/B
// variants' chances of being best.
func (c *Console) campaignReport(r *http.Request, v *view, f *reportFilters, page *reportPage) error {
	all, err := c.mgmt.Campaigns(r.Context())
	if err != nil {
		return err
	}
	opts := make([]filterOption, len(all))
	for i, cp := range all {
		opts[i] = filterOption{Value: cp.Name, Label: cp.Name}
	}
	name := f.choice(v, "campaign", opts)
	if name == "" {
		page.Empty = v.T("report.campaign.none")
		return nil
	}
	rep, err := reports.Campaign(r.Context(), c.store, name)
	if err != nil {
		return err
	}
	if len(rep.Arms) == 0 {
		page.Empty = v.T("results.none")
		return nil
	}
	arms := page.addPanel("arms", v.T("report.campaign.arms"), v.col("results.arm", "arm"), v.num("results.entered", "entered"),
		v.num("results.sent", "sent"), v.num("results.failed", "failed"), v.num("results.converted", "converted"),
		v.num("results.rate", "conversion_rate"), v.num("report.redeemed", "coupons_redeemed"))
	if rep.AsOf != nil {
		arms.Note = v.T("results.as_of", v.Time(*rep.AsOf))
	} else {
		arms.Note = v.T("results.not_refreshed")
	}
	var x []string
	var entered, sent, converted, rate []any
	for _, a := range rep.Arms {
		label := v.ArmLabel(a)
		rateOf := a.ConversionRate
		arms.row(text(label), v.count(a.Entered), v.count(a.Sent), v.count(a.Failed), v.count(a.Converted), v.pct(&rateOf), v.count(a.Redeemed))
		x = append(x, label)
		entered, sent, converted = append(entered, a.Entered), append(sent, a.Sent), append(converted, a.Converted)
		rate = append(rate, inPercent(&rateOf))
	}
	arms.Chart = overTime(x, "%",
		series{Name: v.T("results.entered"), Kind: "bar", Data: entered},
		series{Name: v.T("results.sent"), Kind: "bar", Data: sent},
		series{Name: v.T("results.converted"), Kind: "bar", Data: converted},
		series{Name: v.T("results.rate"), Kind: "line", Data: rate, Right: true})
	fr, err := reports.CampaignFunnel(r.Context(), c.store, name, reports.FunnelQuery{Kept: true})
	if err != nil {
		return err
	}
	funnelPanel(v, page, fr)

	if w := rep.Winner; w != nil {
		page.Figures = append(page.Figures, figure{ID: "winner", Label: v.T("winner.figure", w.Version), Value: w.Variant},
			figure{ID: "winner-at", Label: v.T("winner.at"), Value: v.Time(w.DecidedAt)})
		page.Notes = append(page.Notes, winnerText(v, w)+" "+strings.Join(winnerTallies(v, w), v.T("list.semicolon")))
	}
	if u := rep.Uplift; u != nil {
		page.Figures = append(page.Figures,
			figure{ID: "uplift", Label: v.T("results.uplift"), Value: v.Points(u.Points)},
			figure{ID: "interval", Label: v.T("report.interval"), Value: v.T("report.interval_value", v.Points(u.Low), v.Points(u.High))},
			figure{ID: "verdict", Label: v.T("report.verdict"), Value: verdictText(v, u)})
		cmp := page.addPanel("uplift", v.T("report.campaign.uplift"), v.col("report.comparison", "comparison"),
			v.num("report.treatment_rate", "treatment_rate"), v.num("report.holdout_rate", "holdout_rate"),
			v.num("results.uplift", "uplift_points"), v.num("report.low", "low"), v.num("report.high", "high"), v.col("report.verdict", "verdict"))
		names := []string{v.T("report.all_treatment")}
		ests := []*reports.UpliftEstimate{u}
		for _, vc := range rep.Variants {
			names = append(names, vc.Variant)
			ests = append(ests, reports.Uplift(vc.Converted, vc.Entered, u.Holdout.Converted, u.Holdout.Entered))
		}
		pts, lows, highs := make([]float64, len(ests)), make([]float64, len(ests)), make([]float64, len(ests))
		for i, e := range ests {
			pts[i], lows[i], highs[i] = e.Points, e.Low, e.High
			cmp.row(text(names[i]), v.pct(&e.Treatment.Rate), v.pct(&e.Holdout.Rate), v.decimal(&e.Points, 1),
				v.decimal(&e.Low, 1), v.decimal(&e.High, 1), cell{Text: verdictText(v, e), Raw: e.Verdict})
		}
		cmp.Chart = intervals(names, v.T("results.uplift"), v.T("report.interval"), pts, lows, highs)
		page.Notes = append(page.Notes, v.T("report.campaign.note", u.MinGroup))
	}
	if len(rep.Variants) > 1 {
		vs := page.addPanel("variants", v.T("report.campaign.variants"), v.col("report.variant", "variant"),
			v.num("results.entered", "entered"), v.num("results.converted", "converted"), v.num("results.rate", "conversion_rate"),
			v.num("report.prob_best", "prob_best"))
		var names []string
		var best []any
		for _, vc := range rep.Variants {
			vs.row(text(vc.Variant), v.count(vc.Entered), v.count(vc.Converted), v.pct(&vc.Rate), v.pct(&vc.ProbBest))
			names, best = append(names, vc.Variant), append(best, inPercent(&vc.ProbBest))
		}
		vs.Chart = overTime(names, "%", series{Name: v.T("report.prob_best"), Kind: "bar", Data: best, Right: true})
	}
	return nil
}

// ArmLabel names a campaign's arm in the reader's language: a variant,
// the rest of the audience sent an A/B test's winner, the holdout, or
// everyone treated when there is no split.
func (v *view) ArmLabel(a store.CampaignArm) string {
	switch {
	case a.Holdout:
		return v.T("results.holdout")
	case a.Rollout:
		return v.T("results.rollout", a.Variant)
	case a.Variant == "":
		return v.T("results.everyone")
	}
	return a.Variant
}

// funnelArm is a funnel arm as the results name it: the funnel writes the
// rest of an A/B test's audience "<variant> rollout".
func funnelArm(a reports.FunnelArm) store.CampaignArm {
	variant, rollout := strings.CutSuffix(a.Arm, " rollout")
	return store.CampaignArm{Variant: variant, Holdout: a.Holdout, Rollout: rollout}
}

// winnerText says which variant an automatic A/B test chose, when and by
// what rule, in the reader's language; winnerTallies are the numbers it
// was chosen on, one line a variant.
func winnerText(v *view, w *store.CampaignWinner) string {
	return v.T("winner.chosen", w.Variant, v.Time(w.DecidedAt), v.T("winner.metric."+w.Metric), v.T("winner.rule."+w.Rule), w.Variant)
}

func winnerTallies(v *view, w *store.CampaignWinner) []string {
	out := make([]string, len(w.Tallies))
	for i, t := range w.Tallies {
		rate := "—"
		if t.Sent > 0 {
			rate = v.Percent(float64(t.Hits) / float64(t.Sent))
		}
		out[i] = v.T("winner.tally", t.Variant, t.Hits, t.Sent, rate)
	}
	return out
}

// verdictText is an uplift's verdict in the reader's language.
func verdictText(v *view, e *reports.UpliftEstimate) string {
	switch e.Verdict {
	case reports.VerdictBetter:
		return v.T("verdict.better")
	case reports.VerdictWorse:
		return v.T("verdict.worse")
	case reports.VerdictNoDiff:
		return v.T("verdict.no_difference")
	}
	return v.T("verdict.not_enough", e.MinGroup)
}

// journeyReport: a journey's runs and conversions, revenue by the step
// credited.
func (c *Console) journeyReport(r *http.Request, v *view, f *reportFilters, page *reportPage) error {
	js, err := c.mgmt.Journeys(r.Context())
	if err != nil {
		return err
	}
	opts := make([]filterOption, len(js))
	for i, j := range js {
		opts[i] = filterOption{Value: j.Name, Label: j.Name}
	}
	name := f.choice(v, "journey", opts)
	p, err := f.period(c, v, 12)
	if err != nil {
		return err
	}
	rep, err := reports.Journey(r.Context(), c.store, name, p)
	if err != nil {
		return err
	}
	page.Figures = append(page.Figures,
		figure{ID: "runs", Label: v.T("report.journey.runs"), Value: v.Num(rep.Runs)},
		figure{ID: "converted", Label: v.T("results.converted"), Value: v.Num(rep.Converted)},
		figure{ID: "rate", Label: v.T("results.rate"), Value: v.pct(rep.ConversionRate).Text},
		figure{ID: "recovered", Label: v.T("report.journey.recovered"), Value: v.Num(rep.Recovered)})
	for _, cur := range slices.Sorted(maps.Keys(rep.Revenue)) {
		page.Figures = append(page.Figures, figure{ID: "revenue-" + cur, Label: v.T("report.revenue_in", cur), Value: v.Money(rep.Revenue[cur])})
	}
	steps := page.addPanel("steps", v.T("report.journey.steps"), v.col("report.step", "step"), v.col("report.currency", "currency"),
		v.num("report.conversions", "conversions"), v.num("report.customers", "customers"), v.num("report.revenue", "revenue"))
	var x []string
	var conv, rev []any
	for _, s := range rep.Steps {
		revenue := s.Revenue
		steps.row(text(s.Step), text(s.Currency), v.count(s.Conversions), v.count(s.Customers), v.money(&revenue))
		x, conv, rev = append(x, s.Step+" "+s.Currency), append(conv, s.Conversions), append(rev, round1(s.Revenue))
	}
	steps.Chart = overTime(x, "", series{Name: v.T("report.conversions"), Kind: "bar", Data: conv},
		series{Name: v.T("report.revenue"), Kind: "bar", Data: rev, Right: true})
	fr, err := reports.JourneyFunnel(r.Context(), c.store, name, reports.FunnelQuery{Period: p, Kept: true})
	if err != nil {
		return err
	}
	funnelPanel(v, page, fr)
	if len(rep.Steps) == 0 {
		page.Empty = v.T("report.journey.empty")
	}
	return nil
}

// funnelPanel is a funnel: for each arm and step, how many entries the
// step's message reached at each stage and the conversions credited to it,
// as bars side by side, and when it was counted.
func funnelPanel(v *view, page *reportPage, fr reports.FunnelReport) *panel {
	pn := page.addPanel("funnel", v.T("report.funnel", fr.WindowDays), v.col("results.arm", "arm"), v.col("report.step", "step"),
		v.num("results.entered", "entered"), v.num("results.sent", "sent"), v.num("report.delivered", "delivered"),
		v.num("report.opened", "opened"), v.num("report.clicked", "clicked"), v.num("report.redeemed", "redeemed"),
		v.num("report.conversions", "conversions"), v.num("report.open_rate", "open_rate"), v.num("report.click_rate", "click_rate"))
	var x []string
	var sent, delivered, opened, clicked, conv []any
	for _, a := range fr.Arms {
		arm := v.ArmLabel(funnelArm(a))
		for _, st := range a.Steps {
			pn.row(cell{Text: arm, Raw: a.Arm}, text(st.Step), v.count(a.Entered), v.count(st.Sent), v.count(st.Delivered), v.count(st.Opened),
				v.count(st.Clicked), v.count(st.Redeemed), v.count(st.Conversions), v.pct(st.OpenRate), v.pct(st.ClickRate))
			x = append(x, arm+" · "+st.Step)
			sent, delivered, opened = append(sent, st.Sent), append(delivered, st.Delivered), append(opened, st.Opened)
			clicked, conv = append(clicked, st.Clicked), append(conv, st.Conversions)
		}
	}
	pn.Chart = overTime(x, "",
		series{Name: v.T("results.sent"), Kind: "bar", Data: sent},
		series{Name: v.T("report.delivered"), Kind: "bar", Data: delivered},
		series{Name: v.T("report.opened"), Kind: "bar", Data: opened},
		series{Name: v.T("report.clicked"), Kind: "bar", Data: clicked},
		series{Name: v.T("report.conversions"), Kind: "bar", Data: conv})
	pn.Note = v.T("results.live")
	if fr.AsOf != nil {
		pn.Note = v.T("results.as_of", v.Time(*fr.AsOf))
	}
	return pn
}

// npsReport and csatReport: the score by month and week with the bands
// stacked, the same by trigger, locale and tier, and detractors' comments.
func (c *Console) npsReport(r *http.Request, v *view, f *reportFilters, page *reportPage) error {
	return c.surveyReport(r, v, f, page, reports.NPS)
}

func (c *Console) csatReport(r *http.Request, v *view, f *reportFilters, page *reportPage) error {
	return c.surveyReport(r, v, f, page, reports.CSAT)
}

func (c *Console) surveyReport(r *http.Request, v *view, f *reportFilters, page *reportPage,
	report func(context.Context, reports.SurveyStore, reports.SurveyQuery) (reports.SurveyReport, error)) error {
	p, err := f.period(c, v, 12)
	if err != nil {
		return err
	}
	rep, err := report(r.Context(), c.store, reports.SurveyQuery{Period: p, Triggers: c.opt.SurveyTriggers})
	if err != nil {
		return err
	}
	t := rep.Total
	page.Figures = append(page.Figures,
		figure{ID: "score", Label: v.T("report.score"), Value: v.decimal(t.Score, 1).Text},
		figure{ID: "responses", Label: v.T("report.responses"), Value: v.Num(t.Responses)},
		figure{ID: "response-rate", Label: v.T("report.response_rate"), Value: v.pct(t.ResponseRate).Text})
	page.Notes = append(page.Notes, v.T("report."+rep.Survey+".note"))
	for _, by := range []string{reports.ByMonth, reports.ByWeek, reports.ByTrigger, reports.ByLocale, reports.ByTier} {
		b, _ := rep.Breakdown(by)
		pn := page.addPanel(by, v.T("report.by."+by), v.col("report.dim."+by, by), v.num("report.invited", "invited"),
			v.num("report.answered", "answered"), v.num("report.response_rate", "response_rate"), v.num("report.responses", "responses"),
			v.num("report.promoters", "promoters"), v.num("report.passives", "passives"), v.num("report.detractors", "detractors"),
			v.num("report.score", "score"), v.num("report.mean", "mean_score"))
		var x []string
		var pro, pas, det, score []any
		for _, row := range b.Rows {
			label := groupLabel(v, by, row.Label)
			pn.row(text(label), v.count(row.Invited), v.count(row.Answered), v.pct(row.ResponseRate), v.count(row.Responses),
				v.count(row.Promoters), v.count(row.Passives), v.count(row.Detractors), v.decimal(row.Score, 1), v.decimal(row.MeanScore, 2))
			x = append(x, label)
			pro, pas, det = append(pro, row.Promoters), append(pas, row.Passives), append(det, row.Detractors)
			score = append(score, figureOf(row.Score))
		}
		pn.Chart = overTime(x, "",
			series{Name: v.T("report.promoters"), Kind: "bar", Data: pro, Stack: "bands"},
			series{Name: v.T("report.passives"), Kind: "bar", Data: pas, Stack: "bands"},
			series{Name: v.T("report.detractors"), Kind: "bar", Data: det, Stack: "bands"},
			series{Name: v.T("report.score"), Kind: "line", Data: score, Right: true})
	}
	com := page.addPanel("comments", v.T("report.comments"), v.col("report.answered_at", "answered_at"),
		v.col("report.customer", "external_id"), v.num("report.score", "score"), v.col("report.dim.trigger", "trigger"), v.col("report.comment", "comment"))
	// Comments are read, not compared: they get the page's width.
	com.Wide = true
	for _, d := range rep.Detractors {
		who := text(d.ExternalID)
		who.Href = Prefix + "customers/" + d.CustomerID
		com.row(cell{Text: v.Time(d.AnsweredAt), Raw: d.AnsweredAt.UTC().Format(time.RFC3339)}, who, v.count(d.Score), text(d.Trigger), text(d.Comment))
	}
	if t.Responses == 0 && t.Invited == 0 {
		page.Empty = v.T("report.survey.empty")
	}
	return nil
}

// groupLabel names a breakdown's group in the reader's language where the
// label is a code (a tier, an empty trigger).
func groupLabel(v *view, by, label string) string {
	switch {
	case label == "":
		return v.T("report.none")
	case by == reports.ByTier:
		return v.T("tier." + label)
	}
	return label
}

// retentionReport: the triangle of first-purchase cohorts as a heat map.
func (c *Console) retentionReport(r *http.Request, v *view, f *reportFilters, page *reportPage) error {
	p, err := f.period(c, v, 13)
	if err != nil {
		return err
	}
	rep, err := reports.Retention(r.Context(), c.store, p, nil)
	if err != nil {
		return err
	}
	cols := []column{v.col("report.cohort", "cohort"), v.num("report.customers", "customers")}
	var x []string
	for _, o := range rep.Offsets {
		x = append(x, v.T("report.months_later", o))
		cols = append(cols, column{Label: x[len(x)-1], CSV: fmt.Sprintf("+%d", o), Num: true})
	}
	tri := page.addPanel("cohorts", v.T("report.retention.cohorts"), cols...)
	tri.Wide = true
	var y []string
	var cells [][3]any
	for i, row := range rep.Rows {
		line := []cell{text(row.Cohort), v.count(row.Size)}
		for j, rate := range row.Rates {
			line = append(line, v.pct(rate))
			if rate != nil {
				cells = append(cells, [3]any{j, i, inPercent(rate)})
			}
		}
		tri.row(line...)
		y = append(y, fmt.Sprintf("%s (%s)", row.Cohort, v.Num(row.Size)))
	}
	tri.Chart = heatmap(v.T("report.retention.rate"), x, y, cells, true)
	page.Notes = append(page.Notes, v.T("report.retention.note"))
	return nil
}

// churnReport: the churn rate per month with the customers behind it.
func (c *Console) churnReport(r *http.Request, v *view, f *reportFilters, page *reportPage) error {
	p, err := f.period(c, v, 12)
	if err != nil {
		return err
	}
	f.field(v, "days", "number", v.T("filter.days_hint"))
	days, err := f.whole("days", reports.DefaultChurnDays)
	if err != nil {
		return err
	}
	if days < 1 {
		// The report reads 0 as its default; a reader who typed 0 meant it.
		return reports.InputErrorf("days", "must be between 1 and 3650")
	}
	rep, err := reports.Churn(r.Context(), c.store, p, days)
	if err != nil {
		return err
	}
	pn := page.addPanel("months", v.T("report.churn.months"), v.col("report.month", "month"), v.num("report.active_start", "active_at_start"),
		v.num("report.churned", "churned"), v.num("report.churn_rate", "churn_rate"), v.num("report.gained", "gained"), v.num("report.active_end", "active_at_end"))
	var x []string
	var active, churned, gained, rate []any
	for _, row := range rep.Rows {
		pn.row(text(row.Label), v.count(row.ActiveAtStart), v.count(row.Churned), v.pct(row.Rate), v.count(row.Gained), v.count(row.ActiveAtEnd))
		x = append(x, row.Label)
		active, churned, gained = append(active, row.ActiveAtStart), append(churned, row.Churned), append(gained, row.Gained)
		rate = append(rate, inPercent(row.Rate))
	}
	pn.Chart = overTime(x, "%",
		series{Name: v.T("report.active_start"), Kind: "bar", Data: active},
		series{Name: v.T("report.churned"), Kind: "bar", Data: churned},
		series{Name: v.T("report.gained"), Kind: "bar", Data: gained},
		series{Name: v.T("report.churn_rate"), Kind: "line", Data: rate, Right: true})
	page.Notes = append(page.Notes, v.T("report.churn.note", rep.Days))
	return nil
}

// lifecycleReport: customers per lifecycle stage at a moment.
func (c *Console) lifecycleReport(r *http.Request, v *view, f *reportFilters, page *reportPage) error {
	f.field(v, "at", "date", v.T("filter.at_hint"))
	at := c.opt.Now()
	if s := f.get("at"); s != "" {
		t, err := reports.ParseTime(s, at)
		if err != nil {
			return reports.Named("at", err)
		}
		at = t
	}
	rep, err := reports.Lifecycle(r.Context(), c.store.Pool(), at)
	if err != nil {
		return err
	}
	page.Figures = append(page.Figures, figure{ID: "total", Label: v.T("report.customers"), Value: v.Num(rep.Total)},
		figure{ID: "at", Label: v.T("filter.at"), Value: v.Time(rep.At)})
	pn := page.addPanel("stages", v.T("report.lifecycle.stages"), v.col("report.stage", "stage"),
		v.num("report.customers", "customers"), v.num("report.share", "share"))
	var x []string
	var n []any
	for _, s := range rep.Stages {
		label := v.Lifecycle(s.Stage)
		pn.row(cell{Text: label, Raw: s.Stage}, v.count(s.Customers), v.pct(s.Share))
		x, n = append(x, label), append(n, s.Customers)
	}
	pn.Chart = overTime(x, "", series{Name: v.T("report.customers"), Kind: "bar", Data: n})
	page.Notes = append(page.Notes, v.T("report.lifecycle.note"))

	// The stages month by month, as the refreshes recorded them.
	p, err := f.period(c, v, 12)
	if err != nil {
		return err
	}
	hist, err := reports.LifecycleHistory(r.Context(), c.store, p)
	if err != nil {
		return err
	}
	cols := []column{v.col("report.month", "month")}
	for _, st := range hist.Stages {
		cols = append(cols, column{Label: v.Lifecycle(st), CSV: st, Num: true})
	}
	cols = append(cols, v.num("report.customers", "total"), v.num("report.moved", "moved"), v.num("report.joined", "joined"))
	hp := page.addPanel("history", v.T("report.lifecycle.history"), cols...)
	var months []string
	byStage := make([][]any, len(hist.Stages))
	for _, m := range hist.Months {
		line := []cell{text(m.Month)}
		for i, n := range m.Customers {
			line = append(line, v.countOf(n))
			byStage[i] = append(byStage[i], ptrValue(n))
		}
		line = append(line, v.countOf(m.Total), v.countOf(m.Moved), v.countOf(m.Joined))
		hp.row(line...)
		months = append(months, m.Month)
	}
	var ss []series
	for i, st := range hist.Stages {
		ss = append(ss, series{Name: v.Lifecycle(st), Kind: "bar", Data: byStage[i], Stack: "stages"})
	}
	hp.Chart = overTime(months, "", ss...)
	fl := page.addPanel("flows", v.T("report.lifecycle.flows"), v.col("report.month", "month"), v.col("report.from", "from"),
		v.col("report.to", "to"), v.num("report.customers", "customers"))
	for _, flow := range hist.Flows {
		if flow.From == flow.To {
			continue
		}
		from := v.T("report.none")
		if flow.From != "" {
			from = v.Lifecycle(flow.From)
		}
		fl.row(text(flow.Month), cell{Text: from, Raw: flow.From}, cell{Text: v.Lifecycle(flow.To), Raw: flow.To}, v.count(flow.Customers))
	}
	return nil
}

// countOf is a count that may be missing (a month no refresh recorded).
func (v *view) countOf(n *int) cell {
	if n == nil {
		return cell{Text: "—"}
	}
	return v.count(*n)
}

func ptrValue(n *int) any {
	if n == nil {
		return nil
	}
	return *n
}

// clvReport: historical and predicted lifetime value by cohort and by tier.
func (c *Console) clvReport(r *http.Request, v *view, f *reportFilters, page *reportPage) error {
	rep, err := reports.Value(r.Context(), c.store, c.opt.Now())
	if err != nil {
		return err
	}
	t := rep.Total
	page.Figures = append(page.Figures,
		figure{ID: "buyers", Label: v.T("report.buyers"), Value: v.Num(t.Customers)},
		figure{ID: "historical", Label: v.T("report.clv.historical"), Value: v.money(t.HistoricalCLV).Text},
		figure{ID: "predicted", Label: v.T("report.clv.predicted"), Value: v.money(t.PredictedCLV).Text},
		figure{ID: "aov", Label: v.T("report.clv.aov"), Value: v.money(t.AOV).Text})
	cohorts := valuePanel(v, page, "cohorts", "report.cohort", rep.ByCohort, func(s string) string { return s })
	var x []string
	var hist, pred []any
	for _, row := range rep.ByCohort {
		x, hist, pred = append(x, row.Label), append(hist, figureOf(row.HistoricalCLV)), append(pred, figureOf(row.PredictedCLV))
	}
	cohorts.Chart = overTime(x, "", series{Name: v.T("report.clv.historical"), Kind: "line", Data: hist},
		series{Name: v.T("report.clv.predicted"), Kind: "line", Data: pred})
	tiers := valuePanel(v, page, "tiers", "report.tier", rep.ByTier, func(s string) string { return v.T("tier." + s) })
	x, hist = nil, nil
	var share []any
	for _, row := range rep.ByTier {
		x, hist, share = append(x, v.T("tier."+row.Label)), append(hist, figureOf(row.HistoricalCLV)), append(share, inPercent(row.RevenueShare))
	}
	tiers.Chart = overTime(x, "%", series{Name: v.T("report.clv.historical"), Kind: "bar", Data: hist},
		series{Name: v.T("report.revenue_share"), Kind: "bar", Data: share, Right: true})
	segs := valuePanel(v, page, "segments", "report.segment", rep.BySegment, func(s string) string { return s })
	x, hist, pred = nil, nil, nil
	for _, row := range rep.BySegment {
		x, hist, pred = append(x, row.Label), append(hist, figureOf(row.HistoricalCLV)), append(pred, figureOf(row.PredictedCLV))
	}
	segs.Chart = overTime(x, "", series{Name: v.T("report.clv.historical"), Kind: "bar", Data: hist},
		series{Name: v.T("report.clv.predicted"), Kind: "bar", Data: pred})
	if rep.AsOf != nil {
		page.Notes = append(page.Notes, v.T("results.as_of", v.Time(*rep.AsOf)))
	}
	page.Notes = append(page.Notes, v.T("report.clv.note"))
	return nil
}

// valuePanel is a table of value rows, labelled by label.
func valuePanel(v *view, page *reportPage, id, first string, rows []reports.ValueRow, label func(string) string) *panel {
	pn := page.addPanel(id, v.T("report.clv."+id), v.col(first, strings.TrimPrefix(first, "report.")), v.num("report.buyers", "customers"),
		v.num("report.orders", "orders"), v.num("report.revenue", "revenue"), v.num("report.revenue_share", "revenue_share"),
		v.num("report.clv.historical", "historical_clv"), v.num("report.clv.aov", "aov"), v.num("report.clv.frequency", "frequency"),
		v.num("report.clv.lifetime", "lifetime_years"), v.num("report.clv.predicted", "predicted_clv"))
	for _, row := range rows {
		revenue := row.Revenue
		pn.row(cell{Text: label(row.Label), Raw: row.Label}, v.count(row.Customers), v.count(row.Orders), v.money(&revenue), v.pct(row.RevenueShare),
			v.money(row.HistoricalCLV), v.money(row.AOV), v.decimal(row.Frequency, 2), v.decimal(row.LifetimeYears, 1), v.money(row.PredictedCLV))
	}
	return pn
}

// rfmReport: the recency × frequency grid as a heat map of customers.
func (c *Console) rfmReport(r *http.Request, v *view, f *reportFilters, page *reportPage) error {
	rep, err := reports.RFM(r.Context(), c.store)
	if err != nil {
		return err
	}
	page.Figures = append(page.Figures, figure{ID: "scored", Label: v.T("report.rfm.scored"), Value: v.Num(rep.Customers)})
	pn := page.addPanel("grid", v.T("report.rfm.grid"), v.num("report.rfm.recency", "recency"), v.num("report.rfm.frequency", "frequency"),
		v.num("report.customers", "customers"), v.num("report.revenue", "revenue"), v.num("report.rfm.monetary", "monetary"))
	pn.Wide = true
	x := make([]string, len(rep.Frequency))
	for i, fq := range rep.Frequency {
		x[i] = v.T("report.rfm.f", fq)
	}
	y := make([]string, len(rep.Recency))
	for i, rc := range rep.Recency {
		y[i] = v.T("report.rfm.r", rc)
	}
	var cells [][3]any
	for _, cl := range rep.Cells {
		revenue, monetary := cl.Revenue, cl.Monetary
		pn.row(v.count(cl.Recency), v.count(cl.Frequency), v.count(cl.Customers), v.money(&revenue), v.decimal(&monetary, 1))
		cells = append(cells, [3]any{slices.Index(rep.Frequency, cl.Frequency), slices.Index(rep.Recency, cl.Recency), float64(cl.Customers)})
	}
	pn.Chart = heatmap(v.T("report.customers"), x, y, cells, false)
	page.Notes = append(page.Notes, v.T("report.rfm.note"))
	if rep.Customers == 0 {
		page.Empty = v.T("report.rfm.empty")
	}
	return nil
}

// deliverabilityReport: rates by week and month, sends by topic, template
// and domain.
func (c *Console) deliverabilityReport(r *http.Request, v *view, f *reportFilters, page *reportPage) error {
	p, err := f.period(c, v, 3)
	if err != nil {
		return err
	}
	rep, err := reports.Deliverability(r.Context(), c.store, p)
	if err != nil {
		return err
	}
	t := rep.Total
	page.Figures = append(page.Figures,
		figure{ID: "sent", Label: v.T("results.sent"), Value: v.Num(t.Sent)},
		figure{ID: "failure-rate", Label: v.T("report.failure_rate"), Value: v.pct(t.FailureRate).Text},
		figure{ID: "bounce-rate", Label: v.T("report.bounce_rate"), Value: v.pct(t.BounceRate).Text},
		figure{ID: "complaint-rate", Label: v.T("report.complaint_rate"), Value: v.pct(t.ComplaintRate).Text},
		figure{ID: "unsubscribe-rate", Label: v.T("report.unsubscribe_rate"), Value: v.pct(t.UnsubscribeRate).Text})
	for _, by := range []string{reports.ByWeek, reports.ByMonth, reports.ByTopic, reports.ByTemplate, reports.ByDomain} {
		b, _ := rep.Breakdown(by)
		pn := page.addPanel(by, v.T("report.by."+by), v.col("report.dim."+by, by), v.num("results.sent", "sent"),
			v.num("results.failed", "failed"), v.num("report.bounced", "bounced"), v.num("report.soft_bounced", "soft_bounced"),
			v.num("report.complained", "complained"), v.num("report.unsubscribes", "unsubscribes"), v.num("report.failure_rate", "failure_rate"),
			v.num("report.bounce_rate", "bounce_rate"), v.num("report.complaint_rate", "complaint_rate"), v.num("report.unsubscribe_rate", "unsubscribe_rate"))
		var x []string
		var sent, bounce, complaint, unsub []any
		for _, row := range b.Rows {
			label := row.Label
			if by == reports.ByTopic {
				label = v.Topic(label)
			}
			pn.row(cell{Text: label, Raw: row.Label}, v.count(row.Sent), v.count(row.Failed), v.count(row.Bounced), v.count(row.SoftBounced),
				v.count(row.Complained), v.count(row.Unsubscribes), v.pct(row.FailureRate), v.pct(row.BounceRate),
				v.pct(row.ComplaintRate), v.pct(row.UnsubscribeRate))
			x, sent = append(x, label), append(sent, row.Sent)
			bounce, complaint, unsub = append(bounce, inPercent(row.BounceRate)), append(complaint, inPercent(row.ComplaintRate)), append(unsub, inPercent(row.UnsubscribeRate))
		}
		kind := "bar"
		if by == reports.ByWeek || by == reports.ByMonth {
			kind = "line"
		}
		pn.Chart = overTime(x, "%", series{Name: v.T("results.sent"), Kind: "bar", Data: sent},
			series{Name: v.T("report.bounce_rate"), Kind: kind, Data: bounce, Right: true},
			series{Name: v.T("report.complaint_rate"), Kind: kind, Data: complaint, Right: true},
			series{Name: v.T("report.unsubscribe_rate"), Kind: kind, Data: unsub, Right: true})
	}
	page.Notes = append(page.Notes, v.T("report.deliverability.note"))
	return nil
}

// acquisitionReport: signups and buyers by source, with CAC and CLV:CAC
// where the reader gives each source's cost, or else the policy file's
// monthly spend gives it.
func (c *Console) acquisitionReport(r *http.Request, v *view, f *reportFilters, page *reportPage) error {
	p, err := f.period(c, v, 12)
	if err != nil {
		return err
	}
	f.field(v, "cost", "text", v.T("filter.cost_hint"))
	costs, err := reports.ParseCosts(strings.FieldsFunc(f.get("cost"), func(r rune) bool { return r == ',' || r == ' ' }))
	if err != nil {
		return err
	}
	rep, err := reports.Acquisition(r.Context(), c.store, p, reports.CostsFor(costs, c.opt.AcquisitionSpend, p))
	if err != nil {
		return err
	}
	pn := page.addPanel("sources", v.T("report.acquisition.sources"), v.col("report.source", "source"), v.num("report.signups", "signups"),
		v.num("report.buyers", "buyers"), v.num("report.revenue", "revenue"), v.num("report.cost", "cost"), v.num("report.cac", "cac"),
		v.num("report.clv", "clv"), v.num("report.clv_to_cac", "clv_to_cac"))
	var x []string
	var signups, buyers []any
	for _, s := range rep.Sources {
		label := s.Source
		if label == "" {
			label = v.T("report.none")
		}
		revenue := s.Revenue
		pn.row(cell{Text: label, Raw: s.Source}, v.count(s.Signups), v.count(s.Buyers), v.money(&revenue), v.money(s.Cost), v.money(s.CAC),
			v.money(s.CLV), v.decimal(s.CLVToCAC, 2))
		x, signups, buyers = append(x, label), append(signups, s.Signups), append(buyers, s.Buyers)
	}
	pn.Chart = overTime(x, "", series{Name: v.T("report.signups"), Kind: "bar", Data: signups},
		series{Name: v.T("report.buyers"), Kind: "bar", Data: buyers})
	if len(costs) == 0 && len(c.opt.AcquisitionSpend) > 0 {
		page.Notes = append(page.Notes, v.T("report.acquisition.spend", p.Months()))
	}
	if rep.AsOf != nil {
		page.Notes = append(page.Notes, v.T("report.acquisition.as_of", v.Time(*rep.AsOf)))
	}
	if rep.Hint != "" {
		page.Notes = append(page.Notes, v.T("report.acquisition.hint"))
	}
	return nil
}
