// Package importer loads customer profiles from CSV or JSON Lines files. Every
// row is validated on its own; good rows are written in batches and bad rows
// are reported with their line number and reason, so an import never loses a
// good row because of a bad neighbour, and re-running a file changes nothing.
package importer

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/validate"
)

// Upserter is what the importer needs of the store; Import calls it from
// several goroutines at once.
type Upserter interface {
	UpsertCustomers(ctx context.Context, in []store.CustomerInput) ([]store.UpsertResult, error)
}

// Formats the importer reads.
const (
	CSV   = "csv"
	JSONL = "jsonl"
)

// Options tune one import.
type Options struct {
	// Format is CSV or JSONL.
	Format string
	// Encoding is the file's character encoding: "" or "utf-8", "gbk",
	// "big5", or another WHATWG label (gb18030, shift_jis, windows-1252,
	// utf-16le, ...). A byte-order mark overrides it.
	Encoding string
	// Mapping maps a CSV header (case-insensitive) to a field name, a
	// custom attribute ("attributes.plan") or "-" to ignore the column; it
	// extends the built-in aliases. An attribute may carry its type
	// ("attributes.points:number", or ":number" to keep the column's own
	// field): text, number or boolean; without one, each cell's type is
	// inferred (see attributeValue).
	Mapping map[string]string
	// BatchSize is how many good rows go to the database at once.
	BatchSize int
	// DefaultRegion parses phone numbers without a country code.
	DefaultRegion string
	// Now bounds birthdays; zero means time.Now.
	Now time.Time
	// Writers is how many batches are written at once, each on its own
	// connection, while the next rows are read and validated (default: one
	// per core, two to four).
	// The Upserter must be safe for concurrent use.
	Writers int
	// Progress, when set, is called after each batch with the rows read.
	Progress func(rows int)
}

