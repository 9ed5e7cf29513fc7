package reports

import (
	"context"
	"maps"
	"slices"

	"github.com/tidingsdev/tidings/internal/store"
)

// SurveyStore is what the NPS and CSAT reports read; *store.Store
// implements it.
type SurveyStore interface {
	SurveyTallies(ctx context.Context, q store.SurveyQuery) ([]store.SurveyTally, error)
	DetractorComments(ctx context.Context, q store.SurveyQuery, limit int) ([]store.DetractorComment, error)
}

// SurveyQuery asks for an NPS or CSAT report.
type SurveyQuery struct {
	Period
	// Triggers maps the event types that start a survey follow-up to the
	// survey they ask (the survey journey's triggers setting); it decides
	// the kind of an invitation nobody answered. Nil means the journey's
	// default: nps after order_delivered, csat after ticket_closed.
	Triggers map[string]string
	// Comments is how many commented detractor answers to list, newest
	// first; 0 means 20.
	Comments int
}

// Breakdowns of a survey report, in the order the report lists them.
const (
	ByWeek    = "week"
	ByMonth   = "month"
	ByTrigger = "trigger"
	ByLocale  = "locale"
	ByTier    = "tier"
)

// surveyBreakdowns are the groupings a survey report has.
var surveyBreakdowns = []string{ByWeek, ByMonth, ByTrigger, ByLocale, ByTier}

// SurveyReport is an NPS or CSAT report for a period.
type SurveyReport struct {
	Survey string `json:"survey"`
	Period
	// Definition says how Score is computed, for a reader of the JSON.
	Definition string `json:"definition"`
	// Bands name the scores of detractors, passives and promoters.
	Bands string    `json:"bands"`
	Total SurveyRow `json:"total"`
	// Breakdowns are by week and by month (every period of the range, oldest
	// first, empty ones included: a chart's x axis), by trigger, locale and
	// value tier (largest first).
	Breakdowns []SurveyBreakdown `json:"breakdowns"`
	// Detractors are the newest commented detractor answers, each naming
	// the customer (Link is the customer in the API).
	Detractors []Detractor `json:"detractors"`
}

// SurveyBreakdown is one grouping of a survey report: a series for a chart,
// Rows[i].Label on the x axis.
type SurveyBreakdown struct {
	By   string      `json:"by"`
	Rows []SurveyRow `json:"rows"`
}

// Breakdown returns the grouping named by (ByWeek, ...), or false.
func (r SurveyReport) Breakdown(by string) (SurveyBreakdown, bool) {
	for _, b := range r.Breakdowns {
		if b.By == by {
			return b, true
		}
	}
	return SurveyBreakdown{}, false
}

// SurveyRow is one group's figures. Invited and Answered count invitations
// sent in the group (the response rate's terms); Responses and the bands
// count answers given in it. Rates and scores are nil without a
// denominator.
type SurveyRow struct {
	Label string `json:"label"`
	// Invited: survey invitations sent; Answered: those answered (by the
	// survey's link or its reminder's); ResponseRate = Answered / Invited.
	Invited      int      `json:"invited"`
	Answered     int      `json:"answered"`
	ResponseRate *float64 `json:"response_rate"`
	Responses    int      `json:"responses"`
	Promoters    int      `json:"promoters"`
	Passives     int      `json:"passives"`
	Detractors   int      `json:"detractors"`
	// PromoterShare and DetractorShare are fractions of Responses.
	PromoterShare  *float64 `json:"promoter_share"`
	DetractorShare *float64 `json:"detractor_share"`
	// Score is the NPS (−100…100) or the CSAT (0…100); see the report's
	// Definition.
	Score *float64 `json:"score"`
	// MeanScore is the average answer (0–10 or 1–5).
	MeanScore *float64 `json:"mean_score"`
}

// Detractor is a detractor's comment and whom it came from.
type Detractor struct {
	store.DetractorComment
	Link string `json:"link"`
}

// NPS is the Net Promoter Score report: 100 × (promoters − detractors) /
// answers, promoters answering 9–10 and detractors 0–6.
func NPS(ctx context.Context, st SurveyStore, q SurveyQuery) (SurveyReport, error) {
	return surveyReport(ctx, st, store.NPS, q)
}

// CSAT is the customer satisfaction report: 100 × answers of 4 or 5 /
// answers, on the 1–5 scale; detractors answer 1–2, promoters 5.
func CSAT(ctx context.Context, st SurveyStore, q SurveyQuery) (SurveyReport, error) {
	return surveyReport(ctx, st, store.CSAT, q)
}

