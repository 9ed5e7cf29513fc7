package importer_test

import (
	"strings"
	"testing"

	"github.com/tidingsdev/tidings/internal/importer"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// TestCSVRefusesNamesNoMailCanCarry: a name with a line break, a NUL or
// another control character would make every message to the customer fail,
// so its row is refused naming the field (a NUL byte refuses the whole file
// as not being text, see the encoding tests); quotes and apostrophes are
// ordinary name characters and import as written.
func TestCSVRefusesNamesNoMailCanCarry(t *testing.T) {
	t.Parallel()
	s, _ := testdb.New(t)
	const header = "external_id,email,first_name,last_name,city"
	good := []string{
		`G-1,quinn@example.com,"Quinn ""Q",Smith,`,
		`G-2,zoe@example.com,"Zoë ""Zed""",O'Brien,Cork`,
	}
	bad := []badRow{
		{"tab in a city", "B-2,b2@example.com,Ann,Lee,New\tYork", "city", "U+0009"},
		{"C1 control in a first name", "B-3,b3@example.com,An\u0085n,Lee,", "first_name", "U+0085"},
		{"header injection in a first name", "B-4,b4@example.com,\"Eve\r\nBcc: evil@example.com\",Lee,", "first_name", "U+000A"},
	}
	lines := append([]string{header}, good...)
	for _, b := range bad {
		lines = append(lines, b.line)
	}
	sum := importText(t, s, importer.CSV, strings.Join(lines, "\n")+"\n", importer.Options{})
	if sum.Inserted != len(good) || sum.Rejected != len(bad) {
		t.Errorf("%d inserted, %d rejected; want %d and %d", sum.Inserted, sum.Rejected, len(good), len(bad))
	}
	checkRejections(t, sum.Rejections, bad, 2+len(good))
	for id, want := range map[string]string{"G-1": `Quinn "Q`, "G-2": `Zoë "Zed"`} {
		c, err := s.CustomerByExternalID(t.Context(), id)
		if err != nil || c.FirstName != want {
			t.Errorf("%s first name = %q (%v), want %q", id, c.FirstName, err, want)
		}
	}
	if n, _ := testdb.CountCustomers(t.Context(), s); n != len(good) {
		t.Errorf("%d customers stored, want %d", n, len(good))
	}
}
