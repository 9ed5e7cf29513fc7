package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/store"
)

// surveyReport is reports.NPS or reports.CSAT.
type surveyReport func(context.Context, reports.SurveyStore, reports.SurveyQuery) (reports.SurveyReport, error)

func newReportSurveyCmd(a *app, kind string, report surveyReport) *cobra.Command {
	var since, until, by string
	var asJSON, asCSV bool
	var comments int
	name := strings.ToUpper(kind)
	cmd := &cobra.Command{
		Use:   kind,
		Short: name + " score, promoters, passives, detractors and response rate, by period, trigger, locale and tier",
		Long: `Report the ` + name + ` answers of a period (default: the last 12 calendar months):
the score, promoters, passives and detractors, the response rate (answered
invitations / invitations sent), by week, month, survey trigger, locale and
value tier, and the newest detractors' comments with the customer to call.

--by picks the table printed (month by default); --csv prints that table as
CSV (--by comments: the detractors' comments); --json prints everything.
Weeks (ISO, Monday first) and months are in UTC. Formulas: docs/reports.md.

The same report is GET /v1/reports/` + kind + `.`,
		Example: `  tidings report ` + kind + `
  tidings report ` + kind + ` --since 90d --by week
  tidings report ` + kind + ` --since 2026-01-01 --until 2026-04-01 --by locale --csv`,
		Args: exactArgs(0),
		RunE: a.withStore(func(ctx context.Context, st *store.Store, _ []string) error {
			if by != "comments" && !isBreakdown(by) {
				return withCode(exitUsage, fmt.Errorf("--by: %q is none of week, month, trigger, locale, tier, comments", by))
			}
			now := time.Now()
			p, err := reports.ParsePeriod(since, until, now, reports.MonthsBack(now, 12))
			if err != nil {
				return reportInputErr(err)
			}
			triggers, err := a.parts.SurveyTriggers()
			if err != nil {
				return err
			}
			r, err := report(ctx, st, reports.SurveyQuery{Period: p, Triggers: triggers, Comments: comments})
			if err != nil {
				return reportInputErr(err)
			}
			switch {
			case asJSON:
				return writeJSON(a.stdout, r)
			case asCSV:
				return writeSurveyCSV(a.stdout, r, by)
			}
			printSurveyReport(a.stdout, r, by)
			return nil
		}),
	}
	cmd.Flags().StringVar(&since, "since", "", "start of the period: a date (2026-01-01), an RFC 3339 time or an age (90d, 12w) (default: 12 calendar months back)")
	cmd.Flags().StringVar(&until, "until", "", "end of the period, exclusive, written like --since (default: now)")
	cmd.Flags().StringVar(&by, "by", reports.ByMonth, "table to print: week, month, trigger, locale, tier or comments")
	cmd.Flags().IntVar(&comments, "comments", 10, "how many detractors' comments to list")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the whole report as JSON")
	cmd.Flags().BoolVar(&asCSV, "csv", false, "print the --by table as CSV")
	cmd.MarkFlagsMutuallyExclusive("json", "csv")
	return cmd
}

func isBreakdown(by string) bool {
	switch by {
	case reports.ByWeek, reports.ByMonth, reports.ByTrigger, reports.ByLocale, reports.ByTier:
		return true
	}
	return false
}

// reportInputErr makes a refused query a usage error naming the flag.
func reportInputErr(err error) error {
	var ie *reports.InputError
	if errors.As(err, &ie) {
		return withCode(exitUsage, fmt.Errorf("--%s: %s", ie.Field, ie.Message))
	}
	return err
}

func printSurveyReport(w io.Writer, r reports.SurveyReport, by string) {
	name := strings.ToUpper(r.Survey)
	fmt.Fprintf(w, "%s from %s until %s (UTC)\nscore = %s; %s\n\n", name,
		day(r.Since), day(r.Until), r.Definition, r.Bands)
	t := r.Total
	if t.Responses == 0 {
		fmt.Fprintf(w, "no answers yet; %d invitations sent\n", t.Invited)
	} else {
		fmt.Fprintf(w, "%s %s from %d responses: %d promoters, %d passives, %d detractors; response rate %s of %d invitations\n",
			name, num(t.Score, 1), t.Responses, t.Promoters, t.Passives, t.Detractors, pct(t.ResponseRate), t.Invited)
	}
	if b, ok := r.Breakdown(by); ok {
		fmt.Fprintln(w)
		printRows(w, strings.ToUpper(by)+"\tINVITED\tANSWERED\tRESPONSE RATE\tRESPONSES\tPROMOTERS\tPASSIVES\tDETRACTORS\tSCORE\tMEAN", b.Rows, func(w io.Writer, row reports.SurveyRow) {
			fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n", orNone(row.Label), row.Invited, row.Answered,
				pct(row.ResponseRate), row.Responses, row.Promoters, row.Passives, row.Detractors, num(row.Score, 1), num(row.MeanScore, 2))
		})
	}
	fmt.Fprintln(w)
	if len(r.Detractors) == 0 {
		fmt.Fprintln(w, "no detractor left a comment")
		return
	}
	fmt.Fprintln(w, "detractors' comments, newest first (tidings customers get ID shows the customer):")
	printRows(w, "ANSWERED\tCUSTOMER\tSCORE\tTRIGGER\tCOMMENT", r.Detractors, func(w io.Writer, d reports.Detractor) {
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\n", d.AnsweredAt.UTC().Format("2006-01-02 15:04"), d.ExternalID, d.Score,
			orNone(d.Trigger), strconv.Quote(d.Comment))
	})
}

// writeSurveyCSV writes the --by table (the total first) or the comments.
func writeSurveyCSV(w io.Writer, r reports.SurveyReport, by string) error {
	cw := csv.NewWriter(w)
	if by == "comments" {
		cw.Write([]string{"answered_at", "customer_id", "external_id", "score", "trigger", "comment"})
		for _, d := range r.Detractors {
			cw.Write([]string{d.AnsweredAt.UTC().Format(time.RFC3339), d.CustomerID, d.ExternalID, strconv.Itoa(d.Score), d.Trigger, d.Comment})
		}
	} else {
		b, _ := r.Breakdown(by)
		cw.Write([]string{by, "invited", "answered", "response_rate", "responses", "promoters", "passives", "detractors", "score", "mean_score"})
		for _, row := range append([]reports.SurveyRow{r.Total}, b.Rows...) {
			cw.Write([]string{row.Label, strconv.Itoa(row.Invited), strconv.Itoa(row.Answered), csvNum(row.ResponseRate),
				strconv.Itoa(row.Responses), strconv.Itoa(row.Promoters), strconv.Itoa(row.Passives), strconv.Itoa(row.Detractors),
				csvNum(row.Score), csvNum(row.MeanScore)})
		}
	}
	cw.Flush()
	return cw.Error()
}

// day prints a period's bound: the date, and the time unless midnight.
func day(t time.Time) string {
	t = t.UTC()
	if t.Equal(t.Truncate(24 * time.Hour)) {
		return t.Format(time.DateOnly)
	}
	return t.Format("2006-01-02 15:04")
}

// num prints a figure with the given decimals, "-" when there is none.
func num(v *float64, decimals int) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'f', decimals, 64)
}

// pct prints a fraction as a percentage, "-" when there is none.
func pct(v *float64) string {
	if v == nil {
		return "-"
	}
	return percent(*v)
}

// csvNum is a figure in full precision for spreadsheets, empty when none.
func csvNum(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
