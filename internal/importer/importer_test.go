package importer_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/importer"
	"github.com/tidingsdev/tidings/internal/segment"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// now pins "today" so the future-birthday rule does not depend on the clock.
var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func importText(t *testing.T, up importer.Upserter, format, text string, opt importer.Options) importer.Summary {
	t.Helper()
	opt.Format = format
	if opt.DefaultRegion == "" {
		opt.DefaultRegion = "US"
	}
	opt.Now = now
	sum, err := importer.Import(t.Context(), up, strings.NewReader(text), opt)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return sum
}

// badRow is one line of an input file and the rejection it must earn.
type badRow struct {
	name   string
	line   string
	field  string
	reason string // a fragment of the reason
}

func TestCSVRejectsEachBadRowAndKeepsTheGoodOnes(t *testing.T) {
	t.Parallel()
	s, _ := testdb.New(t)
	const header = "external_id,email,phone,time_zone,locale,birthday,gender,country"
	good := []string{
		"C-01,ann@example.com,+8613800138000,Asia/Shanghai,zh-CN,1990-02-28,female,CN",
		"C-02,Bo@Example.COM,(415) 555-0123,America/New_York,en_us,2000-02-29,,us",
		"C-03,,,,zh-TW,,,",
	}
	bad := []badRow{
		{"invalid email", "B-01,not-an-email,,,,,,", "email", "not a valid email address"},
		{"email with display name", `B-02,"Ann <ann@example.com>",,,,,,`, "email", "not a valid email address"},
		{"invalid phone", "B-03,,12345,,,,,", "phone", "not a valid phone number"},
		{"unknown zone", "B-04,,,Mars/Olympus,,,,", "time_zone", "not a known IANA time zone"},
		{"abbreviated zone", "B-05,,,EST,,,,", "time_zone", "abbreviations are ambiguous"},
		{"bad locale", "B-06,,,,klingon,,,", "locale", "not a locale"},
		{"impossible date", "B-07,,,,,2023-02-29,,", "birthday", "not a date"},
		{"future birthday", "B-08,,,,,2030-01-01,,", "birthday", "in the future"},
		{"unknown gender", "B-09,,,,,,wizard,", "gender", "not one of"},
		{"bad country", "B-10,,,,,,,USA", "country", "ISO 3166"},
		{"missing external_id", ",x@example.com,,,,,,", "external_id", "is required"},
		{"duplicate external_id", "C-01,dup@example.com,,,,,,", "external_id", `"C-01" already appears on line 2`},
		{"wrong column count", "B-13,x@example.com,,", "", "has 4 columns, the header has 8"},
		{"stray quote", `B-14,ann"x@example.com,,,,,,`, "", "malformed CSV"},
		{"stray quote in the first column", `B"15,x@example.com,,,,,,`, "", "malformed CSV"},
		{"several problems", "B-16,nope,,EST,,,,", "email,time_zone", "not a valid email address"},
	}
	lines := append([]string{header}, good...)
	for _, b := range bad {
		lines = append(lines, b.line)
	}
	lines = append(lines, "C-99,last@example.com,,,,,,")

	sum := importText(t, s, importer.CSV, strings.Join(lines, "\n")+"\n", importer.Options{})

	if sum.Rows != len(good)+len(bad)+1 || sum.Inserted != len(good)+1 || sum.Rejected != len(bad) {
		t.Errorf("summary = %d rows, %d inserted, %d rejected; want %d, %d, %d",
			sum.Rows, sum.Inserted, sum.Rejected, len(good)+len(bad)+1, len(good)+1, len(bad))
	}
	checkRejections(t, sum.Rejections, bad, 2+len(good))

	n, err := testdb.CountCustomers(t.Context(), s)
	if err != nil || n != len(good)+1 {
		t.Errorf("%d customers stored (%v), want %d", n, err, len(good)+1)
	}
	bo, err := s.CustomerByExternalID(t.Context(), "C-02")
	if err != nil {
		t.Fatal(err)
	}
	if bo.Email != "Bo@example.com" || bo.Phone != "+14155550123" || bo.Locale != "en-US" || bo.Country != "US" ||
		bo.Birthday.Format(time.DateOnly) != "2000-02-29" {
		t.Errorf("C-02 stored as %+v; want domain lowercased, phone in E.164 for region US, locale en-US, country US", bo)
	}
	if _, err := s.CustomerByExternalID(t.Context(), "C-99"); err != nil {
		t.Errorf("the good row after the bad ones was lost: %v", err)
	}
}

