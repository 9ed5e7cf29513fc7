package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// How commands print: every --json is indented JSON, every table has
// aligned columns under a header in capitals, every list with nothing to
// show says so and how to get something. One writer each, so all commands
// look alike and a change of format is made once.

// writeJSON prints v as indented JSON, the form of every --json.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// aligned lines up the tab-separated columns of what is written to it, two
// spaces apart; it prints on Flush.
func aligned(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

// newTable starts an aligned table under header (columns separated by
// tabs); rows are written to it with fmt.Fprintf and it prints on Flush.
func newTable(w io.Writer, header string) *tabwriter.Writer {
	tw := aligned(w)
	fmt.Fprintln(tw, header)
	return tw
}

// printList prints a list command's items: as JSON with --json, else the
// empty note when there are none, else a table under header with one row
// per item.
func printList[T any](w io.Writer, asJSON bool, items []T, empty, header string, row func(io.Writer, T)) error {
	if asJSON {
		return writeJSON(w, items)
	}
	if len(items) == 0 {
		_, err := fmt.Fprintln(w, empty)
		return err
	}
	return printRows(w, header, items, row)
}

// printRows prints items as a table under header, one row each.
func printRows[T any](w io.Writer, header string, items []T, row func(io.Writer, T)) error {
	tw := newTable(w, header)
	for _, x := range items {
		row(tw, x)
	}
	return tw.Flush()
}

// printPage prints one page of a paged listing (--after): as JSON, the
// items under key with the next cursor; else a table, and on stderr how to
// get the next page.
func printPage[T any](out, errs io.Writer, asJSON bool, key string, items []T, next, header string, row func(io.Writer, T)) error {
	if asJSON {
		return writeJSON(out, map[string]any{key: nonEmpty(items), "next": next})
	}
	if err := printRows(out, header, items, row); err != nil {
		return err
	}
	if next != "" {
		fmt.Fprintf(errs, "more: --after %s\n", next)
	}
	return nil
}

// output is --json and --csv, for the reports.
type output struct{ json, csv bool }

func (o *output) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&o.json, "json", false, "print the report as JSON")
	cmd.Flags().BoolVar(&o.csv, "csv", false, "print the table as CSV")
	cmd.MarkFlagsMutuallyExclusive("json", "csv")
}

// write prints r as JSON, rows as CSV, or the table.
func (o *output) write(w io.Writer, r any, rows [][]string, table func(io.Writer)) error {
	switch {
	case o.json:
		return writeJSON(w, r)
	case o.csv:
		cw := csv.NewWriter(w)
		cw.WriteAll(rows)
		return cw.Error()
	}
	table(w)
	return nil
}

// tableOf prints CSV-shaped rows (a header first, printed in capitals)
// aligned, with each empty cell as "-".
func tableOf(w io.Writer, rows [][]string) {
	tw := aligned(w)
	for n, r := range rows {
		for i, c := range r {
			switch {
			case n == 0:
				c = strings.ToUpper(strings.ReplaceAll(c, "_", " "))
			case c == "":
				c = "-"
			}
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, c)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// nonEmpty makes a nil list print as [] in JSON.
func nonEmpty[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// clip shortens s to n characters for a table cell.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// orDash is s, or "-" for an empty cell.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// when is a time cell: "never" for none.
func when(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.Format(time.DateTime)
}
