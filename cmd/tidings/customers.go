package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tidingsdev/tidings/internal/importer"
	"github.com/tidingsdev/tidings/internal/store"
)

func newCustomersCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "customers",
		Short: "Import and inspect customer profiles",
	}
	cmd.AddCommand(newCustomersImportCmd(a), newCustomersGetCmd(a), newCustomersSearchCmd(a), newCustomersTimelineCmd(a))
	return cmd
}

func newCustomersImportCmd(a *app) *cobra.Command {
	var (
		format    string
		encoding  string
		mappings  []string
		rejects   string
		batchSize int
		asJSON    bool
	)
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Upsert customers from a CSV or JSON Lines file",
		Long: `Upsert customers by external_id from CSV (with a header row) or JSON Lines.

Every row is validated on its own (email syntax, phone number in E.164 or
national form for TIDINGS_DEFAULT_REGION, IANA time zone, locale, birthday).
Good rows are written in batches; bad rows are listed with their line number
and reason and never stop the good ones. Empty cells leave stored values
alone, so re-running the same file changes nothing.

CSV headers are matched case-insensitively against the field names and common
aliases (e-mail, mobile, tz, dob, ...). Columns named attributes.NAME become
custom attributes. Map any other column with --map. An attribute cell that is
a plain number (42, -3.5) becomes a number and true or false a boolean, so
numeric and boolean segment conditions match; everything else is text. Give a
column its type with --map "COLUMN=attributes.NAME:TYPE" (text, number or
boolean; "COLUMN=:TYPE" for a column already named attributes.NAME).

Files are read as UTF-8 (a byte-order mark is fine). A file in another
encoding is refused before anything is written, naming the line and the
encoding it looks like; import it with --encoding: gbk for Simplified Chinese
and big5 for Traditional Chinese (what Excel saves in zh-CN and zh-TW), or
any standard name (gb18030, shift_jis, windows-1252, utf-16le, ...).

Exit status: 0 all rows imported, 3 some rows rejected, 2 unusable file.`,
		Example: `  tidings customers import customers.csv
  tidings customers import crm-export.csv --map "Customer No=external_id" --map "Plan=attributes.plan" --map "Notes=-"
  tidings customers import loyalty.csv --map "Points=attributes.points:number" --map "attributes.zip=:text"
  tidings customers import 客户.csv --encoding gbk
  tidings customers import people.jsonl --rejects rejected.csv`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			path := args[0]
			if format == "" {
				format = formatFromName(path)
			}
			mapping := map[string]string{}
			for _, m := range mappings {
				col, field, ok := strings.Cut(m, "=")
				if !ok {
					return withCode(exitUsage, fmt.Errorf("--map %q: want COLUMN=FIELD", m))
				}
				mapping[col] = field
			}
			f, err := os.Open(path)
			if err != nil {
				return withCode(exitUsage, err)
			}
			defer f.Close()
			s, err := a.store(ctx)
			if err != nil {
				return err
			}

			opt := importer.Options{Format: format, Encoding: encoding, Mapping: mapping, BatchSize: batchSize, DefaultRegion: a.cfg.DefaultRegion}
			var bar *progressBar
			if st, err := f.Stat(); err == nil && isTerminal(a.stderr) {
				bar = &progressBar{w: a.stderr, total: st.Size(), f: f, start: time.Now()}
				opt.Progress = bar.update
			}
			sum, err := importer.Import(ctx, s, f, opt)
			if bar != nil {
				bar.done()
			}
			if err != nil {
				return withCode(exitUsage, fmt.Errorf("%s: %w", path, err))
			}
			if rejects != "" {
				if err := writeRejections(rejects, sum.Rejections); err != nil {
					return err
				}
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(sum); err != nil {
					return err
				}
			} else {
				printSummary(a.stdout, path, sum, rejects)
			}
			if sum.Rejected > 0 {
				return withCode(exitRejected, fmt.Errorf("%d of %d rows rejected", sum.Rejected, sum.Rows))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "csv or jsonl (default: from the file name)")
	cmd.Flags().StringVar(&encoding, "encoding", "", "the file's character encoding: utf-8, gbk, big5, ... (default utf-8)")
	cmd.Flags().StringArrayVar(&mappings, "map", nil, "map a column to a field, an attribute with its type, or - to ignore it: 'COLUMN=FIELD', 'COLUMN=attributes.NAME:number' (repeatable)")
	cmd.Flags().StringVar(&rejects, "rejects", "", "write rejected rows (line, field, reason) to this CSV file")
	cmd.Flags().IntVar(&batchSize, "batch-size", 1000, "rows written per database round trip")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the summary as JSON")
	return cmd
}