func TestJSONLinesRejectsEachBadRowAndKeepsTheGoodOnes(t *testing.T) {
	t.Parallel()
	s, _ := testdb.New(t)
	good := []string{
		`{"external_id": "J-01", "email": "ann@example.com", "tags": ["vip", "beta"], "attributes": {"plan": "gold", "seats": 3}}`,
		`{"external_id": "J-02", "phone": "+886912345678", "locale": "zh-TW", "time_zone": "Asia/Taipei"}`,
	}
	bad := []badRow{
		{"malformed JSON", `{"external_id": "J-10", "email": `, "", "malformed JSON"},
		{"wrong type", `{"external_id": "J-11", "email": 42}`, "email", "expected string, got JSON number"},
		{"unknown key", `{"external_id": "J-12", "emial": "x@example.com"}`, "emial", "unknown key"},
		{"not an object", `["J-13"]`, "", "JSON"},
		{"invalid email", `{"external_id": "J-14", "email": "x@"}`, "email", "not a valid email address"},
		{"missing external_id", `{"email": "x@example.com"}`, "external_id", "is required"},
		{"duplicate external_id", `{"external_id": "J-01"}`, "external_id", "already appears on line 1"},
	}
	lines := append([]string{}, good...)
	for _, b := range bad {
		lines = append(lines, b.line)
	}
	sum := importText(t, s, importer.JSONL, strings.Join(lines, "\n"), importer.Options{})
	if sum.Inserted != len(good) || sum.Rejected != len(bad) {
		t.Errorf("summary = %d inserted, %d rejected; want %d, %d", sum.Inserted, sum.Rejected, len(good), len(bad))
	}
	checkRejections(t, sum.Rejections, bad, 1+len(good))

	c, err := s.CustomerByExternalID(t.Context(), "J-01")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Tags, []string{"vip", "beta"}) || !reflect.DeepEqual(c.Attributes, map[string]any{"plan": "gold", "seats": 3.0}) {
		t.Errorf("J-01 tags %v attributes %v; want [vip beta] and plan gold, seats 3", c.Tags, c.Attributes)
	}
}

func TestJSONLinesCountsBlankLines(t *testing.T) {
	t.Parallel()
	s, _ := testdb.New(t)
	text := "\ufeff{\"external_id\": \"J-1\"}\n\n   \n{\"external_id\": \"J-2\", \"email\": \"bad\"}\n"
	sum := importText(t, s, importer.JSONL, text, importer.Options{})
	if sum.Inserted != 1 || len(sum.Rejections) != 1 || sum.Rejections[0].Line != 4 {
		t.Errorf("summary = %+v; want J-1 inserted and line 4 rejected", sum)
	}
}

func checkRejections(t *testing.T, got []importer.Rejection, want []badRow, firstLine int) {
	t.Helper()
	byLine := map[int]importer.Rejection{}
	for _, r := range got {
		byLine[r.Line] = r
	}
	for i, w := range want {
		line := firstLine + i
		r, ok := byLine[line]
		if !ok {
			t.Errorf("%s (line %d): not rejected", w.name, line)
			continue
		}
		if r.Field != w.field || !strings.Contains(r.Reason, w.reason) {
			t.Errorf("%s (line %d): rejected as %q: %q; want field %q and a reason with %q", w.name, line, r.Field, r.Reason, w.field, w.reason)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d rejections, want %d: %v", len(got), len(want), got)
	}
}

func TestUnknownCSVColumnRefusesTheWholeFile(t *testing.T) {
	t.Parallel()
	s, _ := testdb.New(t)
	text := "external_id,email,Loyalty Tier\nC-1,ann@example.com,gold\n"
	_, err := importer.Import(t.Context(), s, strings.NewReader(text), importer.Options{Format: importer.CSV})
	if err == nil {
		t.Fatal("a file with an unknown column was imported")
	}
	for _, want := range []string{`"Loyalty Tier"`, "column 3", "--map"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if n, _ := testdb.CountCustomers(t.Context(), s); n != 0 {
		t.Errorf("a refused file stored %d customers", n)
	}
}

func TestCSVHeaderProblems(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		text    string
		mapping map[string]string
		want    string
	}{
		"empty file":             {"", nil, "the file is empty"},
		"no external_id column":  {"email,phone\nx@example.com,\n", nil, "no external_id column"},
		"two columns, one field": {"id,external_id\n1,2\n", nil, "columns 1 and 2 both map to external_id"},
		"map to a non-field":     {"Customer No\n1\n", map[string]string{"Customer No": "customer_number"}, `"customer_number" is not a field`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := importer.Import(t.Context(), refuseAll{t}, strings.NewReader(c.text), importer.Options{Format: importer.CSV, Mapping: c.mapping})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want one mentioning %q", err, c.want)
			}
		})
	}
}

