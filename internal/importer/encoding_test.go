package importer_test

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"

	"github.com/tidingsdev/tidings/internal/importer"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// Files as spreadsheets save them: a header, then customers whose names and
// cities are written in their own script.
const (
	zhCNFile = "external_id,first_name,last_name,city,locale\n" +
		"E-1,Ann,Lee,New York,en\n" +
		"E-2,芳,王,上海,zh-CN\n" +
		"E-3,秀英,张,北京,zh-CN\n" +
		"E-4,伟,刘,深圳,zh-CN\n"
	zhTWFile = "external_id,first_name,last_name,city,locale\n" +
		"T-1,Ann,Lee,New York,en\n" +
		"T-2,柏翰,陳,臺北,zh-TW\n" +
		"T-3,淑芬,林,高雄,zh-TW\n" +
		"T-4,志明,黃,臺中,zh-TW\n"
	westernFile = "external_id,first_name,last_name,city\n" +
		"W-1,Zoë,O'Brien,Dublin\n" +
		"W-2,François,Légaré,Montréal\n"
)

func encode(t *testing.T, enc encoding.Encoding, s string) string {
	t.Helper()
	b, err := enc.NewEncoder().String(s)
	if err != nil {
		t.Fatalf("encode %q: %v", s, err)
	}
	return b
}

// TestFilesInAnotherEncodingAreRefusedWhole: a GBK, Big5 or Windows-1252
// file imported as UTF-8 is refused before anything is written, naming the
// line of the first character that is not UTF-8, the encoding the file looks
// like and the flag that imports it.
func TestFilesInAnotherEncodingAreRefusedWhole(t *testing.T) {
	t.Parallel()
	utf16 := encode(t, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), zhCNFile)
	for name, c := range map[string]struct {
		text string
		want []string
	}{
		"GBK":          {encode(t, simplifiedchinese.GBK, zhCNFile), []string{"line 3:", "not UTF-8", "GBK", "zh-CN", "--encoding gbk"}},
		"Big5":         {encode(t, traditionalchinese.Big5, zhTWFile), []string{"line 3:", "not UTF-8", "Big5", "zh-TW", "--encoding big5"}},
		"Windows-1252": {encode(t, charmap.Windows1252, westernFile), []string{"line 2:", "not UTF-8", "Windows-1252", "--encoding windows-1252"}},
		"UTF-16":       {utf16, []string{"line 1:", "NUL", "UTF-16", "CSV UTF-8"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := importer.Import(t.Context(), refuseAll{t}, strings.NewReader(c.text), importer.Options{Format: importer.CSV, Now: now})
			if err == nil {
				t.Fatal("a file that is not UTF-8 was accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "SQLSTATE") || strings.Contains(err.Error(), "invalid byte sequence") {
				t.Errorf("error %q is the database's", err)
			}
		})
	}
}

// TestEncodingFlagImportsSpreadsheetFiles: with --encoding the same files
// import with every name and city intact; the GBK file and its UTF-8
// original store the same customers, so importing one after the other
// changes nothing.
func TestEncodingFlagImportsSpreadsheetFiles(t *testing.T) {
	t.Parallel()
	s, _ := testdb.New(t)
	for _, c := range []struct {
		label, text string
		inserted    int
		id          string
		first, city string
	}{
		{"gbk", encode(t, simplifiedchinese.GBK, zhCNFile), 4, "E-3", "秀英", "北京"},
		{"GB2312", encode(t, simplifiedchinese.GBK, zhCNFile), 0, "E-2", "芳", "上海"},
		{"utf-8", zhCNFile, 0, "E-4", "伟", "深圳"},
		{"big5", encode(t, traditionalchinese.Big5, zhTWFile), 4, "T-2", "柏翰", "臺北"},
		{"windows-1252", encode(t, charmap.Windows1252, westernFile), 2, "W-2", "François", "Montréal"},
	} {
		rows := strings.Count(c.text, "\n") - 1
		sum := importText(t, s, importer.CSV, c.text, importer.Options{Encoding: c.label})
		if sum.Rejected != 0 || sum.Inserted != c.inserted || sum.Unchanged != rows-c.inserted {
			t.Errorf("--encoding %s: %+v, want %d inserted and the rest unchanged", c.label, sum, c.inserted)
		}
		got, err := s.CustomerByExternalID(t.Context(), c.id)
		if err != nil {
			t.Fatal(err)
		}
		if got.FirstName != c.first || got.City != c.city {
			t.Errorf("--encoding %s: %s stored as %q in %q, want %q in %q", c.label, c.id, got.FirstName, got.City, c.first, c.city)
		}
	}
}

// TestByteOrderMarkWinsOverTheLabel: Excel's "CSV UTF-8" starts with a
// byte-order mark, so such a file imports as UTF-8 whatever --encoding says;
// a UTF-16 file with its mark is read as UTF-16.
func TestByteOrderMarkWinsOverTheLabel(t *testing.T) {
	t.Parallel()
	s, _ := testdb.New(t)
	utf16 := encode(t, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), zhCNFile)
	for _, c := range []struct{ label, text string }{
		{"gbk", "\ufeff" + zhCNFile},
		{"", "\ufeff" + zhCNFile},
		{"", utf16},
	} {
		sum := importText(t, s, importer.CSV, c.text, importer.Options{Encoding: c.label})
		if sum.Rejected != 0 || sum.Rows != 4 {
			t.Errorf("--encoding %q with a byte-order mark: %+v", c.label, sum)
		}
		got, err := s.CustomerByExternalID(t.Context(), "E-2")
		if err != nil || got.FirstName != "芳" || got.City != "上海" {
			t.Errorf("--encoding %q with a byte-order mark: E-2 = %q in %q (%v)", c.label, got.FirstName, got.City, err)
		}
	}
}

