package demo

import (
	"fmt"
	"html/template"
	"net/http"

	"golang.org/x/text/language"
)

// ShopPath is where tidings dev serves the demo company's shop, below the
// catcher's pages: the default website (TIDINGS_SITE_URL) of the dev
// stack, so every "visit the shop" button of a demo message leads to a page
// that answers.
const ShopPath = "/dev/shop"

// Shop is the demo company's website: one page, in the visitor's language,
// saying what it stands for. company is the sender's name.
func Shop(company string) http.Handler {
	return shop{company: company}
}

type shop struct{ company string }

var shopLangs = []language.Tag{language.English, language.SimplifiedChinese, language.TraditionalChinese}

var shopMatcher = language.NewMatcher(shopLangs)

// shopText is the page per language: lang attribute, title, paragraphs.
var shopText = [][]string{
	{"en", "%s demo shop",
		"This is the demo company's shop. In tidings dev, every “visit the shop” button and link of the built-in emails and SMS leads here.",
		"In production they lead to your own website: set TIDINGS_SITE_URL to its address."},
	{"zh-Hans-CN", "%s 演示商店",
		"这是演示公司的商店页面。在 tidings dev 中，内置邮件和短信里“去商店看看”之类的按钮和链接都会打开这里。",
		"正式使用时，这些链接会打开您自己的网站：请把 TIDINGS_SITE_URL 设为网站地址。"},
	{"zh-Hant-TW", "%s 示範商店",
		"這是示範公司的商店頁面。在 tidings dev 中，內建郵件與簡訊裡「去商店看看」之類的按鈕和連結都會開啟這裡。",
		"正式使用時，這些連結會開啟您自己的網站：請將 TIDINGS_SITE_URL 設為網站網址。"},
}

var shopTmpl = template.Must(template.New("shop").Parse(`<!doctype html>
<html lang="{{.Lang}}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>{{.Title}}</title>
<style>body{font:1.05rem/1.5 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft JhengHei",sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}</style>
</head>
<body><main><h1>{{.Title}}</h1>{{range .Paras}}<p>{{.}}</p>{{end}}</main></body>
</html>
`))

func (s shop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	_, i, _ := shopMatcher.Match(tags...)
	txt := shopText[i]
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = shopTmpl.Execute(w, map[string]any{
		"Lang": txt[0], "Title": fmt.Sprintf(txt[1], s.company), "Paras": txt[2:],
	})
}
