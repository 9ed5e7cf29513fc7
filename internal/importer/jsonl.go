package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/tidingsdev/tidings/internal/store"
)

// jsonlReader reads one JSON object per line, with the same field names as
// the API; unknown keys are errors so a typo never silently drops data.
type jsonlReader struct {
	sc   *bufio.Scanner
	line int
}

func newJSONLReader(r io.Reader) *jsonlReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	return &jsonlReader{sc: sc}
}

func (j *jsonlReader) next() (row, error) {
	for j.sc.Scan() {
		j.line++
		b := bytes.TrimSpace(j.sc.Bytes())
		if len(b) == 0 {
			continue
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
	switch e := err.(type) {
	case *json.UnmarshalTypeError:
		return fmt.Errorf("field %s: expected %s, got JSON %s", e.Field, e.Type, e.Value)
	case *json.SyntaxError:
		return fmt.Errorf("malformed JSON at byte %d: %v", e.Offset, e)
	}
	return fmt.Errorf("invalid JSON: %v", err)
}
