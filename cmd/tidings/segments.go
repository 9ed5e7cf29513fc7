package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tidingsdev/tidings/internal/mgmt"
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
	t := time.Now()
	err := readTimes(timeFlag{"at", f.at, &t})
	return t, err
}

// segmentRef reads arg as a definition file, or as the name of a saved
// segment when no such file exists; a file that cannot be read is exit 2.
func segmentRef(arg string) (mgmt.SegmentRef, error) {
	data, err := os.ReadFile(arg)
	if err == nil {
		return mgmt.SegmentRef{File: mgmt.File{Name: arg, Text: data}}, nil
	}
	if !errors.Is(err, os.ErrNotExist) || strings.ContainsAny(arg, "./\\") {
		return mgmt.SegmentRef{}, withCode(exitUsage, err)
	}
	return mgmt.SegmentRef{Name: arg}, nil
}

// previewSegment is what count and preview share: the evaluation time, the
// definition from a file or by name, and the warnings printed when it
// reads stale scores.
func (a *app) previewSegment(ctx context.Context, f *segmentFlags, arg string, sample int) (mgmt.SegmentPreview, error) {
	now, err := f.now()
	if err != nil {
		return mgmt.SegmentPreview{}, err
	}
	ref, err := segmentRef(arg)
	if err != nil {
		return mgmt.SegmentPreview{}, err
	}
	m, err := a.parts.Mgmt(ctx)
	if err != nil {
		return mgmt.SegmentPreview{}, err
	}
	p, err := m.PreviewSegment(ctx, ref, now, sample)
	if errors.Is(err, store.ErrNotFound) && ref.Name != "" {
		return p, withCode(exitUsage, fmt.Errorf("%s: no such file and no saved segment of that name (see `tidings segments list`)", arg))
	}
	if _, ok := mgmt.Problems(err); ok {
		return p, withCode(exitUsage, err)
	}
	if err != nil {
		return p, mgmtErr(err)
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(a.stderr, "warning: %s\n", w)
	}
	if p.Segment == "" {
		p.Segment = arg
	}
	return p, nil
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
			p, err := a.previewSegment(ctx, &f, args[0], 0)
			if err != nil {
				return err
			}
			if f.asJSON {
				return writeJSON(a.stdout, map[string]any{"segment": p.Segment, "count": p.Count, "query_ms": p.CountMS})
			}
			fmt.Fprintf(a.stdout, "%s: %d customers (query %dms)\n", p.Segment, p.Count, p.CountMS)
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
			p, err := a.previewSegment(ctx, &f, args[0], limit)
			if err != nil {
				return err
			}
			if f.asJSON {
				return writeJSON(a.stdout, map[string]any{
					"segment": p.Segment, "count": p.Count, "sample": p.Sample,
					"count_ms": p.CountMS, "sample_ms": p.SampleMS,
				})
			}
			fmt.Fprintf(a.stdout, "%s: %d customers (count %dms, sample %dms)\n\n", p.Segment, p.Count, p.CountMS, p.SampleMS)
			printMembers(a.stdout, p.Sample)
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
	tw := newTable(w, "EXTERNAL ID\tNAME\tLOCALE\tTIME ZONE\tCOUNTRY\tORDERS\tSPENT\tLAST PURCHASE\tRFM\tTIER\tLIFECYCLE\tBUCKET")
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
		RunE: a.manageFile(func(ctx context.Context, m *mgmt.Service, f mgmt.File) error {
			saved, err := m.SaveSegment(ctx, a.operator(), f, name)
			if _, ok := mgmt.Problems(err); ok {
				return withCode(exitUsage, err)
			}
			if err != nil {
				return mgmtErr(err)
			}
			fmt.Fprintf(a.stdout, "segment %s %s\n", saved.Name, saved.Outcome)
			return nil
		}),
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
			header := "NAME\tUPDATED\tDESCRIPTION"
			if withCounts {
				header = "NAME\tCUSTOMERS\tUPDATED\tDESCRIPTION"
			}
			return printList(a.stdout, asJSON, rows, "no saved segments; save one with `tidings segments save FILE`", header, func(w io.Writer, r row) {
				if withCounts {
					count := "invalid"
					if r.Count != nil {
						count = fmt.Sprint(*r.Count)
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.Name, count, r.UpdatedAt.Format("2006-01-02 15:04"), r.Description)
					return
				}
				fmt.Fprintf(w, "%s\t%s\t%s\n", r.Name, r.UpdatedAt.Format("2006-01-02 15:04"), r.Description)
			})
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
		RunE: a.manage(func(ctx context.Context, m *mgmt.Service, args []string) error {
			err := m.DeleteSegment(ctx, a.operator(), args[0])
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
		RunE: a.manage(func(ctx context.Context, m *mgmt.Service, _ []string) error {
			r, err := m.RefreshScores(ctx, a.operator())
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
