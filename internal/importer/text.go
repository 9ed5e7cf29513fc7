package importer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// sniffSize is how much of a file is checked for its encoding before any
// row is read: thousands of rows, so a file in another encoding than the one
// named is refused whole, with nothing written, instead of row by row.
const sniffSize = 1 << 20

// text is an input file decoded to UTF-8, with the check each of its values
// must pass (bytes the decoding could not read, NUL bytes).
type text struct {
	r io.Reader
	// name is the encoding as users know it ("UTF-8", "GBK", "Big5").
	name string
	// decoded is set when the file was converted from another encoding,
	// whose unreadable bytes became U+FFFD.
	decoded bool
}

// openText checks the start of r against the encoding label ("" means
// UTF-8; any WHATWG label: gbk, big5, gb18030, shift_jis, windows-1252,
// utf-16le, ...) and returns the file as UTF-8. A byte-order mark wins over
// the label, as in browsers, so Excel's "CSV UTF-8" imports whatever was
// named. Without a label, a file that is not UTF-8 is refused with the line
// of its first unreadable byte and the encoding it most likely is.
func openText(r io.Reader, label string) (*text, error) {
	enc, name, err := lookupEncoding(label)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(r, sniffSize)
	head, err := br.Peek(sniffSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("read: %w", err)
	}
	full := len(head) == sniffSize // the file goes on after head
	switch {
	case bytes.HasPrefix(head, []byte("\ufeff")):
		_, _ = br.Discard(3)
		return &text{r: br, name: "UTF-8"}, checkUTF8(head[3:], full)
	case bytes.HasPrefix(head, []byte{0xff, 0xfe}), bytes.HasPrefix(head, []byte{0xfe, 0xff}):
		dec := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
		return &text{r: transform.NewReader(br, dec), name: "UTF-16", decoded: true}, nil
	case enc == nil:
		return &text{r: br, name: "UTF-8"}, checkUTF8(head, full)
	}
	if line, ok := utf8NotASCII(head, full); ok {
		return nil, fmt.Errorf("line %d: the file reads as UTF-8 (it has non-ASCII text that is valid UTF-8), not as %s: run again without --encoding", line, name)
	}
	return &text{r: transform.NewReader(br, enc.NewDecoder()), name: name, decoded: true}, nil
}

// lookupEncoding resolves a --encoding label; UTF-8 is nil.
func lookupEncoding(label string) (encoding.Encoding, string, error) {
	label = strings.TrimSpace(label)
	if label == "" {
		return nil, "UTF-8", nil
	}
	enc, err := htmlindex.Get(label)
	if err != nil {
		return nil, "", fmt.Errorf("--encoding %q: not an encoding; use utf-8 (the default), gbk (Simplified Chinese), big5 (Traditional Chinese) or another standard name such as gb18030, shift_jis or windows-1252", label)
	}
	canonical, _ := htmlindex.Name(enc)
	switch canonical {
	case "utf-8":
		return nil, "UTF-8", nil
	case "gbk":
		return enc, "GBK", nil
	case "big5":
		return enc, "Big5", nil
	}
	return enc, canonical, nil
}

// checkUTF8 refuses a head that is not UTF-8 text, naming the line of the
// first bad byte and the encoding the file most likely is. A rune cut off at
// the end of a full head is the next read's business.
func checkUTF8(head []byte, full bool) error {
	for i := 0; i < len(head); {
		c := head[i]
		if c == 0 {
			return fmt.Errorf("line %d: the file holds NUL bytes, which no text has; %s", lineAt(head, i), advice(guessEncoding(head)))
		}
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && size <= 1 {
			if full && !utf8.FullRune(head[i:]) {
				return nil
			}
			return fmt.Errorf("line %d: not UTF-8 (bytes %s); %s", lineAt(head, i), hexBytes(head[i:]), advice(guessEncoding(head)))
		}
		i += size
	}
	return nil
}

// utf8NotASCII reports whether head is valid UTF-8 with non-ASCII text in
// it, and the line of the first non-ASCII byte: a file in GBK or Big5 is
// almost never that, a UTF-8 file read as one of them would be garbled.
func utf8NotASCII(head []byte, full bool) (int, bool) {
	first := bytes.IndexFunc(head, func(r rune) bool { return r >= utf8.RuneSelf })
	if first < 0 {
		return 0, false
	}
	valid := head
	if full {
		// Drop a rune cut off at the end of the head.
		for k := 1; k <= utf8.UTFMax && k <= len(valid); k++ {
			if utf8.RuneStart(valid[len(valid)-k]) {
				if !utf8.FullRune(valid[len(valid)-k:]) {
					valid = valid[:len(valid)-k]
				}
				break
			}
		}
	}
	return lineAt(head, first), utf8.Valid(valid)
}

