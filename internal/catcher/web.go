package catcher

import (
	"embed"
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

//go:embed pages/*.html
var pageFS embed.FS

// pages are parsed once; a bad template fails the first test, not a request.
var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"when":    func(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05 MST") },
	"join":    strings.Join,
	"excerpt": excerpt,
}).ParseFS(pageFS, "pages/*.html"))

// pageCSP keeps the catcher's own pages script-free; the only frame they
// embed is a message's HTML, served by the same handler.
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'"

// bodyCSP is the policy of a caught email's HTML: a sandbox (no scripts, a
// unique origin, no forms), remote images and styles allowed so the message
// looks as it will in a mail client, framed only by the detail page.
const bodyCSP = "sandbox; default-src 'none'; img-src * data:; style-src * 'unsafe-inline'; font-src * data:; frame-ancestors 'self'"

// Handler serves the catcher under a path prefix such as "/dev":
//
//	GET  {prefix}/                          every message, newest first
//	GET  {prefix}/mail, {prefix}/sms        one channel
//	GET  {prefix}/messages/{id}             one message: headers, text part, rendered HTML
//	GET  {prefix}/messages/{id}/html        the HTML part alone, sandboxed by CSP
//	GET  {prefix}/messages.json             JSON list; ?channel=email|sms&to=...&limit=N
//	POST {prefix}/clear                     drop every message
//	POST {prefix}/sms/2010-04-01/Accounts/{sid}/Messages.json   Twilio-compatible send
//
// so TIDINGS_SMS_BASE_URL=http://<api>{prefix}/sms points the SMS client at it.
type Handler struct {
	inbox  *Inbox
	prefix string
	mux    *http.ServeMux
	log    *slog.Logger
}

// NewHandler returns the catcher's pages and SMS endpoint for inbox, to be
// mounted at prefix ("/dev" → mux.Handle("/dev/", h)).
func NewHandler(inbox *Inbox, prefix string, log *slog.Logger) *Handler {
	prefix = strings.TrimRight(prefix, "/")
	h := &Handler{inbox: inbox, prefix: prefix, mux: http.NewServeMux(), log: log}
	h.mux.HandleFunc("GET "+prefix+"/{$}", h.list(""))
	h.mux.HandleFunc("GET "+prefix+"/mail", h.list(Email))
	h.mux.HandleFunc("GET "+prefix+"/sms", h.list(SMS))
	h.mux.HandleFunc("GET "+prefix+"/messages/{id}", h.detail)
	h.mux.HandleFunc("GET "+prefix+"/messages/{id}/html", h.html)
	h.mux.HandleFunc("GET "+prefix+"/messages.json", h.json)
	h.mux.HandleFunc("POST "+prefix+"/clear", h.clear)
	h.mux.Handle("POST "+prefix+"/sms/2010-04-01/Accounts/{sid}/Messages.json", smsEndpoint{inbox: inbox, log: log})
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// listPage is the data of list.html.
type listPage struct {
	Prefix   string
	Channel  Channel
	Messages []Message
	Held     int
	Capacity int
}

func (h *Handler) list(ch Channel) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h.render(w, "list.html", listPage{
			Prefix:   h.prefix,
			Channel:  ch,
			Messages: h.inbox.Messages(Filter{Channel: ch, To: r.URL.Query().Get("to"), Limit: 500}),
			Held:     h.inbox.Len(),
			Capacity: h.inbox.Capacity(),
		})
	}
}

// detailPage is the data of detail.html.
type detailPage struct {
	Prefix string
	Message
}

func (h *Handler) message(w http.ResponseWriter, r *http.Request) (Message, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.Error(w, "message id must be a number", http.StatusBadRequest)
		return Message{}, false
	}
	m, ok := h.inbox.Message(id)
	if !ok {
		http.Error(w, "no message "+strconv.FormatInt(id, 10)+" (it may have been dropped from the inbox)", http.StatusNotFound)
	}
	return m, ok
}

func (h *Handler) detail(w http.ResponseWriter, r *http.Request) {
	if m, ok := h.message(w, r); ok {
		h.render(w, "detail.html", detailPage{Prefix: h.prefix, Message: m})
	}
}

func (h *Handler) html(w http.ResponseWriter, r *http.Request) {
	m, ok := h.message(w, r)
	if !ok {
		return
	}
	if m.HTML == "" {
		http.Error(w, "message has no HTML part", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Security-Policy", bodyCSP)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(m.HTML))
}

func (h *Handler) json(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := Filter{Channel: Channel(q.Get("channel")), To: q.Get("to")}
	if f.Channel != "" && f.Channel != Email && f.Channel != SMS {
		http.Error(w, `channel: must be "email" or "sms"`, http.StatusBadRequest)
		return
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			http.Error(w, "limit: must be a non-negative integer", http.StatusBadRequest)
			return
		}
		f.Limit = n
	}
	msgs := h.inbox.Messages(f)
	if msgs == nil {
		msgs = []Message{}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"messages": msgs})
}

func (h *Handler) clear(w http.ResponseWriter, r *http.Request) {
	h.inbox.Clear()
	http.Redirect(w, r, h.prefix+"/", http.StatusSeeOther)
}

func (h *Handler) render(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Security-Policy", pageCSP)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		h.log.Error("render catcher page", "page", name, "err", err)
	}
}

// excerpt shortens s to n runes on one line, for list cells.
func excerpt(n int, s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
