package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/validate"
)

// jsonlReader reads one JSON object per line, with the same field names as
// the API; unknown keys are errors so a typo never silently drops data.
type jsonlReader struct {
	sc   *bufio.Scanner
	text *text
	line int
}

func newJSONLReader(src *text) *jsonlReader {
	sc := bufio.NewScanner(src.r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	return &jsonlReader{sc: sc, text: src}
}

func (j *jsonlReader) next() (row, error) {
	for j.sc.Scan() {
		j.line++
		b := bytes.TrimSpace(j.sc.Bytes())
		if len(b) == 0 {
			continue
		}
		// The decoder would turn bytes that are not UTF-8 into U+FFFD
		// without a word, so they are refused first.
		if p := j.text.problem(string(b)); p != "" {
			return row{line: j.line, err: errors.New(p)}, nil
		}
		var in store.CustomerInput
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			return row{line: j.line, err: jsonProblem(err)}, nil
		}
		if dec.More() {
			return row{line: j.line, err: fmt.Errorf("more than one JSON value on the line")}, nil
		}
		return row{line: j.line, input: in}, nil
	}
	if err := j.sc.Err(); err != nil {
		return row{}, fmt.Errorf("line %d: read JSON Lines: %w", j.line+1, err)
	}
	return row{}, io.EOF
}

// jsonProblem turns decoder errors into messages that name the field.
func jsonProblem(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return validate.FieldError{Field: typeErr.Field, Message: fmt.Sprintf("expected %s, got JSON %s", typeErr.Type, typeErr.Value)}
	case errors.As(err, &typeErr):
		return fmt.Errorf("expected a JSON object, got JSON %s", typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("malformed JSON at byte %d: %v", syntaxErr.Offset, syntaxErr)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("malformed JSON: the object ends too early")
	}
	if quoted, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if key, uerr := strconv.Unquote(quoted); uerr == nil {
			return validate.FieldError{Field: key, Message: "unknown key; use the field names of the API (external_id, email, phone, first_name, ...)"}
		}
	}
	return fmt.Errorf("invalid JSON: %v", err)
}
