package console

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/spec"
)

// TestCatalogsTranslateTheEditorsProblems: every problem the campaign and
// segment files, the checks they call, the reports' filters, the
// management functions' forms, the field checks and the policy file can
// report has its translation, so a page never falls back to English for a
// message written since. The messages are read from the source: the format
// of each Errorf, Locate, Problemf, inputErrorf, fieldError and Add call.
func TestCatalogsTranslateTheEditorsProblems(t *testing.T) {
	en := loadLocales().byCode[langEN].strings
	reporters := map[string]int{"Errorf": 2, "Locate": 1, "Problemf": 0, "inputErrorf": 1, "InputErrorf": 1, "add": 1,
		"fieldError": 1, "Add": 1, "At": 3, "atLine": 2, "fail": 2}
	for _, dir := range []string{"../campaign", "../campaign/manage", "../segment", "../spec", "../reports",
		"../mgmt", "../validate", "../access", "../delivery", "../../workflows"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			fset := token.NewFileSet()
			file, err := parser.ParseFile(fset, f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(file, func(n ast.Node) bool {
				if kv, ok := n.(*ast.KeyValueExpr); ok {
					// A spec.Error written out with its text alone has no key
					// to translate it by.
					if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Msg" {
						if _, ok := literal(kv.Value); ok {
							t.Errorf("%s: a message without its key; build it with spec.At", fset.Position(kv.Pos()))
						}
					}
					// A spec.Problem written out: its Format is its key.
					if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Format" {
						if f, ok := literal(kv.Value); ok && f != "%s" && f != "%v" && en["problem."+f] == "" {
							t.Errorf("%s: %q has no problem.* entry in the catalogs", fset.Position(kv.Pos()), f)
						}
					}
				}
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				var name string
				switch fn := call.Fun.(type) {
				case *ast.Ident:
					name = fn.Name
				case *ast.SelectorExpr:
					name = fn.Sel.Name
					if x, ok := fn.X.(*ast.Ident); ok && x.Name == "fmt" {
						return true // fmt.Errorf: an error, not a reader's problem
					}
				}
				i, ok := reporters[name]
				if !ok || len(call.Args) <= i {
					return true
				}
				format, ok := literal(call.Args[i])
				if !ok || format == "%v" || format == "%s" {
					return true
				}
				if _, ok := en["problem."+format]; !ok {
					t.Errorf("%s: %q has no problem.* entry in the catalogs", fset.Position(call.Pos()), format)
				}
				return true
			})
		}
	}
}

// literal is a string constant, or constants joined with +.
func literal(e ast.Expr) (string, bool) {
	switch x := e.(type) {
	case *ast.BasicLit:
		if x.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(x.Value)
		return s, err == nil
	case *ast.BinaryExpr:
		l, ok1 := literal(x.X)
		r, ok2 := literal(x.Y)
		return l + r, ok1 && ok2 && x.Op == token.ADD
	}
	return "", false
}

// TestPolicyFileProblemsInChinese: the policy file's problems, and the
// password and role checks' (checks a front door hands on whole), keep
// their keys, so they read in Chinese wherever the console shows them.
func TestPolicyFileProblemsInChinese(t *testing.T) {
	_, err := delivery.LoadTopics([]byte("topics:\n  all: {}\n  news:\n    consent: {email: maybe}\n    caps: 3\n"), "policy.yaml")
	ps, ok := mgmt.Problems(err)
	if !ok || len(ps) != 3 {
		t.Fatalf("problems of the policy file: %v", err)
	}
	v := &view{loc: loadLocales().byCode[langZhCN]}
	var got []string
	for _, p := range ps {
		got = append(got, fmt.Sprintf("%d:%d %s", p.Line, p.Column, v.ProblemMessage(p)))
	}
	want := []string{
		`2:3 "all" 是涵盖其他所有主题的同意主题，不能自行定义`,
		`4:22 应为 opt-in 或 opt-out，实际是文本 "maybe"`,
		`5:11 应为 {channel, max, per} 的列表，实际是数字 3`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("policy file in zh-CN:\n got %q\nwant %q", got, want)
	}

	tw := &view{loc: loadLocales().byCode[langZhTW]}
	for _, c := range []struct {
		err  error
		want string
	}{
		{access.CheckPassword("short"), "密碼只有 5 個字元，至少要 12 個"},
		{func() error { _, err := access.ParseRole("boss"); return err }(), `沒有 "boss" 這個角色，可選：viewer, marketer, ops, admin`},
	} {
		format, args := spec.Unwrapped("%v", []any{c.err})
		if got := tw.Message(format, args, c.err.Error()); got != c.want {
			t.Errorf("%v in zh-TW: %q, want %q", c.err, got, c.want)
		}
	}
}
