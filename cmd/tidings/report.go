package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tidingsdev/tidings/internal/campaign"
	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/store"
)

func newReportCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Report what campaigns and journeys did, how customers feel and how many stay",
		Long: `Reports computed from the database: a campaign per variant, a journey's
conversions, campaign and journey funnels, NPS, CSAT,
retention, churn, lifecycle stages and their history, customer value, the RFM grid and
deliverability and acquisition.
Each prints a table, or the whole report with --json, or one table as CSV
with --csv. Formulas: docs/reports.md.`,
	}
	cmd.AddCommand(newReportCampaignCmd(a),
		newReportSurveyCmd(a, store.NPS, reports.NPS), newReportSurveyCmd(a, store.CSAT, reports.CSAT),
		newReportRetentionCmd(a), newReportChurnCmd(a), newReportLifecycleCmd(a),
		newReportCLVCmd(a), newReportRFMCmd(a), newReportDeliverabilityCmd(a),
		newReportJourneyCmd(a), newReportAcquisitionCmd(a), newReportFunnelCmd(a), newReportStagesCmd(a))
	return cmd
}

func newReportCampaignCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "campaign NAME",
		Short: "Per variant and for the holdout: entered, sent, skipped, failed, goal reached, uplift",
		Long: `Report a campaign per A/B variant and for its holdout (the control group that
gets nothing): customers entered, messages sent, skipped by reason (no
consent, suppressed, frequency cap, late after a pause, ...), failed, goal
reached (the goal event within the goal window after entry, measured alike
for treatment and holdout) and the conversion rate. The uplift is the
treatment's conversion rate minus the holdout's, in percentage points, with
its 95% confidence interval (Newcombe's hybrid score interval); below 100
entries in the treatment or the holdout the verdict is "not enough data
yet". With A/B variants, each variant's probability of converting best
(Beta posteriors with a uniform prior: exact for two variants, a seeded
Monte Carlo for more). Formulas: docs/reports.md.
Redeemed counts the coupons the arm's messages carried that the shop has
redeemed (tidings coupons redeem, POST /v1/coupons/{code}/redeem).

The same report is GET /v1/reports/campaigns/{name}; the counts alone are
GET /v1/campaigns/{name}/results.`,
		Example: `  tidings report campaign spring-sale-subject-test
  tidings report campaign spring-winback --json`,
		Args: exactArgs(1),
		RunE: a.withStore(func(ctx context.Context, st *store.Store, args []string) error {
			r, err := reports.Campaign(ctx, st, args[0])
			if err != nil {
				return notFoundIsUsage(err)
			}
			if asJSON {
				return writeJSON(a.stdout, r)
			}
			printReport(a.stdout, r)
			return nil
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printReport(w io.Writer, r reports.CampaignReport) {
	fmt.Fprintf(w, "campaign %s (%s, version %d)\n", r.Campaign, r.Status, r.Version)
	if r.AsOf != nil {
		fmt.Fprintf(w, "results as of %s, kept by the hourly refresh\n\n", r.AsOf.UTC().Format("2006-01-02 15:04 UTC"))
	} else {
		fmt.Fprint(w, "results counted now\n\n")
	}
	if len(r.Arms) == 0 {
		fmt.Fprintln(w, "nobody has entered yet")
		return
	}
	printRows(w, "ARM\tENTERED\tSENT\tSKIPPED\tFAILED\tGOAL REACHED\tCONVERSION\tUPLIFT\tREDEEMED", r.Arms, func(w io.Writer, a store.CampaignArm) {
		name, sent, failed := a.Variant, fmt.Sprint(a.Sent), fmt.Sprint(a.Failed)
		switch {
		case a.Holdout:
			name = "holdout"
		case name == "":
			name = "treatment"
		case a.Rollout:
			name += " (winner, the rest)"
		}
		uplift := "-"
		if a.UpliftPoints != nil {
			uplift = fmt.Sprintf("%+.1f pts", *a.UpliftPoints)
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%d\t%s\t%s\t%d\n", name, a.Entered, sent, skipped(a.Skipped), failed,
			a.Converted, percent(a.ConversionRate), uplift, a.Redeemed)
	})
	fmt.Fprintln(w)
	if r.Winner != nil {
		printWinner(w, "", r.Winner)
		fmt.Fprintln(w)
	}
	if r.UpliftPoints == nil {
		fmt.Fprintln(w, "uplift: needs entries in both the treatment and the holdout (a holdout: N% in the file)")
		printVariantChances(w, r.Variants)
		return
	}
	fmt.Fprintf(w, "treatment converts at %s, holdout at %s: uplift %+.1f percentage points\n",
		percent(*r.TreatmentRate), percent(*r.HoldoutRate), *r.UpliftPoints)
	if u := r.Uplift; u != nil {
		fmt.Fprintf(w, "95%% interval %+.1f to %+.1f points (%s): %s", u.Low, u.High, u.Method, u.Verdict)
		if !u.Enough {
			fmt.Fprintf(w, " (needs %d entries in each group; the treatment has %d, the holdout %d)",
				u.MinGroup, u.Treatment.Entered, u.Holdout.Entered)
		}
		fmt.Fprintln(w)
	}
	printVariantChances(w, r.Variants)
}

// winnerMetrics and winnerRules say in words what an A/B winner was
// chosen by.
var (
	winnerMetrics = map[string]string{campaign.MetricClick: "clicks per message sent", campaign.MetricGoal: "goal reached per message sent"}
	winnerRules   = map[string]string{
		campaign.RuleBestRate:      "the best rate",
		campaign.RuleTie:           "a tie for the best rate, broken by the order of the file",
		campaign.RuleNotEnoughData: "not enough data (a variant had fewer than %d messages sent), so the first variant listed",
	}
)

// printWinner prints an automatic A/B winner and the test's numbers, each
// line after prefix.
func printWinner(w io.Writer, prefix string, win *store.CampaignWinner) {
	rule := winnerRules[win.Rule]
	if win.Rule == campaign.RuleNotEnoughData {
		rule = fmt.Sprintf(rule, win.MinSent)
	}
	fmt.Fprintf(w, "%sA/B winner of version %d: %s, chosen %s by %s: %s; the rest of the audience is sent %s\n",
		prefix, win.Version, win.Variant, win.DecidedAt.UTC().Format("2006-01-02 15:04 UTC"), winnerMetrics[win.Metric], rule, win.Variant)
	for _, t := range win.Tallies {
		rate := "-"
		if t.Sent > 0 {
			rate = percent(float64(t.Hits) / float64(t.Sent))
		}
		fmt.Fprintf(w, "%s  %s: %d of %d sent (%s)\n", prefix, t.Variant, t.Hits, t.Sent, rate)
	}
}

// printVariantChances prints each A/B variant's chance of converting best.
func printVariantChances(w io.Writer, vs []reports.VariantChance) {
	if len(vs) == 0 {
		return
	}
	fmt.Fprintln(w)
	printRows(w, "VARIANT\tENTERED\tCONVERTED\tCONVERSION\tCHANCE OF BEING BEST", vs, func(w io.Writer, v reports.VariantChance) {
		chance := percent(v.ProbBest)
		if !v.Enough {
			chance += " (" + reports.VerdictNotEnough + ")"
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s\n", v.Variant, v.Entered, v.Converted, percent(v.Rate), chance)
	})
}

// skipped lists skip counts by reason, largest first.
func skipped(m map[string]int) string {
	if len(m) == 0 {
		return "0"
	}
	reasons := make([]string, 0, len(m))
	for k := range m {
		reasons = append(reasons, k)
	}
	sort.Slice(reasons, func(i, j int) bool {
		if m[reasons[i]] != m[reasons[j]] {
			return m[reasons[i]] > m[reasons[j]]
		}
		return reasons[i] < reasons[j]
	})
	parts := make([]string, len(reasons))
	for i, k := range reasons {
		parts[i] = fmt.Sprintf("%d %s", m[k], k)
	}
	return strings.Join(parts, ", ")
}

func percent(rate float64) string { return fmt.Sprintf("%.1f%%", rate*100) }