// refuseAll fails the test if anything reaches the database.
type refuseAll struct{ t *testing.T }

func (r refuseAll) UpsertCustomers(context.Context, []store.CustomerInput) ([]store.UpsertResult, error) {
	r.t.Error("rows were written from a file that should have been refused")
	return nil, errors.New("refused")
}

func TestMappingAndAliases(t *testing.T) {
	t.Parallel()
	s, _ := testdb.New(t)
	text := "Customer No,E-Mail,Mobile,TZ,DOB,Given Name,Surname,Plan,Notes,Tags\n" +
		"K-7,kim@example.com,+14155550123,Asia/Seoul,1995-12-24,Kim,Park,gold,called twice,vip;beta\n"
	sum := importText(t, s, importer.CSV, text, importer.Options{Mapping: map[string]string{
		"customer no": "external_id", "Plan": "attributes.plan", "Notes": "-",
	}})
	if sum.Inserted != 1 || sum.Rejected != 0 {
		t.Fatalf("summary = %+v, want 1 inserted", sum)
	}
	c, err := s.CustomerByExternalID(t.Context(), "K-7")
	if err != nil {
		t.Fatal(err)
	}
	want := store.Customer{
		ExternalID: "K-7", Email: "kim@example.com", Phone: "+14155550123", TimeZone: "Asia/Seoul",
		FirstName: "Kim", LastName: "Park", Tags: []string{"vip", "beta"}, Attributes: map[string]any{"plan": "gold"},
	}
	got := store.Customer{
		ExternalID: c.ExternalID, Email: c.Email, Phone: c.Phone, TimeZone: c.TimeZone,
		FirstName: c.FirstName, LastName: c.LastName, Tags: c.Tags, Attributes: c.Attributes,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stored\n got %+v\nwant %+v", got, want)
	}
	if c.Birthday == nil || c.Birthday.Format(time.DateOnly) != "1995-12-24" {
		t.Errorf("DOB column: birthday = %v, want 1995-12-24", c.Birthday)
	}
}

func TestByteOrderMarkBeforeTheHeader(t *testing.T) {
	t.Parallel()
	s, _ := testdb.New(t)
	for i, text := range []string{
		"\ufeffexternal_id,email\nM-1,m1@example.com\n",
		"\ufeff\"external_id\",\"email\"\r\n\"M-2\",\"m2@example.com\"\r\n",
	} {
		sum := importText(t, s, importer.CSV, text, importer.Options{})
		if sum.Inserted != 1 || sum.Rejected != 0 {
			t.Errorf("file %d with a byte-order mark: %+v, want 1 inserted", i+1, sum)
		}
	}
}

func TestReimportingTheSameFileChangesNothing(t *testing.T) {
	t.Parallel()
	s, _ := testdb.New(t)
	text := generateCSV(1200, 7)
	first := importText(t, s, importer.CSV, text, importer.Options{BatchSize: 500})
	if first.Inserted != 1200 || first.Rejected != 0 {
		t.Fatalf("first import: %d inserted, %d rejected (%v), want 1200 inserted", first.Inserted, first.Rejected, first.Rejections[:min(3, len(first.Rejections))])
	}
	before := dump(t, s)

	second := importText(t, s, importer.CSV, text, importer.Options{BatchSize: 500})
	if second.Inserted != 0 || second.Updated != 0 || second.Unchanged != 1200 || second.Rejected != 0 {
		t.Errorf("second import: %d inserted, %d updated, %d unchanged, %d rejected; want 0, 0, 1200, 0",
			second.Inserted, second.Updated, second.Unchanged, second.Rejected)
	}
	if after := dump(t, s); !reflect.DeepEqual(before, after) {
		t.Error("re-importing the same file changed stored customers (values or updated_at)")
	}
}