var surveyDefinitions = map[string][2]string{
	store.NPS:  {"100 × (promoters − detractors) / responses", "detractors 0–6, passives 7–8, promoters 9–10"},
	store.CSAT: {"100 × responses of 4 or 5 / responses", "detractors 1–2, passives 3–4, promoters 5"},
}

func surveyReport(ctx context.Context, st SurveyStore, kind string, q SurveyQuery) (SurveyReport, error) {
	if err := q.check(); err != nil {
		return SurveyReport{}, err
	}
	if q.Comments < 0 || q.Comments > 1000 {
		return SurveyReport{}, inputErrorf("comments", "must be between 0 and 1000")
	}
	if q.Comments == 0 {
		q.Comments = 20
	}
	triggers := q.Triggers
	if triggers == nil {
		triggers = map[string]string{"order_delivered": store.NPS, "ticket_closed": store.CSAT}
	}
	sq := store.SurveyQuery{Survey: kind, Since: q.Since, Until: q.Until}
	for _, ev := range slices.Sorted(maps.Keys(triggers)) {
		if triggers[ev] == kind {
			sq.Triggers = append(sq.Triggers, ev)
		}
	}
	tallies, err := st.SurveyTallies(ctx, sq)
	if err != nil {
		return SurveyReport{}, err
	}
	comments, err := st.DetractorComments(ctx, sq, q.Comments)
	if err != nil {
		return SurveyReport{}, err
	}
	def := surveyDefinitions[kind]
	r := SurveyReport{Survey: kind, Period: q.Period, Definition: def[0], Bands: def[1], Total: SurveyRow{Label: "total"}}
	byDim := map[string][]SurveyRow{}
	for _, t := range tallies {
		row := surveyRow(kind, t)
		if t.Dimension == "total" {
			r.Total = row
			r.Total.Label = "total"
			continue
		}
		byDim[t.Dimension] = append(byDim[t.Dimension], row)
	}
	for _, by := range surveyBreakdowns {
		rows := byDim[by]
		label := func(r SurveyRow) string { return r.Label }
		empty := func(l string) SurveyRow { return SurveyRow{Label: l} }
		switch by {
		case ByWeek:
			rows = fillPeriods(rows, weeks(q.Period), label, empty)
		case ByMonth:
			rows = fillPeriods(rows, months(q.Period), label, empty)
		default:
			slices.SortStableFunc(rows, func(a, b SurveyRow) int { return (b.Responses + b.Invited) - (a.Responses + a.Invited) })
		}
		r.Breakdowns = append(r.Breakdowns, SurveyBreakdown{By: by, Rows: nonNil(rows)})
	}
	r.Detractors = make([]Detractor, len(comments))
	for i, c := range comments {
		r.Detractors[i] = Detractor{DetractorComment: c, Link: "/v1/customers/" + c.CustomerID}
	}
	return r, nil
}

// surveyRow computes one group's figures from its counts.
func surveyRow(kind string, t store.SurveyTally) SurveyRow {
	row := SurveyRow{Label: t.Label, Invited: t.Invited, Answered: t.Answered, Responses: t.Responses,
		Promoters: t.Promoters, Detractors: t.Detractors, Passives: t.Responses - t.Promoters - t.Detractors}
	row.ResponseRate = ratio(t.Answered, t.Invited)
	row.PromoterShare = ratio(t.Promoters, t.Responses)
	row.DetractorShare = ratio(t.Detractors, t.Responses)
	if t.Responses > 0 {
		var score float64
		if kind == store.NPS {
			score = 100 * float64(t.Promoters-t.Detractors) / float64(t.Responses)
		} else {
			score = 100 * float64(t.Satisfied) / float64(t.Responses)
		}
		mean := float64(t.ScoreSum) / float64(t.Responses)
		row.Score, row.MeanScore = &score, &mean
	}
	return row
}

// fillPeriods puts rows in the order of labels (a period's weeks or
// months), adding empty(label) for each period without data, so a chart's
// x axis has no gaps.
func fillPeriods[R any](rows []R, labels []string, label func(R) string, empty func(string) R) []R {
	have := map[string]R{}
	for _, r := range rows {
		have[label(r)] = r
	}
	out := make([]R, len(labels))
	for i, l := range labels {
		r, ok := have[l]
		if !ok {
			r = empty(l)
		}
		out[i] = r
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