// problem says what is wrong with one value read from the file, or "".
func (t *text) problem(v string) string {
	if strings.IndexByte(v, 0) >= 0 {
		return "holds a NUL byte, which no text has"
	}
	if t.decoded {
		if strings.ContainsRune(v, utf8.RuneError) {
			return fmt.Sprintf("has bytes that are not valid %s text; check the file's encoding (--encoding)", t.name)
		}
		return ""
	}
	if !utf8.ValidString(v) {
		return fmt.Sprintf("not UTF-8 (bytes %s); %s", hexBytes([]byte(v)[firstInvalid(v):]), advice(guessEncoding([]byte(v))))
	}
	return ""
}

func firstInvalid(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				return i
			}
		}
	}
	return 0
}

// lineAt is the 1-based line of byte offset i.
func lineAt(b []byte, i int) int { return 1 + bytes.Count(b[:i], []byte("\n")) }

// hexBytes shows the bytes from the start of b up to the next ASCII one,
// at most four.
func hexBytes(b []byte) string {
	var parts []string
	for _, c := range b[:min(len(b), 4)] {
		if c < utf8.RuneSelf {
			break
		}
		parts = append(parts, fmt.Sprintf("%02x", c))
	}
	return strings.Join(parts, " ")
}

// Encodings guessEncoding may name.
const (
	guessGBK     = "gbk"
	guessBig5    = "big5"
	guessChinese = "gbk-or-big5"
	guessWestern = "windows-1252"
	guessUTF16   = "utf-16"
)

// guessEncoding names the encoding a text that is not UTF-8 most likely is,
// from the shape of its bytes, or "" when nothing fits. Spreadsheets write
// CSV in the system's code page: GBK in zh-CN, Big5 in zh-TW and zh-HK,
// Windows-1252 in Western Europe and the Americas.
//
// GBK and Big5 both write a Chinese character as a lead byte of 0x81 or more
// and a trail byte. The common characters of GB 2312 (the core of GBK) have
// trail bytes of 0xA1 or more, while about two in five Big5 characters have
// a trail byte in 0x40-0x7E; a lead byte below 0xA1 exists only in GBK.
// Windows-1252 writes a lone byte of 0x80 or more for an accented letter
// between plain ASCII.
func guessEncoding(b []byte) string {
	if bytes.HasPrefix(b, []byte{0xff, 0xfe}) || bytes.HasPrefix(b, []byte{0xfe, 0xff}) ||
		bytes.Count(b[:min(len(b), 4096)], []byte{0}) > min(len(b), 4096)/8 {
		return guessUTF16
	}
	var high, lone, pairs, lowTrail, gbkOnly, neither int
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < 0x80 {
			continue
		}
		high++
		prevASCII := i == 0 || b[i-1] < 0x80
		nextASCII := i+1 >= len(b) || b[i+1] < 0x80
		if prevASCII && nextASCII {
			lone++
		}
		if i+1 >= len(b) {
			break
		}
		t := b[i+1]
		i++
		pairs++
		gbk := c >= 0x81 && c <= 0xfe && t >= 0x40 && t <= 0xfe && t != 0x7f
		big5 := c >= 0x81 && c <= 0xfe && (t >= 0x40 && t <= 0x7e || t >= 0xa1 && t <= 0xfe)
		switch {
		case !gbk && !big5:
			neither++
		case gbk && (!big5 || c < 0xa1):
			gbkOnly++
		}
		if t >= 0x40 && t <= 0x7e {
			lowTrail++
		}
	}
	switch {
	case high == 0:
		return ""
	case lone*5 >= high*3 || neither*2 > pairs:
		return guessWestern
	case pairs < 4:
		return guessChinese
	case gbkOnly*10 > pairs:
		return guessGBK
	case lowTrail*7 > pairs:
		return guessBig5
	case lowTrail*20 < pairs:
		return guessGBK
	}
	return guessChinese
}

// advice tells the user what to do about a file in the guessed encoding.
func advice(guess string) string {
	switch guess {
	case guessGBK:
		return "the file looks GBK-encoded (Simplified Chinese, as Excel saves CSV in zh-CN): run again with --encoding gbk"
	case guessBig5:
		return "the file looks Big5-encoded (Traditional Chinese, as Excel saves CSV in zh-TW and zh-HK): run again with --encoding big5"
	case guessChinese:
		return "the file looks like Chinese in GBK or Big5 (as Excel saves CSV): run again with --encoding gbk (Simplified) or --encoding big5 (Traditional)"
	case guessWestern:
		return "the file looks Windows-1252-encoded (Western European, as Excel saves CSV on Windows): run again with --encoding windows-1252"
	case guessUTF16:
		return `the file looks UTF-16-encoded (Excel's "Unicode Text"): save it as "CSV UTF-8", or run again with --encoding utf-16le`
	}
	return `save it as UTF-8 ("CSV UTF-8" in Excel) or name its encoding with --encoding`
}