func TestAFileWithFewerColumnsNeverWipesData(t *testing.T) {
	t.Parallel()
	s, _ := testdb.New(t)
	importText(t, s, importer.CSV,
		"external_id,email,phone,first_name,city,attributes.plan\n"+
			"W-1,w1@example.com,+14155550123,Wu,Taipei,gold\n"+
			"W-2,w2@example.com,+14155550124,Wen,Tainan,free\n", importer.Options{})

	// The CRM export only has names now, and W-2's first name cell is empty.
	sum := importText(t, s, importer.CSV, "external_id,first_name,attributes.source\nW-1,Wei,crm\nW-2,,crm\n", importer.Options{})
	if sum.Updated != 2 {
		t.Errorf("second import: %+v, want 2 updated", sum)
	}
	w1, _ := s.CustomerByExternalID(t.Context(), "W-1")
	w2, _ := s.CustomerByExternalID(t.Context(), "W-2")
	if w1.FirstName != "Wei" || w1.Email != "w1@example.com" || w1.Phone != "+14155550123" || w1.City != "Taipei" {
		t.Errorf("W-1 = %+v; want first name Wei and the other fields kept", w1)
	}
	if w2.FirstName != "Wen" || w2.Email != "w2@example.com" {
		t.Errorf("W-2 = %+v; an empty cell must keep the stored first name", w2)
	}
	if want := map[string]any{"plan": "gold", "source": "crm"}; !reflect.DeepEqual(w1.Attributes, want) {
		t.Errorf("W-1 attributes = %v, want %v", w1.Attributes, want)
	}
}

// failingUpserter is a store whose database refuses every batch containing
// one external ID, as a constraint would; other batches go to the real store.
type failingUpserter struct {
	next   importer.Upserter
	poison string
}

func (f *failingUpserter) UpsertCustomers(ctx context.Context, in []store.CustomerInput) ([]store.UpsertResult, error) {
	for _, c := range in {
		if c.ExternalID == f.poison {
			return nil, fmt.Errorf("ERROR: value violates check constraint (SQLSTATE 23514)")
		}
	}
	return f.next.UpsertCustomers(ctx, in)
}

func TestARowTheDatabaseRefusesDoesNotTakeItsBatchDown(t *testing.T) {
	t.Parallel()
	s, _ := testdb.New(t)
	text := generateCSV(25, 1)
	up := &failingUpserter{next: s, poison: "G-00013"}
	var progress []int
	sum := importText(t, up, importer.CSV, text, importer.Options{BatchSize: 10, Progress: func(n int) { progress = append(progress, n) }})

	if sum.Inserted != 24 || sum.Rejected != 1 {
		t.Errorf("summary = %d inserted, %d rejected; want 24, 1", sum.Inserted, sum.Rejected)
	}
	if len(sum.Rejections) != 1 || sum.Rejections[0].Line != 14 || !strings.Contains(sum.Rejections[0].Reason, "database refused the row") {
		t.Errorf("rejections = %v, want line 14 refused by the database", sum.Rejections)
	}
	if n, _ := testdb.CountCustomers(t.Context(), s); n != 24 {
		t.Errorf("%d customers stored, want 24", n)
	}
	if _, err := s.CustomerByExternalID(t.Context(), "G-00014"); err != nil {
		t.Errorf("the poisoned row's neighbour was lost: %v", err)
	}
	if !reflect.DeepEqual(progress, []int{10, 20, 25}) {
		t.Errorf("progress reports = %v, want [10 20 25]", progress)
	}
}

func TestDatabaseOutageStopsTheImport(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	up := cancelling{cancel}
	_, err := importer.Import(ctx, up, strings.NewReader(generateCSV(30, 1)), importer.Options{Format: importer.CSV, BatchSize: 10, Now: now})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want the import to stop with context.Canceled", err)
	}
}

// cancelling stands for a database that goes away mid-import (the user
// pressed Ctrl-C): the import must stop, not reject every row.
type cancelling struct{ cancel context.CancelFunc }

func (c cancelling) UpsertCustomers(ctx context.Context, _ []store.CustomerInput) ([]store.UpsertResult, error) {
	c.cancel()
	return nil, ctx.Err()
}