// Rejection is one row that was not imported, and why.
type Rejection struct {
	Line   int    `json:"line"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

func (r Rejection) String() string {
	if r.Field == "" {
		return fmt.Sprintf("line %d: %s", r.Line, r.Reason)
	}
	return fmt.Sprintf("line %d: %s: %s", r.Line, r.Field, r.Reason)
}

// Summary is the outcome of an import.
type Summary struct {
	Rows       int           `json:"rows"`
	Inserted   int           `json:"inserted"`
	Updated    int           `json:"updated"`
	Unchanged  int           `json:"unchanged"`
	Rejected   int           `json:"rejected"`
	Rejections []Rejection   `json:"rejections"`
	Duration   time.Duration `json:"duration_ns"`
}

// row is one parsed input row before validation.
type row struct {
	line  int
	input store.CustomerInput
	err   error // a parse problem (wrong JSON type, unknown key)
}

// reader yields rows from a file.
type reader interface {
	next() (row, error) // io.EOF at the end
}

// Import reads every row from r, validates it, and upserts the good ones in
// batches. It returns an error only for problems that stop the whole import
// (an unreadable header, a database failure); bad rows are in the Summary.
func Import(ctx context.Context, up Upserter, r io.Reader, opt Options) (Summary, error) {
	start := time.Now()
	if opt.BatchSize <= 0 {
		opt.BatchSize = 1000
	}
	format := strings.ToLower(opt.Format)
	if format != CSV && format != JSONL && format != "ndjson" && format != "json" {
		return Summary{}, fmt.Errorf("unknown format %q: use csv or jsonl", opt.Format)
	}
	src, err := openText(r, opt.Encoding)
	if err != nil {
		return Summary{}, err
	}
	var rd reader
	if format == CSV {
		if rd, err = newCSVReader(src, opt.Mapping); err != nil {
			return Summary{}, err
		}
	} else {
		rd = newJSONLReader(src)
	}
	if opt.Writers <= 0 {
		opt.Writers = min(max(2, runtime.GOMAXPROCS(0)), 4)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	im := importer{opt: opt, firstLine: map[string]int{}, jobs: make(chan *job)}
	var writers sync.WaitGroup
	for range opt.Writers {
		writers.Go(func() {
			for j := range im.jobs {
				j.write(ctx, up)
			}
		})
	}
	err = im.run(ctx, rd)
	if err != nil {
		cancel()
	}
	close(im.jobs)
	writers.Wait()
	sort.SliceStable(im.sum.Rejections, func(i, j int) bool { return im.sum.Rejections[i].Line < im.sum.Rejections[j].Line })
	im.sum.Duration = time.Since(start)
	return im.sum, err
}

// importer reads and validates rows on one goroutine while up to
// Options.Writers batches are written on others; batches are settled (counted,
// reported to Progress) in the order they were read.
type importer struct {
	opt       Options
	sum       Summary
	batch     []store.CustomerInput
	lines     []int
	firstLine map[string]int
	jobs      chan *job
	pending   []*job // submitted, not yet settled, oldest first
}

// job is one batch on its way to the database.
type job struct {
	batch    []store.CustomerInput
	lines    []int
	rowsRead int // rows read when the batch was cut, for Progress
	done     chan struct{}

	results    []store.UpsertResult
	rejections []Rejection
	err        error // stops the import
}

func (im *importer) run(ctx context.Context, rd reader) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rw, err := rd.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		im.add(rw)
		if len(im.batch) >= im.opt.BatchSize {
			if err := im.submit(ctx); err != nil {
				return err
			}
		}
	}
	if err := im.submit(ctx); err != nil {
		return err
	}
	for len(im.pending) > 0 {
		if err := im.settle(); err != nil {
			return err
		}
	}
	return nil
}

// submit hands the current batch to a writer, first settling the oldest
// batch in flight when every writer is busy.
func (im *importer) submit(ctx context.Context) error {
	if len(im.batch) == 0 {
		return nil
	}
	for len(im.pending) >= im.opt.Writers {
		if err := im.settle(); err != nil {
			return err
		}
	}
	j := &job{batch: im.batch, lines: im.lines, rowsRead: im.sum.Rows, done: make(chan struct{})}
	im.batch = make([]store.CustomerInput, 0, im.opt.BatchSize)
	im.lines = make([]int, 0, im.opt.BatchSize)
	select {
	case im.jobs <- j:
		im.pending = append(im.pending, j)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// settle waits for the oldest batch in flight and adds its outcome to the
// summary.
func (im *importer) settle() error {
	j := im.pending[0]
	im.pending = im.pending[1:]
	<-j.done
	if j.err != nil {
		return j.err
	}
	im.count(j.results)
	for _, r := range j.rejections {
		im.reject(r.Line, r.Field, r.Reason)
	}
	if im.opt.Progress != nil {
		im.opt.Progress(j.rowsRead)
	}
	return nil
}

// write upserts the batch. If the batch as a whole fails, each row is retried
// alone so one row the database refuses cannot take its neighbours down.
func (j *job) write(ctx context.Context, up Upserter) {
	defer close(j.done)
	res, err := up.UpsertCustomers(ctx, j.batch)
	if err == nil {
		j.results = res
		return
	}
	if ctx.Err() != nil {
		j.err = err
		return
	}
	for i, in := range j.batch {
		res, err := up.UpsertCustomers(ctx, []store.CustomerInput{in})
		if err != nil {
			if ctx.Err() != nil {
				j.err = err
				return
			}
			j.rejections = append(j.rejections, Rejection{Line: j.lines[i], Reason: "database refused the row: " + err.Error()})
			continue
		}
		j.results = append(j.results, res...)
	}
}

func (im *importer) reject(line int, field, reason string) {
	im.sum.Rejected++
	im.sum.Rejections = append(im.sum.Rejections, Rejection{Line: line, Field: field, Reason: reason})
}

func (im *importer) add(rw row) {
	im.sum.Rows++
	if rw.err != nil {
		im.rejectErr(rw.line, rw.err)
		return
	}
	in := rw.input
	if err := validate.Customer(&in, validate.CustomerOptions{DefaultRegion: im.opt.DefaultRegion, Now: im.opt.Now}); err != nil {
		im.rejectErr(rw.line, err)
		return
	}
	if first, dup := im.firstLine[in.ExternalID]; dup {
		im.reject(rw.line, "external_id", fmt.Sprintf("%q already appears on line %d", in.ExternalID, first))
		return
	}
	im.firstLine[in.ExternalID] = rw.line
	im.batch = append(im.batch, in)
	im.lines = append(im.lines, rw.line)
}

func (im *importer) rejectErr(line int, err error) {
	if fes, ok := validate.AsErrors(err); ok {
		fields := make([]string, 0, len(fes))
		msgs := make([]string, 0, len(fes))
		for _, fe := range fes {
			fields = append(fields, fe.Field)
			msgs = append(msgs, fe.Message)
		}
		im.reject(line, strings.Join(fields, ","), strings.Join(msgs, "; "))
		return
	}
	im.reject(line, "", err.Error())
}

func (im *importer) count(res []store.UpsertResult) {
	for _, r := range res {
		switch r.Outcome {
		case store.Inserted:
			im.sum.Inserted++
		case store.Updated:
			im.sum.Updated++
		default:
			im.sum.Unchanged++
		}
	}
}
