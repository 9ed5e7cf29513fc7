package spec

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tidingsdev/tidings/internal/spec/spectest"
)

// aliasBomb nests levels of fan aliases: the last line stands for
// fan^levels nodes in a few hundred bytes.
func aliasBomb(levels, fan int) string {
	var b strings.Builder
	b.WriteString("a0: &a0 {locale: en}\n")
	for i := 1; i <= levels; i++ {
		refs := strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), fan), ", ")
		fmt.Fprintf(&b, "a%d: &a%d {all: [%s]}\n", i, i, refs)
	}
	return b.String()
}

func decodeError(t *testing.T, src string) *Error {
	t.Helper()
	_, err := Decode([]byte(src), "f.yaml")
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 {
		t.Fatalf("Decode = %v, want one located error", err)
	}
	return es[0]
}

func TestDecodeRefusesAnAliasBombAtTheAlias(t *testing.T) {
	src := aliasBomb(7, 9) // 9^7 = 4.8 million conditions
	var e *Error
	used := spectest.Allocated(func() { e = decodeError(t, src) })
	// Each *a3 stands for 2,917 nodes: the third on line 5 crosses the
	// budget.
	if e.Line != 5 || e.Column != 26 || !strings.Contains(e.Msg, "alias *a3") || !strings.Contains(e.Msg, "more than 10000 values") {
		t.Errorf("error %v, want at 5:26 naming alias *a3 and the budget", e)
	}
	if used > 10<<20 {
		t.Errorf("decoding the bomb allocated %d MB, want under 10 MB", used>>20)
	}
}

func TestDecodeAllowsAliasesThatReuse(t *testing.T) {
	src := "base: &vip {tags: {all: [vip]}}\nen: {all: [*vip, {locale: en}]}\nzh: {all: [*vip, {locale: zh-CN}]}\n" + aliasBomb(3, 9)
	if _, err := Decode([]byte(src), "f.yaml"); err != nil {
		t.Fatalf("reusing anchors refused: %v", err)
	}
}

func TestDecodeRefusesAnAliasInsideItsAnchor(t *testing.T) {
	e := decodeError(t, "a: &loop\n  all: [*loop]\n")
	if e.Line != 2 || e.Column != 9 || !strings.Contains(e.Msg, "never ends") {
		t.Errorf("error %v, want at 2:9 saying it never ends", e)
	}
}

// TestDecodeStaysSmallForAnyFileUnderAMegabyte feeds the shapes that cost
// a YAML parser most per byte: a parser holds about 200 bytes a node, so a
// megabyte of one-character list items would take over 100 MB.
func TestDecodeStaysSmallForAnyFileUnderAMegabyte(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		refused   string // "" when the file is read
	}{
		{"flow list of digits", "[" + strings.Repeat("0,", MaxBytes/2-8) + "0]", "more than 100000 keys, values and list items"},
		{"block list", strings.Repeat("- 0\n", MaxBytes/4-1), "more than 100000"},
		{"flow mapping", "{" + strings.Repeat("a: 0, ", MaxBytes/6-2) + "a: 0}", "more than 100000"},
		{"nesting", strings.Repeat("[", MaxBytes/2-1) + strings.Repeat("]", MaxBytes/2-1), "more than 100000"},
		{"just under the node bound", "in: [" + strings.Repeat("c-000001, ", MaxNodes-10) + "c-1]\n", ""},
		{"long text", "description: \"" + strings.Repeat("Frühling 春季 ", MaxBytes/20) + "\"\n", ""},
	} {
		if len(tc.src) > MaxBytes {
			t.Fatalf("%s: %d bytes, over the limit under test", tc.name, len(tc.src))
		}
		var err error
		used := spectest.Allocated(func() { _, err = Decode([]byte(tc.src), "big.yaml") })
		switch {
		case tc.refused == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.refused != "" && (err == nil || !strings.Contains(err.Error(), tc.refused)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.refused)
		}
		if used > 100<<20 {
			t.Errorf("%s: %d bytes allocated %d MB, want under 100 MB", tc.name, len(tc.src), used>>20)
		}
		t.Logf("%s: %d KiB read with %d MB allocated", tc.name, len(tc.src)>>10, used>>20)
	}
}

func TestDecodeLocatesWhatIsNotYAMLText(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		line, col int
		msg       string
	}{
		{"GBK bytes", "name: spring\ndescription: \xb4\xba\xbc\xbe\n", 2, 14, "not UTF-8 text"},
		{"NUL byte", "name: a\x00b\n", 1, 8, "control character U+0000"},
		{"syntax", "name: x\n  bad: [\n", 2, 1, "syntax error"},
		{"second document", "name: a\n---\nname: b\n", 2, 1, "second document"},
	} {
		e := decodeError(t, tc.src)
		if e.Line != tc.line || e.Column != tc.col || !strings.Contains(e.Msg, tc.msg) || e.File != "f.yaml" {
			t.Errorf("%s: %v, want f.yaml:%d:%d: %s", tc.name, e, tc.line, tc.col, tc.msg)
		}
	}
	if _, err := Decode(make([]byte, MaxBytes+1), "f.yaml"); err == nil || !strings.Contains(err.Error(), "at most 1.0 MiB") {
		t.Errorf("a file over the limit: %v", err)
	}
	for _, empty := range []string{"", "  \n", "# only a comment\n"} {
		if n, err := Decode([]byte(empty), "f.yaml"); n != nil || err != nil {
			t.Errorf("Decode(%q) = %v, %v; want nil, nil", empty, n, err)
		}
	}
}
