package importer_test

import (
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidingsdev/tidings/internal/importer"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// BenchmarkImport imports 100,000 generated customers into a fresh database
// and, in the same run, COPYs the same rows into a bare table with the same
// columns and no indexes: the floor any import could reach on this machine.
// It reports both rates and their ratio, and also the rate of a COPY into
// the real, indexed customers table of another fresh database, which shows
// how much of the gap is the table's indexes rather than the importer.
func BenchmarkImport(b *testing.B) {
	const rows = 100_000
	text := generateCSV(rows, 42)
	copyRows := copyRowsOf(b, text)

	var importTime, copyTime, indexedTime time.Duration
	for range b.N {
		b.StopTimer()
		indexed, _ := testdb.New(b)
		start := time.Now()
		n, err := indexed.Pool().CopyFrom(b.Context(), pgx.Identifier{"customers"}, copyColumns, pgx.CopyFromRows(copyRows))
		indexedTime += time.Since(start)
		if err != nil || n != rows {
			b.Fatalf("copy into customers: %d rows, %v", n, err)
		}
		indexed.Close()

		s, _ := testdb.New(b)
		if _, err := s.Pool().Exec(b.Context(), `
			CREATE TABLE bare_customers (
				external_id text, email text, phone text, first_name text, last_name text,
				locale text, time_zone text, birthday date, country text, region text,
				city text, gender text, tags text[], attributes jsonb)`); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()

		start = time.Now()
		sum, err := importer.Import(b.Context(), s, strings.NewReader(text), importer.Options{Format: importer.CSV, DefaultRegion: "US", Now: now})
		importTime += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if sum.Inserted != rows {
			b.Fatalf("imported %d of %d rows (%d rejected: %v)", sum.Inserted, rows, sum.Rejected, sum.Rejections[:min(3, len(sum.Rejections))])
		}

		b.StopTimer()
		start = time.Now()
		n, err = s.Pool().CopyFrom(b.Context(), pgx.Identifier{"bare_customers"}, copyColumns, pgx.CopyFromRows(copyRows))
		copyTime += time.Since(start)
		if err != nil || n != rows {
			b.Fatalf("copy: %d rows, %v", n, err)
		}
	}
	importRate := float64(rows*b.N) / importTime.Seconds()
	copyRate := float64(rows*b.N) / copyTime.Seconds()
	b.ReportMetric(importRate, "rows/s")
	b.ReportMetric(copyRate, "copy-rows/s")
	b.ReportMetric(importRate/copyRate, "import/copy")
	b.ReportMetric(float64(rows*b.N)/indexedTime.Seconds(), "copy-indexed-rows/s")
}

var copyColumns = []string{"external_id", "email", "phone", "first_name", "last_name", "locale", "time_zone",
	"birthday", "country", "region", "city", "gender", "tags", "attributes"}

// copyRowsOf turns the generated CSV into COPY rows for the bare table.
func copyRowsOf(b *testing.B, text string) [][]any {
	b.Helper()
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		b.Fatal(err)
	}
	out := make([][]any, 0, len(recs)-1)
	for _, r := range recs[1:] {
		birthday, err := time.Parse(time.DateOnly, r[7])
		if err != nil {
			b.Fatal(err)
		}
		tags := strings.FieldsFunc(r[12], func(c rune) bool { return c == ';' })
		if tags == nil {
			tags = []string{}
		}
		out = append(out, []any{r[0], r[1], r[2], r[3], r[4], r[5], r[6], birthday, r[8], r[9], r[10], r[11],
			tags, map[string]any{"plan": r[13]}})
	}
	return out
}