// TestUTF8FileWithALabelIsRefused: naming GBK for a file that is really
// UTF-8 would garble every name it overwrites, so it is refused.
func TestUTF8FileWithALabelIsRefused(t *testing.T) {
	t.Parallel()
	_, err := importer.Import(t.Context(), refuseAll{t}, strings.NewReader(zhCNFile), importer.Options{Format: importer.CSV, Encoding: "gbk", Now: now})
	if err == nil || !strings.Contains(err.Error(), "line 3:") || !strings.Contains(err.Error(), "reads as UTF-8") || !strings.Contains(err.Error(), "not as GBK") {
		t.Errorf("err = %v, want line 3 named as UTF-8, not GBK", err)
	}
	_, err = importer.Import(t.Context(), refuseAll{t}, strings.NewReader(zhCNFile), importer.Options{Format: importer.CSV, Encoding: "klingon"})
	if err == nil || !strings.Contains(err.Error(), `--encoding "klingon"`) || !strings.Contains(err.Error(), "gbk") {
		t.Errorf("err = %v, want the unknown encoding named with the ones to use", err)
	}
}

// TestBadBytesPastTheFirstMegabyteRejectTheirRow: beyond the part checked
// up front, a row with bytes that are not UTF-8 (or a NUL) is rejected
// naming its line and column; its neighbours are imported.
func TestBadBytesPastTheFirstMegabyteRejectTheirRow(t *testing.T) {
	t.Parallel()
	s, _ := testdb.New(t)
	var b strings.Builder
	b.WriteString("external_id,first_name,attributes.note\n")
	note := strings.Repeat("x", 100_000)
	for i := range 12 {
		b.WriteString("B-" + string(rune('a'+i)) + ",Ann," + note + "\n")
	}
	b.WriteString("B-gbk," + encode(t, simplifiedchinese.GBK, "王芳") + ",short\n")
	b.WriteString("B-nul,Bo,a\x00b\n")
	b.WriteString("B-last,Cy,ok\n")
	sum := importText(t, s, importer.CSV, b.String(), importer.Options{})
	if sum.Inserted != 13 || sum.Rejected != 2 || len(sum.Rejections) != 2 {
		t.Fatalf("summary = %d inserted, %d rejected %v; want 13 and 2", sum.Inserted, sum.Rejected, sum.Rejections)
	}
	gbk, nul := sum.Rejections[0], sum.Rejections[1]
	if gbk.Line != 14 || gbk.Field != "first_name" || !strings.Contains(gbk.Reason, "not UTF-8") || !strings.Contains(gbk.Reason, "--encoding") {
		t.Errorf("GBK row rejected as %v", gbk)
	}
	if nul.Line != 15 || nul.Field != "attributes.note" || !strings.Contains(nul.Reason, "NUL") {
		t.Errorf("NUL row rejected as %v", nul)
	}
	if _, err := s.CustomerByExternalID(t.Context(), "B-last"); err != nil {
		t.Errorf("the row after the bad ones was lost: %v", err)
	}
}

// TestJSONLinesEncodings: a JSON Lines file in GBK is refused as such
// (the JSON decoder alone would store U+FFFD for every Chinese character)
// and imports with --encoding gbk.
func TestJSONLinesEncodings(t *testing.T) {
	t.Parallel()
	s, _ := testdb.New(t)
	text := encode(t, simplifiedchinese.GBK, `{"external_id": "J-1", "first_name": "芳", "last_name": "王", "city": "上海"}`+"\n"+
		`{"external_id": "J-2", "first_name": "伟", "last_name": "刘", "city": "深圳"}`+"\n")
	_, err := importer.Import(t.Context(), refuseAll{t}, strings.NewReader(text), importer.Options{Format: importer.JSONL})
	if err == nil || !strings.Contains(err.Error(), "line 1:") || !strings.Contains(err.Error(), "--encoding gbk") {
		t.Errorf("GBK JSON Lines without --encoding: err = %v", err)
	}
	sum := importText(t, s, importer.JSONL, text, importer.Options{Encoding: "gbk"})
	if sum.Inserted != 2 || sum.Rejected != 0 {
		t.Fatalf("GBK JSON Lines with --encoding gbk: %+v", sum)
	}
	if c, err := s.CustomerByExternalID(t.Context(), "J-1"); err != nil || c.FirstName != "芳" || c.City != "上海" {
		t.Errorf("J-1 = %q in %q (%v)", c.FirstName, c.City, err)
	}
}

// TestGBKRowInAGBKFileWithABadByte: a file decoded from GBK with a byte
// sequence GBK cannot hold rejects that row instead of storing U+FFFD.
func TestGBKRowInAGBKFileWithABadByte(t *testing.T) {
	t.Parallel()
	s, _ := testdb.New(t)
	text := encode(t, simplifiedchinese.GBK, "external_id,first_name\nG-1,芳\n") + "G-2,\x81\x20\n" + encode(t, simplifiedchinese.GBK, "G-3,伟\n")
	sum := importText(t, s, importer.CSV, text, importer.Options{Encoding: "gbk"})
	if sum.Inserted != 2 || len(sum.Rejections) != 1 || sum.Rejections[0].Line != 3 || sum.Rejections[0].Field != "first_name" ||
		!strings.Contains(sum.Rejections[0].Reason, "not valid GBK") {
		t.Errorf("summary = %+v; want line 3 rejected for bytes that are not GBK", sum)
	}
	if bytes.Contains([]byte(text), []byte("\ufffd")) {
		t.Fatal("test file already holds U+FFFD")
	}
}
