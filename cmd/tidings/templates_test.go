package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
	"github.com/tidingsdev/tidings/templates"
)

// runTidings is tidings with the result spread out.
func runTidings(t *testing.T, env map[string]string, args ...string) (string, string, int) {
	t.Helper()
	r := tidings(t, env, args...)
	return r.stdout, r.stderr, r.code
}

func TestTemplatesCheck(t *testing.T) {
	set, err := templates.Load(templates.Options{DefaultLocale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	n := len(set.Names())
	out, errOut, code := runTidings(t, nil, "templates", "check")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("ok: %d templates, %d locale variants, 5 with SMS", n, 3*n)) {
		t.Fatalf("built-in check: code %d\n%s%s", code, out, errOut)
	}

	dir := t.TempDir()
	broken := filepath.Join(dir, "welcome", "zh-TW.body.txt")
	if err := os.MkdirAll(filepath.Dir(broken), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken, []byte("{{.Greeting}}\n\n歡迎加入{{.Company.Name}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, run := range map[string]func() (string, string, int){
		"env": func() (string, string, int) {
			return runTidings(t, map[string]string{"TIDINGS_TEMPLATES_DIR": dir}, "templates", "check")
		},
		"flag": func() (string, string, int) { return runTidings(t, nil, "templates", "check", "--templates-dir", dir) },
	} {
		_, errOut, code := run()
		if code != exitUsage {
			t.Errorf("%s: broken template exit code %d, want %d", name, code, exitUsage)
		}
		if want := filepath.ToSlash(broken) + ":3:"; !strings.Contains(errOut, want) {
			t.Errorf("%s: stderr does not point at %s:\n%s", name, want, errOut)
		}
	}
}

func TestTemplatesPreviewToTerminal(t *testing.T) {
	out, errOut, code := runTidings(t, nil, "templates", "preview", "winback_offer", "--locale", "zh-HK")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"Locale:   zh-TW (asked for zh-HK)", "Subject:  送您8折優惠，歡迎回來", "陳怡君，您好！", "COMEBACK-20"} {
		if !strings.Contains(out, want) {
			t.Errorf("preview lacks %q:\n%s", want, out)
		}
	}
	out, _, code = runTidings(t, nil, "templates", "preview", "survey_request", "--channel", "sms", "--locale", "en")
	if code != 0 || !strings.Contains(out, "segment(s), GSM-7") || !strings.Contains(out, "Reply STOP to opt out.") {
		t.Errorf("sms preview (exit %d):\n%s", code, out)
	}
	for _, args := range [][]string{
		{"templates", "preview", "no_such_template"},
		{"templates", "preview", "welcome", "--channel", "sms"}, // welcome has no SMS body
		{"templates", "preview", "welcome", "--channel", "fax"},
		{"templates", "preview", "welcome", "--out", "welcome.pdf"},
	} {
		if _, errOut, code := runTidings(t, nil, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, exitUsage, errOut)
		}
	}
}

func TestTemplatesPreviewEML(t *testing.T) {
	path := filepath.Join(t.TempDir(), "birthday.eml")
	env := map[string]string{"TIDINGS_MAIL_FROM_NAME": "海港松林", "TIDINGS_MAIL_FROM": "hello@harbourpine.example"}
	if _, errOut, code := runTidings(t, env, "templates", "preview", "birthday", "--locale", "zh-CN", "--out", path); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v", err)
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != "生日快乐！海港松林为您准备了一份小礼物" {
		t.Errorf("Subject %q decodes to %q (%v)", msg.Header.Get("Subject"), subject, err)
	}
	if strings.ContainsFunc(msg.Header.Get("Subject"), func(r rune) bool { return r > 127 }) {
		t.Errorf("Subject header is not encoded: %q", msg.Header.Get("Subject"))
	}
	from, err := msg.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "海港松林" || from[0].Address != "hello@harbourpine.example" {
		t.Errorf("From = %v, %v", from, err)
	}
	if msg.Header.Get("Message-Id") == "" || msg.Header.Get("Date") == "" {
		t.Error("Message-ID or Date missing")
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type %q", msg.Header.Get("Content-Type"))
	}
	parts := map[string]string{}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, cparams, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if !strings.EqualFold(cparams["charset"], "utf-8") {
			t.Errorf("%s part charset %q", ct, cparams["charset"])
		}
		b, _ := io.ReadAll(p) // multipart.Reader undoes quoted-printable itself
		parts[ct] = string(b)
	}
	if !strings.Contains(parts["text/plain"], "王芳，您好！") || !strings.Contains(parts["text/plain"], "BDAY-ANN-7K2Q") {
		t.Errorf("text part:\n%s", parts["text/plain"])
	}
	if !strings.Contains(parts["text/html"], `<html lang="zh-CN">`) || !strings.Contains(parts["text/html"], "BDAY-ANN-7K2Q") {
		t.Errorf("html part:\n%s", parts["text/html"])
	}
}

func TestTemplatesPreviewRealCustomer(t *testing.T) {
	s, dsn := testdb.New(t)
	str := func(v string) *string { return &v }
	if _, _, err := s.UpsertCustomer(context.Background(), store.CustomerInput{
		ExternalID: "C-1001", FirstName: str("美玲"), LastName: str("林"), Locale: str("zh-HK"),
		TimeZone: str("Asia/Hong_Kong"), Email: str("meiling@example.com"),
	}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TIDINGS_DATABASE_URL": dsn}
	out, errOut, code := runTidings(t, env, "templates", "preview", "welcome", "--customer", "C-1001")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// The customer's own locale picks the Traditional variant and greets her by name.
	for _, want := range []string{"Locale:   zh-TW (asked for zh-HK)", "林美玲，您好！", "歡迎加入"} {
		if !strings.Contains(out, want) {
			t.Errorf("preview lacks %q:\n%s", want, out)
		}
	}
	path := filepath.Join(t.TempDir(), "welcome.eml")
	if _, errOut, code := runTidings(t, env, "templates", "preview", "welcome", "--customer", "C-1001", "--locale", "en", "--out", path); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	raw, _ := os.ReadFile(path)
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if to := msg.Header.Get("To"); !strings.Contains(to, "meiling@example.com") {
		t.Errorf("To = %q", to)
	}
	if _, _, code := runTidings(t, env, "templates", "preview", "welcome", "--customer", "nobody"); code == 0 {
		t.Error("an unknown customer previewed")
	}
}
