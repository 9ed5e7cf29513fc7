package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tidingsdev/tidings/internal/segment"
	"github.com/tidingsdev/tidings/internal/store"
)

func newSegmentsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "segments",
		Short: "Count, preview and save customer segments; refresh RFM scores",
		Long: `A segment is a YAML or JSON definition of who is in an audience: conditions
on demographics, geography, behaviour, custom attributes, tags and consent,
plus computed fields (RFM quintiles, value tier, lifecycle stage and a stable
random bucket), combined with all / any / not. docs/segments.md is the
reference; examples/segments/ has ready files.

Commands that take a SEGMENT accept a file path or the name of a saved
segment.`,
	}
	cmd.AddCommand(
		newSegmentsCountCmd(a),
		newSegmentsPreviewCmd(a),
		newSegmentsSaveCmd(a),
		newSegmentsListCmd(a),
		newSegmentsShowCmd(a),
		newSegmentsDeleteCmd(a),
		newSegmentsRefreshScoresCmd(a),
	)
	return cmd
}

// segmentFlags are the evaluation options count and preview share.
type segmentFlags struct {
	at     string
	asJSON bool
}

func (f *segmentFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.at, "at", "", "evaluate as of this time (RFC 3339), e.g. the planned send time")
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print JSON")
}

func (f *segmentFlags) now() (time.Time, error) {
	if f.at == "" {
		return time.Now(), nil
	}
	t, err := time.Parse(time.RFC3339, f.at)
	if err != nil {
		return time.Time{}, withCode(exitUsage, fmt.Errorf("--at %q: want RFC 3339, e.g. 2026-05-01T09:00:00+08:00", f.at))
	}
	return t, nil
}

// loadSegment reads a definition from a file, or from the store when arg
// names a saved segment rather than a file. A bad definition is exit 2.
func loadSegment(ctx context.Context, s *store.Store, arg string) (*segment.Definition, error) {
	data, err := os.ReadFile(arg)
	if err == nil {
		def, err := segment.Parse(data, arg)
		if err != nil {
			return nil, withCode(exitUsage, err)
		}
		return def, nil
	}
	if !errors.Is(err, os.ErrNotExist) || strings.ContainsAny(arg, "./\\") {
		return nil, withCode(exitUsage, err)
	}
	saved, serr := s.GetSegment(ctx, arg)
	if errors.Is(serr, store.ErrNotFound) {
		return nil, withCode(exitUsage, fmt.Errorf("%s: no such file and no saved segment of that name (see `tidings segments list`)", arg))
	}
	if serr != nil {
		return nil, serr
	}
	def, err := segment.Parse([]byte(saved.Definition), "segment "+saved.Name)
	if err != nil {
		return nil, fmt.Errorf("saved segment %s no longer parses: %w", saved.Name, err)
	}
	def.Name = saved.Name
	return def, nil
}

// openSegment is what count and preview share: the evaluation time, the
// store, and the definition from a file or by name, with a warning printed
// when it reads stale scores.
func (a *app) openSegment(ctx context.Context, f *segmentFlags, arg string) (*store.Store, *segment.Definition, time.Time, error) {
	now, err := f.now()
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	s, err := a.store(ctx)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	def, err := loadSegment(ctx, s, arg)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	a.warnStaleScores(ctx, s, def, now)
	return s, def, now, nil
}

// warnStaleScores tells the user when a definition reads scores that are
// missing or older than two days, because its count would silently be off.
func (a *app) warnStaleScores(ctx context.Context, s *store.Store, def *segment.Definition, now time.Time) {
	if !def.UsesScores() {
		return
	}
	r, err := s.LastScoreRefresh(ctx)
	switch {
	case errors.Is(err, store.ErrNeverScored):
		fmt.Fprintln(a.stderr, "warning: this segment uses RFM scores or the value tier, which have never been computed;")
		fmt.Fprintln(a.stderr, "         run `tidings segments refresh-scores` first (every score condition matches nobody until then)")
	case err != nil:
		a.log.Warn("read score refresh", "err", err)
	case now.Sub(r.FinishedAt) > 48*time.Hour:
		fmt.Fprintf(a.stderr, "warning: RFM scores were last refreshed %s ago (%s); run `tidings segments refresh-scores`\n",
			now.Sub(r.FinishedAt).Round(time.Hour), r.FinishedAt.Format(time.RFC3339))
	}
}

func segmentLabel(def *segment.Definition, arg string) string {
	if def.Name != "" {
		return def.Name
	}
	return arg
}

