package api

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/server/temporaltest"
)

// TestREADMEAPIExamplesWork runs the curl lines of the README's API section
// against a real server (real PostgreSQL, Temporal and SMTP server): each
// must succeed as written, with the key and address of this server.
func TestREADMEAPIExamplesWork(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- api-examples -->\n```sh\n", "```\n<!-- /api-examples -->"
	readme := string(b)
	i, j := strings.Index(readme, begin), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %q ... %q block", strings.TrimSpace(begin), end)
	}
	e := newEngagement(t)
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	withSendPath(e, ts.GetDefaultClient())

	vars := map[string]string{"KEY": e.key, "API": e.http.URL + "/v1"}
	ran := 0
	for _, line := range strings.Split(strings.ReplaceAll(readme[i+len(begin):j], "\\\n", " "), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "KEY=") || strings.HasPrefix(line, "API="):
			continue // the test's own key and address stand in
		case !strings.HasPrefix(line, "curl "):
			t.Fatalf("README API example %q: only curl lines and KEY=/API= are expected", line)
		}
		req, err := curlRequest(t, root, shellWords(line, vars))
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Errorf("%s\n→ %d %s", line, resp.StatusCode, body)
		}
		ran++
	}
	if ran < 10 {
		t.Errorf("ran %d curl examples; the README has more", ran)
	}
	if e.sink.Count() != 1 {
		t.Errorf("the order confirmation: the SMTP server got %d messages, want 1", e.sink.Count())
	}
}

// shellWords splits a command line as sh does for the quoting the README
// uses: single quotes verbatim, double quotes and bare words with $NAME
// and $(...) expanded from vars.
func shellWords(line string, vars map[string]string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	expand := func(s string) string {
		for k, v := range vars {
			s = strings.ReplaceAll(s, "$"+k, v)
		}
		return s
	}
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == ' ' || c == '\t':
			if inWord {
				words, inWord = append(words, cur.String()), false
				cur.Reset()
			}
		case c == '\'':
			k := strings.IndexByte(line[i+1:], '\'')
			cur.WriteString(line[i+1 : i+1+k])
			i, inWord = i+1+k, true
		case c == '"':
			k := strings.IndexByte(line[i+1:], '"')
			cur.WriteString(expand(line[i+1 : i+1+k]))
			i, inWord = i+1+k, true
		default:
			k := strings.IndexAny(line[i:], " \t'\"")
			if k < 0 {
				k = len(line) - i
			}
			cur.WriteString(expand(line[i : i+k]))
			i, inWord = i+k-1, true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// curlRequest builds the request curl would send for the flags the README
// uses: -s, -X, -H, -d and --data-binary @FILE (relative to the checkout).
func curlRequest(t *testing.T, root string, args []string) (*http.Request, error) {
	method, url, body := "", "", ""
	hasBody := false
	header := http.Header{}
	for k := 1; k < len(args); k++ {
		switch a := args[k]; a {
		case "-s":
		case "-X":
			k++
			method = args[k]
		case "-H":
			k++
			name, value, _ := strings.Cut(args[k], ":")
			header.Set(name, strings.TrimSpace(value))
		case "-d", "--data-binary":
			k++
			body, hasBody = args[k], true
			if a == "--data-binary" && strings.HasPrefix(body, "@") {
				data, err := os.ReadFile(filepath.Join(root, body[1:]))
				if err != nil {
					return nil, err
				}
				body = string(data)
			}
		default:
			if strings.HasPrefix(a, "-") {
				return nil, fmt.Errorf("curl flag %s is not one this test knows", a)
			}
			url = a
		}
	}
	if method == "" {
		method = http.MethodGet
		if hasBody {
			method = http.MethodPost
		}
	}
	if hasBody && header.Get("Content-Type") == "" {
		header.Set("Content-Type", "application/x-www-form-urlencoded") // as curl -d sends
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = header
	return req, nil
}