func TestRejectionString(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		r    importer.Rejection
		want string
	}{
		{importer.Rejection{Line: 7, Field: "email", Reason: `"x" is not a valid email address`}, `line 7: email: "x" is not a valid email address`},
		{importer.Rejection{Line: 9, Reason: "malformed CSV"}, "line 9: malformed CSV"},
	} {
		if got := c.r.String(); got != c.want {
			t.Errorf("String() = %q, want %q", got, c.want)
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	t.Parallel()
	_, err := importer.Import(t.Context(), refuseAll{t}, strings.NewReader("x"), importer.Options{Format: "xlsx"})
	if err == nil || !strings.Contains(err.Error(), `"xlsx"`) {
		t.Errorf("err = %v, want it to name the format", err)
	}
}

// dump reads every stored customer in ID order.
func dump(t *testing.T, s *store.Store) []store.Customer {
	t.Helper()
	var out []store.Customer
	after := ""
	for {
		page, err := s.CustomerPage(t.Context(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		after = page[len(page)-1].ID
	}
}

// TestAttributeColumnsKeepTheirTypes imports attribute columns as a
// spreadsheet writes them and checks, through the segment code, that
// numeric and boolean conditions match the imported rows: plain numbers and
// true/false are inferred, codes with leading zeros stay text, and a
// mapping can force a type.
func TestAttributeColumnsKeepTheirTypes(t *testing.T) {
	t.Parallel()
	s, _ := testdb.New(t)
	text := "external_id,attributes.points,attributes.beta,attributes.zip,Seats,Member,attributes.plan\n" +
		"A-1,120,true,02134,0012,yes,gold\n" +
		"A-2,99.5,FALSE,94107,3,no,007\n" +
		"A-3,,,,,,\n" +
		"A-4,1000000000000000000,maybe,1e3,12,1,-\n"
	typed := importer.Options{Mapping: map[string]string{
		"Seats": "attributes.seats:number", "Member": "attributes.member:boolean", "attributes.zip": ":text",
	}}
	sum := importText(t, s, importer.CSV, text, typed)
	if sum.Inserted != 4 || sum.Rejected != 0 {
		t.Fatalf("summary = %+v", sum)
	}
	a1, _ := s.CustomerByExternalID(t.Context(), "A-1")
	want := map[string]any{"points": 120.0, "beta": true, "zip": "02134", "seats": 12.0, "member": true, "plan": "gold"}
	if !reflect.DeepEqual(a1.Attributes, want) {
		t.Errorf("A-1 attributes = %#v\nwant %#v", a1.Attributes, want)
	}
	a4, _ := s.CustomerByExternalID(t.Context(), "A-4")
	want = map[string]any{"points": "1000000000000000000", "beta": "maybe", "zip": "1e3", "seats": 12.0, "member": true, "plan": "-"}
	if !reflect.DeepEqual(a4.Attributes, want) {
		t.Errorf("A-4 attributes = %#v\nwant %#v (a 19-digit number is an ID, kept as text)", a4.Attributes, want)
	}

	for _, c := range []struct {
		match string
		want  []string
	}{
		{"attributes.points: {gte: 100}", []string{"A-1"}},
		{"attributes.points: {lt: 100}", []string{"A-2"}},
		{"attributes.beta: true", []string{"A-1"}},
		{"attributes.beta: false", []string{"A-2"}},
		{`attributes.zip: "02134"`, []string{"A-1"}},
		{"attributes.seats: {between: [10, 20]}", []string{"A-1", "A-4"}},
		{"attributes.member: false", []string{"A-2"}},
		{`attributes.plan: "007"`, []string{"A-2"}},
	} {
		def, err := segment.Parse([]byte("match:\n  "+c.match+"\n"), "s.yaml")
		if err != nil {
			t.Fatal(err)
		}
		ids, err := segment.Page(t.Context(), s.Pool(), def, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, id := range ids {
			cu, err := s.Customer(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, cu.ExternalID)
		}
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("segment %s matches %v, want %v", c.match, got, c.want)
		}
	}

	// Importing the same file again changes nothing.
	if again := importText(t, s, importer.CSV, text, typed); again.Unchanged != 4 {
		t.Errorf("second import: %+v, want 4 unchanged", again)
	}
}

func TestTypedAttributeCellsThatAreNotOfTheirType(t *testing.T) {
	t.Parallel()
	s, _ := testdb.New(t)
	text := "external_id,Seats,Member\nB-1,twelve,yes\nB-2,3,perhaps\nB-3,4,no\n"
	sum := importText(t, s, importer.CSV, text, importer.Options{Mapping: map[string]string{
		"Seats": "attributes.seats:number", "Member": "attributes.member:boolean",
	}})
	checkRejections(t, sum.Rejections, []badRow{
		{"not a number", "", "attributes.seats", `"twelve" is not a number`},
		{"not a boolean", "", "attributes.member", `"perhaps" is not true or false`},
	}, 2)
	if sum.Inserted != 1 {
		t.Errorf("summary = %+v, want B-3 inserted", sum)
	}
	for name, c := range map[string]struct {
		mapping map[string]string
		want    string
	}{
		"type on a profile field": {map[string]string{"Seats": "city:number", "Member": "-"}, "only attributes.NAME columns take a type"},
		"unknown type":            {map[string]string{"Seats": "attributes.seats:integer", "Member": "-"}, `type "integer" is not one of text, number or boolean`},
		"type without a field":    {map[string]string{"Seats": ":number", "Member": "-"}, "name the field before the type"},
	} {
		_, err := importer.Import(t.Context(), refuseAll{t}, strings.NewReader(text), importer.Options{Format: importer.CSV, Mapping: c.mapping})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
}