func newSegmentsCountCmd(a *app) *cobra.Command {
	var f segmentFlags
	cmd := &cobra.Command{
		Use:   "count SEGMENT",
		Short: "Print how many customers a segment holds and how long the query took",
		Long: `Print how many customers a segment holds and how long the query took.

Exit status: 0 counted, 2 the definition is invalid (each problem is listed
as file:line:column: path: what was expected).`,
		Example: `  tidings segments count examples/segments/winback.yaml
  tidings segments count vip-en --at 2026-12-01T09:00:00Z`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, def, now, err := a.openSegment(ctx, &f, args[0])
			if err != nil {
				return err
			}
			start := time.Now()
			n, err := segment.Count(ctx, s.Pool(), def, segment.At(now))
			if err != nil {
				return err
			}
			took := time.Since(start)
			if f.asJSON {
				return writeSegmentJSON(a.stdout, map[string]any{"segment": segmentLabel(def, args[0]), "count": n, "query_ms": took.Milliseconds()})
			}
			fmt.Fprintf(a.stdout, "%s: %d customers (query %s)\n", segmentLabel(def, args[0]), n, took.Round(time.Millisecond))
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func newSegmentsPreviewCmd(a *app) *cobra.Command {
	var (
		f     segmentFlags
		limit int
	)
	cmd := &cobra.Command{
		Use:   "preview SEGMENT",
		Short: "Print a segment's size and a sample of its members",
		Long: `Print a segment's size, a sample of its members (external ID, name, locale,
time zone, country, orders, spend, last purchase, RFM, value tier, lifecycle
stage, bucket) and the query times.

The sample is the first members in customer-ID order; IDs are random, so it
is unbiased and the same on every run.`,
		Example: `  tidings segments preview examples/segments/vip-zh.yaml --limit 20`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if limit < 1 || limit > 1000 {
				return withCode(exitUsage, fmt.Errorf("--limit %d: want 1 to 1000", limit))
			}
			s, def, now, err := a.openSegment(ctx, &f, args[0])
			if err != nil {
				return err
			}
			start := time.Now()
			n, err := segment.Count(ctx, s.Pool(), def, segment.At(now))
			if err != nil {
				return err
			}
			countTook := time.Since(start)
			start = time.Now()
			members, err := segment.Sample(ctx, s.Pool(), def, limit, segment.At(now))
			if err != nil {
				return err
			}
			sampleTook := time.Since(start)
			if f.asJSON {
				return writeSegmentJSON(a.stdout, map[string]any{
					"segment": segmentLabel(def, args[0]), "count": n, "sample": members,
					"count_ms": countTook.Milliseconds(), "sample_ms": sampleTook.Milliseconds(),
				})
			}
			fmt.Fprintf(a.stdout, "%s: %d customers (count %s, sample %s)\n\n", segmentLabel(def, args[0]), n,
				countTook.Round(time.Millisecond), sampleTook.Round(time.Millisecond))
			printMembers(a.stdout, members)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().IntVar(&limit, "limit", 10, "members to show")
	return cmd
}

func printMembers(w io.Writer, members []segment.Member) {
	if len(members) == 0 {
		fmt.Fprintln(w, "(no members)")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EXTERNAL ID\tNAME\tLOCALE\tTIME ZONE\tCOUNTRY\tORDERS\tSPENT\tLAST PURCHASE\tRFM\tTIER\tLIFECYCLE\tBUCKET")
	for _, m := range members {
		last, rfm, tier := "-", "-", "-"
		if m.LastPurchaseAt != nil {
			last = m.LastPurchaseAt.Format("2006-01-02")
		}
		if m.Recency != nil {
			rfm = fmt.Sprintf("%d%d%d", *m.Recency, *m.Frequency, *m.Monetary)
		}
		if m.ValueTier != nil {
			tier = *m.ValueTier
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%.2f\t%s\t%s\t%s\t%s\t%d\n", m.ExternalID, orDash(m.Name), m.Locale, m.TimeZone,
			orDash(m.Country), m.OrdersCount, m.TotalSpent, last, rfm, tier, m.Lifecycle, m.Bucket)
	}
	tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newSegmentsSaveCmd(a *app) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "save FILE",
		Short: "Validate a definition and save it under its name",
		Long: `Validate a definition and save it under its name (the file's name: key, or
--name), replacing an earlier definition of that name. Campaigns refer to
saved segments by name; a running send keeps the definition it started with.

Exit status: 0 saved, 2 invalid definition or missing name.`,
		Example: `  tidings segments save examples/segments/winback.yaml
  tidings segments save audience.json --name spring-2027`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			data, err := os.ReadFile(args[0])
			if err != nil {
				return withCode(exitUsage, err)
			}
			def, err := segment.Parse(data, args[0])
			if err != nil {
				return withCode(exitUsage, err)
			}
			if name != "" {
				def.Name = name
			}
			if def.Name == "" {
				return withCode(exitUsage, fmt.Errorf("%s: no name; add `name: my-segment` to the file or pass --name", args[0]))
			}
			if err := segment.CheckName(def.Name); err != nil {
				return withCode(exitUsage, err)
			}
			s, err := a.store(ctx)
			if err != nil {
				return err
			}
			saved, outcome, err := s.SaveSegment(ctx, store.Segment{
				Name: def.Name, Description: def.Description, Format: def.Format, Definition: string(def.Source),
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "segment %s %s\n", saved.Name, outcome)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "save under this name instead of the file's name: key")
	return cmd
}

func newSegmentsListCmd(a *app) *cobra.Command {
	var (
		withCounts bool
		asJSON     bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List saved segments",
		Args:  exactArgs(0),
		RunE: a.withStore(func(ctx context.Context, s *store.Store, _ []string) error {
			segs, err := s.ListSegments(ctx)
			if err != nil {
				return err
			}
			type row struct {
				store.Segment
				Count *int64 `json:"count,omitempty"`
			}
			rows := make([]row, len(segs))
			for i, sg := range segs {
				rows[i].Segment = sg
				if !withCounts {
					continue
				}
				def, err := segment.Parse([]byte(sg.Definition), "segment "+sg.Name)
				if err != nil {
					a.log.Warn("saved segment does not parse", "segment", sg.Name, "err", err)
					continue
				}
				n, err := segment.Count(ctx, s.Pool(), def)
				if err != nil {
					return err
				}
				rows[i].Count = &n
			}
			if asJSON {
				return writeSegmentJSON(a.stdout, rows)
			}
			if len(rows) == 0 {
				fmt.Fprintln(a.stdout, "no saved segments; save one with `tidings segments save FILE`")
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			header := "NAME\tUPDATED\tDESCRIPTION"
			if withCounts {
				header = "NAME\tCUSTOMERS\tUPDATED\tDESCRIPTION"
			}
			fmt.Fprintln(tw, header)
			for _, r := range rows {
				if withCounts {
					count := "invalid"
					if r.Count != nil {
						count = fmt.Sprint(*r.Count)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, count, r.UpdatedAt.Format("2006-01-02 15:04"), r.Description)
					continue
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Name, r.UpdatedAt.Format("2006-01-02 15:04"), r.Description)
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().BoolVar(&withCounts, "count", false, "count each segment's customers now")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newSegmentsShowCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Print a saved segment's definition as it was saved",
		Args:  exactArgs(1),
		RunE: a.withStore(func(ctx context.Context, s *store.Store, args []string) error {
			sg, err := s.GetSegment(ctx, args[0])
			if errors.Is(err, store.ErrNotFound) {
				return withCode(exitUsage, err)
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, strings.TrimRight(sg.Definition, "\n"))
			return nil
		}),
	}
}

func newSegmentsDeleteCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a saved segment",
		Args:  exactArgs(1),
		RunE: a.withStore(func(ctx context.Context, s *store.Store, args []string) error {
			err := s.DeleteSegment(ctx, args[0])
			if errors.Is(err, store.ErrNotFound) {
				return withCode(exitUsage, err)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "segment %s deleted\n", args[0])
			return nil
		}),
	}
}

func newSegmentsRefreshScoresCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "refresh-scores",
		Short: "Recompute every customer's RFM quintiles and value tier",
		Long: `Recompute every customer's RFM quintiles (recency, frequency, monetary, 1-5
over the customers who bought; 0 for those who never did) and value tier in
one statement. Segments read the stored scores, so run this nightly (from
cron or a schedule) and after a large import.`,
		Args: exactArgs(0),
		RunE: a.withStore(func(ctx context.Context, s *store.Store, _ []string) error {
			r, err := s.RefreshScores(ctx, time.Now())
			if err != nil {
				return err
			}
			a.log.Info("scores refreshed", "customers", r.Customers, "changed", r.Changed)
			fmt.Fprintf(a.stdout, "scored %d customers, %d changed, in %s\n", r.Customers, r.Changed,
				r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond))
			return nil
		}),
	}
}

func writeSegmentJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
