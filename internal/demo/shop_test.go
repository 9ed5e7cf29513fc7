package demo

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestShopSpeaksTheVisitorsLanguage: the demo shop a message's button leads
// to answers in the language the visitor's browser asks for.
func TestShopSpeaksTheVisitorsLanguage(t *testing.T) {
	srv := httptest.NewServer(Shop("Harbour & Pine"))
	defer srv.Close()
	for _, tc := range []struct{ accept, lang, title string }{
		{"", `lang="en"`, "Harbour &amp; Pine demo shop"},
		{"zh-CN,zh;q=0.9", `lang="zh-Hans-CN"`, "Harbour &amp; Pine 演示商店"},
		{"zh-TW", `lang="zh-Hant-TW"`, "Harbour &amp; Pine 示範商店"},
		{"zh-HK,en;q=0.5", `lang="zh-Hant-TW"`, "示範商店"},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/dev/shop/review_url", nil)
		req.Header.Set("Accept-Language", tc.accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), tc.lang) || !strings.Contains(string(b), tc.title) {
			t.Errorf("Accept-Language %q: %d, want %s and %q:\n%s", tc.accept, resp.StatusCode, tc.lang, tc.title, b)
		}
	}
	resp, err := http.Post(srv.URL+"/dev/shop", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", resp.StatusCode)
	}
}
