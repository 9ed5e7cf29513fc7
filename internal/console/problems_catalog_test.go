package console

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestCatalogsTranslateTheEditorsProblems: every problem the campaign and
// segment files, the checks they call and the reports' filters can report
// has its translation, so an editor or a report page never falls back to
// English for a message written since. The messages are read from the
// source: the format of each Errorf, Locate, Problemf and inputErrorf call.
func TestCatalogsTranslateTheEditorsProblems(t *testing.T) {
	en := loadLocales().byCode[langEN].strings
	reporters := map[string]int{"Errorf": 2, "Locate": 1, "Problemf": 0, "inputErrorf": 1, "InputErrorf": 1, "add": 1}
	for _, dir := range []string{"../campaign", "../campaign/manage", "../segment", "../spec", "../reports"} {
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