func formatFromName(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson", ".json":
		return importer.JSONL
	default:
		return importer.CSV
	}
}

func printSummary(w io.Writer, path string, sum importer.Summary, rejects string) {
	fmt.Fprintf(w, "%s: %d rows in %s: %d inserted, %d updated, %d unchanged, %d rejected\n",
		path, sum.Rows, sum.Duration.Round(time.Millisecond), sum.Inserted, sum.Updated, sum.Unchanged, sum.Rejected)
	const shown = 20
	for i, r := range sum.Rejections {
		if i == shown {
			fmt.Fprintf(w, "  ... and %d more", len(sum.Rejections)-shown)
			if rejects == "" {
				fmt.Fprint(w, " (use --rejects FILE to list them all)")
			}
			fmt.Fprintln(w)
			break
		}
		fmt.Fprintf(w, "  %s\n", r)
	}
	if rejects != "" && len(sum.Rejections) > 0 {
		fmt.Fprintf(w, "rejected rows written to %s\n", rejects)
	}
}

func writeRejections(path string, rs []importer.Rejection) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write rejections: %w", err)
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"line", "field", "reason"})
	for _, r := range rs {
		_ = w.Write([]string{strconv.Itoa(r.Line), r.Field, r.Reason})
	}
	w.Flush()
	if err := errors.Join(w.Error(), f.Close()); err != nil {
		return fmt.Errorf("write rejections: %w", err)
	}
	return nil
}

func newCustomersGetCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show one customer by Tidings ID or external ID, as JSON",
		Args:  exactArgs(1),
		RunE: a.withStore(func(ctx context.Context, s *store.Store, args []string) error {
			c, err := lookupCustomer(ctx, s, args[0])
			if err != nil {
				return err
			}
			consents, err := s.Consents(ctx, c.ID)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(a.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(struct {
				store.Customer
				Consents []store.Consent `json:"consents"`
			}{c, consents})
		}),
	}
}

// lookupCustomer finds a customer by UUID or, failing that, external ID.
func lookupCustomer(ctx context.Context, s *store.Store, key string) (store.Customer, error) {
	if _, err := uuid.Parse(key); err == nil {
		c, err := s.Customer(ctx, key)
		if !errors.Is(err, store.ErrNotFound) {
			return c, err
		}
	}
	c, err := s.CustomerByExternalID(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return c, withCode(exitFailure, fmt.Errorf("no customer with ID or external ID %q", key))
	}
	return c, err
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressBar draws import progress from the file offset, so it needs no
// second pass to count rows.
type progressBar struct {
	w     io.Writer
	f     *os.File
	total int64
	start time.Time
}

func (p *progressBar) update(rows int) {
	pos, _ := p.f.Seek(0, io.SeekCurrent)
	frac := 1.0
	if p.total > 0 {
		frac = min(float64(pos)/float64(p.total), 1)
	}
	const width = 30
	n := int(frac * width)
	rate := float64(rows) / max(time.Since(p.start).Seconds(), 0.001)
	fmt.Fprintf(p.w, "\r[%s%s] %3.0f%% %d rows (%.0f rows/s)", strings.Repeat("=", n), strings.Repeat(" ", width-n), frac*100, rows, rate)
}

func (p *progressBar) done() { fmt.Fprintln(p.w) }
