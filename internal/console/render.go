package console

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets/console.css assets/console.js assets/vendor
var assetFS embed.FS

// pages are the parsed templates, one per page, each with the layout.
type pages struct {
	byName  map[string]*template.Template
	locales *locales
}

// parsePages parses every page template once, at start; the templates are
// embedded, so a broken one fails every test rather than a user's request.
func parsePages() *pages {
	ps := &pages{byName: map[string]*template.Template{}, locales: loadLocales()}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	funcs := template.FuncMap{"traffic": trafficSection, "add": func(a, b int) int { return a + b }, "list": func(s ...string) []string { return s },
		"editor": editorBox, "problems": problemsBox,
		"deref": func(p *int) int { return *p }, "derefs": func(p *string) string { return *p },
		"deref64": func(p *float64) float64 { return *p }, "totals": resultTotals}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "templates/"), ".html")
		if name == "layout" || strings.HasPrefix(name, "_") {
			continue
		}
		ps.byName[name] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html", f))
	}
	return ps
}

// render writes page name with the layout; a template that fails leaves
// nothing half-written, because the page is rendered to a buffer first.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, v *view, name string, data any) {
	t, ok := c.pages.byName[name]
	if !ok {
		panic("console: no template " + name)
	}
	v.Page = data
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		c.log.ErrorContext(r.Context(), "console template failed", "page", name, "err", err)
		http.Error(w, "The page could not be shown.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", v.loc.code)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Add("Vary", "Cookie, Accept-Language")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderFragment writes one named template of a page, without the layout,
// for htmx to swap into the page it asked from.
func (c *Console) renderFragment(w http.ResponseWriter, r *http.Request, v *view, page, name string, data any) {
	var buf bytes.Buffer
	if err := c.pages.byName[page].ExecuteTemplate(&buf, name, data); err != nil {
		c.log.ErrorContext(r.Context(), "console template failed", "page", page, "fragment", name, "err", err)
		http.Error(w, "The page could not be shown.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// assetHandler serves the stylesheet and scripts, embedded in the binary.
func assetHandler() http.Handler {
	sub, err := fs.Sub(assetFS, "assets")
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix(Prefix+"assets/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}
