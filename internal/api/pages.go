package api

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/spec"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/token"
	"github.com/tidingsdev/tidings/workflows"
)

// Consent sources recorded by the public pages.
const (
	sourceUnsubscribeLink = "unsubscribe_link"
	sourcePreferencePage  = "preference_page"
	actorCustomer         = "customer"
)

// maxComment bounds a survey comment, in characters.
const maxComment = 2000

// page is what the one page template shows: a heading, paragraphs, and at
// most one form.
type page struct {
	Lang    string
	Title   string
	Notice  string
	Paras   []string
	Links   []pageLink
	Form    *pageForm
	status  int
	langKey string
}

type pageLink struct{ Href, Text string }

type pageForm struct {
	Action   string
	Button   string
	Hidden   map[string]string
	Groups   []checkGroup
	Choice   *choice
	Textarea *textarea
}

// choice is one question answered by one radio button (a survey's scale).
type choice struct {
	Legend, Hint, Name string
	Options            []choiceOption
}

type choiceOption struct {
	Value   string
	Checked bool
}

type checkGroup struct {
	Legend string
	Boxes  []checkBox
}

type checkBox struct {
	Name, Label string
	Checked     bool
}

type textarea struct {
	Name, Label string
	Max         int
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{.Title}}</title>
<style>
body{font:1.05rem/1.5 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft JhengHei",sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a;background:#fff}
h1{font-size:1.5rem}fieldset{border:1px solid #bbb;margin:0 0 1rem;padding:.5rem 1rem}
label{display:block;padding:.35rem 0}input[type=checkbox]{width:1.2rem;height:1.2rem;vertical-align:middle;margin-right:.5rem}
textarea{width:100%;box-sizing:border-box;font:inherit}button{font:inherit;padding:.6rem 1.2rem;border:0;border-radius:.3rem;background:#0b57d0;color:#fff;cursor:pointer}
button:focus,a:focus,input:focus,textarea:focus{outline:3px solid #f9a825;outline-offset:2px}.notice{background:#e6f4ea;padding:.6rem 1rem;border-radius:.3rem}
ul.scale{list-style:none;padding:0;margin:.5rem 0;display:flex;flex-wrap:wrap;gap:.4rem}ul.scale label{padding:0}ul.scale input{position:absolute;opacity:0}ul.scale span{display:inline-block;min-width:2.5rem;text-align:center;padding:.5rem 0;border:1px solid #0b57d0;border-radius:.3rem;cursor:pointer}
ul.scale input:checked+span{background:#0b57d0;color:#fff}ul.scale input:focus+span{outline:3px solid #f9a825;outline-offset:2px}.hint{font-size:.9rem;color:#555;margin:0}
ul.scores{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.5rem}ul.scores a{display:inline-block;min-width:2.5rem;text-align:center;padding:.5rem;border:1px solid #0b57d0;border-radius:.3rem}
</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
{{with .Notice}}<p class="notice" role="status">{{.}}</p>{{end}}
{{range .Paras}}<p>{{.}}</p>{{end}}
{{with .Form}}<form method="post" action="{{.Action}}">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}{{range .Groups}}<fieldset><legend>{{.Legend}}</legend>
{{range .Boxes}}<label><input type="checkbox" name="{{.Name}}" value="granted"{{if .Checked}} checked{{end}}>{{.Label}}</label>
{{end}}</fieldset>
{{end}}{{with .Choice}}<fieldset><legend>{{.Legend}}</legend>
<ul class="scale">{{$name := .Name}}{{range .Options}}<li><label><input type="radio" name="{{$name}}" value="{{.Value}}" required{{if .Checked}} checked{{end}}><span>{{.Value}}</span></label></li>{{end}}</ul>
<p class="hint">{{.Hint}}</p></fieldset>
{{end}}{{with .Textarea}}<p><label for="{{.Name}}">{{.Label}}</label>
<textarea id="{{.Name}}" name="{{.Name}}" rows="5" maxlength="{{.Max}}"></textarea></p>
{{end}}<button type="submit">{{.Button}}</button>
</form>{{end}}
{{if .Links}}<ul class="scores">{{range .Links}}<li><a href="{{.Href}}">{{.Text}}</a></li>{{end}}</ul>{{end}}
</main>
</body>
</html>
`))

func (s *Server) render(w http.ResponseWriter, p page) error {
	status := p.status
	if status == 0 {
		status = http.StatusOK
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	return pageTmpl.Execute(w, p)
}

func newPage(langKey, lang, titleKey string) page {
	return page{Lang: lang, langKey: langKey, Title: t(langKey, titleKey)}
}

// linkError renders the page for a tampered, expired or otherwise unusable
// link: 410 when expired, 400 otherwise. Nothing has changed.
func (s *Server) linkError(w http.ResponseWriter, r *http.Request, err error) error {
	key, lang := pageLang(r.Header.Get("Accept-Language"))
	p := newPage(key, lang, "error.title")
	p.status, p.Paras = http.StatusBadRequest, []string{t(key, "error.invalid")}
	if errors.Is(err, token.ErrExpired) {
		p.status, p.Paras = http.StatusGone, []string{t(key, "error.expired")}
	}
	s.log.InfoContext(r.Context(), "public link refused", "path", logPath(r), "err", err)
	return s.render(w, p)
}

// errBadLink is a link whose signature holds but whose claims do not (an
// unknown channel, a customer since erased).
var errBadLink = errors.New("link claims are unusable")

// linkCustomer verifies a token for purpose and loads its customer.
func (s *Server) linkCustomer(ctx context.Context, r *http.Request, purpose string) (token.Claims, store.Customer, error) {
	claims, err := s.signer.Verify(r.PathValue("token"), purpose, s.opt.Now())
	if err != nil {
		return claims, store.Customer{}, err
	}
	if _, err := uuid.Parse(claims.CustomerID); err != nil {
		return claims, store.Customer{}, errBadLink
	}
	c, err := s.store.Customer(ctx, claims.CustomerID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && store.IsErased(c)) {
		return claims, store.Customer{}, errBadLink
	}
	return claims, c, err
}

// unreadableLink answers a request whose link could not be read: the
// link's error page for a link problem, or the internal failure.
func (s *Server) unreadableLink(w http.ResponseWriter, r *http.Request, err error) error {
	if isLinkError(err) {
		return s.linkError(w, r, err)
	}
	return err
}

// isLinkError tells link problems (shown as a page) from internal failures.
func isLinkError(err error) bool {
	return errors.Is(err, token.ErrInvalid) || errors.Is(err, token.ErrExpired) || errors.Is(err, errBadLink)
}

func topicLabel(lang, topic string) string {
	if l := t(lang, "topic."+topic); l != "topic."+topic {
		return l
	}
	return topic
}

// unsubscribeClaims checks what an unsubscribe link names; an empty topic
// means every non-transactional topic.
func unsubscribeClaims(c token.Claims) (channel, topic string, err error) {
	channel, topic = c.Channel, c.Topic
	if channel == "" {
		channel = delivery.Email
	}
	if topic == "" {
		topic = delivery.TopicAll
	}
	if !contains(channels, channel) || spec.CheckTopic(topic) != nil {
		return "", "", errBadLink
	}
	return channel, topic, nil
}

// seedPage is GET /seed/{kind}: where the unsubscribe, preference and
// survey links of a test sent to a seed address lead (delivery.SeedLinks).
// It says the message was a test and changes nothing, since a seed is no
// customer; ?lang is the locale the test was rendered in.
func (s *Server) seedPage(w http.ResponseWriter, r *http.Request) error {
	key, lang := pageLang(r.URL.Query().Get("lang"), r.Header.Get("Accept-Language"))
	kind := r.PathValue("kind")
	if !slices.Contains([]string{"unsubscribe", "preferences", "survey"}, kind) {
		p := newPage(key, lang, "error.title")
		p.status, p.Paras = http.StatusNotFound, []string{t(key, "error.invalid")}
		return s.render(w, p)
	}
	p := newPage(key, lang, "seed.title")
	p.Paras = []string{t(key, "seed."+kind), t(key, "seed.nothing")}
	return s.render(w, p)
}

// unsubscribeLink reads an unsubscribe link: whose it is, and the channel
// and topic it unsubscribes from.
func (s *Server) unsubscribeLink(r *http.Request) (c store.Customer, channel, topic string, err error) {
	claims, c, err := s.linkCustomer(r.Context(), r, token.Unsubscribe)
	if err != nil {
		return c, "", "", err
	}
	channel, topic, err = unsubscribeClaims(claims)
	return c, channel, topic, err
}

// unsubscribePage is GET /u/{token}: a confirmation page. A GET never
// changes anything, because mail scanners follow links.
func (s *Server) unsubscribePage(w http.ResponseWriter, r *http.Request) error {
	c, channel, topic, err := s.unsubscribeLink(r)
	if err != nil {
		return s.unreadableLink(w, r, err)
	}
	key, lang := pageLang(c.Locale)
	p := newPage(key, lang, "unsubscribe.title")
	p.Paras = []string{fmt.Sprintf(t(key, "unsubscribe.question"), topicLabel(key, topic), t(key, "channel."+channel))}
	p.Form = &pageForm{Action: r.URL.Path, Button: t(key, "unsubscribe.button")}
	return s.render(w, p)
}

// unsubscribe is POST /u/{token}: both the confirmation form and the RFC
// 8058 one-click request mail clients send (body
// "List-Unsubscribe=One-Click"). Consent for the link's channel and topic
// becomes denied, recorded with the link as its source.
func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request) error {
	c, channel, topic, err := s.unsubscribeLink(r)
	if err != nil {
		return s.unreadableLink(w, r, err)
	}
	_ = r.ParseForm() // the one-click body is informative only; the token decides
	oneClick := r.PostForm.Get("List-Unsubscribe") == "One-Click"
	if _, err := s.store.SetConsent(r.Context(), store.ConsentChange{
		CustomerID: c.ID, Channel: channel, Topic: topic, Status: store.Denied,
		Source: sourceUnsubscribeLink, Actor: actorCustomer, IP: clientIP(r),
	}); err != nil {
		return err
	}
	s.log.InfoContext(r.Context(), "customer unsubscribed", "customer_id", c.ID, "channel", channel, "topic", topic, "one_click", oneClick)
	key, lang := pageLang(c.Locale)
	p := newPage(key, lang, "unsubscribe.title")
	p.Notice = fmt.Sprintf(t(key, "unsubscribe.done"), topicLabel(key, topic), t(key, "channel."+channel))
	prefs := s.signer.Sign(token.Claims{Purpose: token.Preferences, CustomerID: c.ID}, s.opt.Now().Add(s.opt.LinkTTL))
	p.Links = []pageLink{{Href: "/p/" + prefs, Text: t(key, "preferences.link")}}
	return s.render(w, p)
}

// preferenceState is the effective consent of one customer per channel and
// topic, as the preference page shows it.
type preferenceState struct {
	channels []string
	topics   []string
	granted  map[string]bool // "channel.topic"
	allOff   map[string]bool // channel → denied "all"
	// untracked: the customer turned email tracking off (the privacy box).
	untracked bool
}

func (s *Server) preferences(ctx context.Context, c store.Customer) (preferenceState, error) {
	policy := s.opt.Topics
	if policy == nil {
		policy = delivery.DefaultTopics()
	}
	st := preferenceState{granted: map[string]bool{}, allOff: map[string]bool{}}
	if c.Email != "" {
		st.channels = append(st.channels, delivery.Email)
	}
	if c.Phone != "" {
		st.channels = append(st.channels, delivery.SMS)
	}
	topics := map[string]bool{}
	for name, tp := range policy {
		if !tp.Transactional {
			topics[name] = true
		}
	}
	cur, err := s.store.Consents(ctx, c.ID)
	if err != nil {
		return st, err
	}
	stored := map[string]string{}
	for _, x := range cur {
		if x.Topic == delivery.TopicAll {
			st.allOff[x.Channel] = x.Status == store.Denied
			continue
		}
		if x.Topic == delivery.TopicTracking {
			st.untracked = st.untracked || (x.Channel == delivery.Email && x.Status == store.Denied)
			continue
		}
		if tp, known := policy[x.Topic]; known && tp.Transactional {
			continue
		}
		topics[x.Topic] = true
		stored[x.Channel+"."+x.Topic] = x.Status
	}
	for name := range topics {
		st.topics = append(st.topics, name)
	}
	sort.Strings(st.topics)
	for _, ch := range st.channels {
		for _, tp := range st.topics {
			k := ch + "." + tp
			on := policy[tp].Consent[ch] == delivery.OptOut
			if status, ok := stored[k]; ok {
				on = status == store.Granted
			}
			st.granted[k] = on && !st.allOff[ch]
		}
	}
	return st, nil
}

func (s *Server) preferencesForm(r *http.Request, key string, st preferenceState) *pageForm {
	f := &pageForm{Action: r.URL.Path, Button: t(key, "preferences.save")}
	for _, ch := range st.channels {
		g := checkGroup{Legend: t(key, "channel."+ch)}
		for _, tp := range st.topics {
			g.Boxes = append(g.Boxes, checkBox{Name: ch + "." + tp, Label: topicLabel(key, tp), Checked: st.granted[ch+"."+tp]})
		}
		f.Groups = append(f.Groups, g)
	}
	if slices.Contains(st.channels, delivery.Email) {
		f.Groups = append(f.Groups, checkGroup{Legend: t(key, "privacy.legend"), Boxes: []checkBox{
			{Name: privacyBox, Label: t(key, "privacy.tracking"), Checked: !st.untracked},
		}})
	}
	return f
}

// privacyBox is the preference page's box for email tracking: unticked, the
// customer's email carries no tracked links and no open pixel.
const privacyBox = delivery.Email + "." + delivery.TopicTracking

// preferencesPage is GET /p/{token}: every topic per channel the customer
// can be reached on, ticked when we may send it.
func (s *Server) preferencesPage(w http.ResponseWriter, r *http.Request) error {
	return s.showPreferences(w, r, false)
}

// savePreferences is POST /p/{token}: ticked boxes grant, unticked deny; only
// changes are recorded, so the consent history shows what the customer did.
func (s *Server) savePreferences(w http.ResponseWriter, r *http.Request) error {
	return s.showPreferences(w, r, true)
}

func (s *Server) showPreferences(w http.ResponseWriter, r *http.Request, save bool) error {
	ctx := r.Context()
	_, c, err := s.linkCustomer(ctx, r, token.Preferences)
	if err != nil {
		return s.unreadableLink(w, r, err)
	}
	st, err := s.preferences(ctx, c)
	if err != nil {
		return err
	}
	key, lang := pageLang(c.Locale)
	p := newPage(key, lang, "preferences.title")
	if save {
		if err := r.ParseForm(); err != nil {
			return s.linkError(w, r, fmt.Errorf("%w: %v", token.ErrInvalid, err))
		}
		for _, ch := range st.channels {
			anyOn := false
			for _, tp := range st.topics {
				k := ch + "." + tp
				want := r.PostForm.Get(k) == store.Granted
				anyOn = anyOn || want
				if want == st.granted[k] && !(want && st.allOff[ch]) {
					continue
				}
				if err := s.setPreference(ctx, r, c.ID, ch, tp, want); err != nil {
					return err
				}
			}
			if anyOn && st.allOff[ch] {
				if err := s.setPreference(ctx, r, c.ID, ch, delivery.TopicAll, true); err != nil {
					return err
				}
			}
		}
		if want := r.PostForm.Get(privacyBox) == store.Granted; slices.Contains(st.channels, delivery.Email) && want == st.untracked {
			if err := s.setPreference(ctx, r, c.ID, delivery.Email, delivery.TopicTracking, want); err != nil {
				return err
			}
		}
		if st, err = s.preferences(ctx, c); err != nil {
			return err
		}
		p.Notice = t(key, "preferences.saved")
	}
	if len(st.channels) == 0 {
		p.Paras = []string{t(key, "preferences.none")}
		return s.render(w, p)
	}
	p.Paras = []string{t(key, "preferences.intro")}
	p.Form = s.preferencesForm(r, key, st)
	return s.render(w, p)
}

func (s *Server) setPreference(ctx context.Context, r *http.Request, customerID, channel, topic string, granted bool) error {
	status := store.Denied
	if granted {
		status = store.Granted
	}
	_, err := s.store.SetConsent(ctx, store.ConsentChange{
		CustomerID: customerID, Channel: channel, Topic: topic, Status: status,
		Source: sourcePreferencePage, Actor: actorCustomer, IP: clientIP(r),
	})
	return err
}

// surveyLink verifies a survey token and returns its claims, customer and
// score range. A link whose message is not in the ledger (or was sent to
// someone else) is errNoMessage.
func (s *Server) surveyLink(r *http.Request) (token.Claims, store.Customer, [2]int, error) {
	claims, c, err := s.linkCustomer(r.Context(), r, token.Survey)
	if err != nil {
		return claims, c, [2]int{}, err
	}
	lo, hi, ok := store.SurveyScoreRange(claims.Survey)
	if _, perr := uuid.Parse(claims.MessageID); !ok || perr != nil {
		return claims, c, [2]int{}, errBadLink
	}
	m, err := s.store.MessageByID(r.Context(), claims.MessageID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && m.CustomerID != c.ID) {
		return claims, c, [2]int{}, errNoMessage
	}
	if err != nil {
		return claims, c, [2]int{}, err
	}
	return claims, c, [2]int{lo, hi}, nil
}

// errNoMessage is a survey link, signed by us, naming a message the ledger
// does not hold (a database restored from an older backup, a link signed in
// another installation).
var errNoMessage = errors.New("survey link names no message in the ledger")

// surveyLinkError is unreadableLink for survey links, with a 404 page for a
// message the ledger does not hold.
func (s *Server) surveyLinkError(w http.ResponseWriter, r *http.Request, c store.Customer, err error) error {
	if !errors.Is(err, errNoMessage) {
		return s.unreadableLink(w, r, err)
	}
	key, lang := pageLang(c.Locale, r.Header.Get("Accept-Language"))
	p := newPage(key, lang, "error.title")
	p.status, p.Paras = http.StatusNotFound, []string{t(key, "error.nomessage")}
	s.log.InfoContext(r.Context(), "public link refused", "path", logPath(r), "err", err)
	return s.render(w, p)
}

// surveyPage is GET /s/{token}[?score=N]: the question with every score to
// choose from, N preselected when the link carries it (the score a customer
// tapped in the email), and a comment box. A GET records nothing: mail
// security gateways fetch every link of a message, and their fetches must
// neither answer the survey nor change an answer given.
func (s *Server) surveyPage(w http.ResponseWriter, r *http.Request) error {
	claims, c, rng, err := s.surveyLink(r)
	if err != nil {
		return s.surveyLinkError(w, r, c, err)
	}
	key, lang := pageLang(c.Locale)
	prev, err := s.store.SurveyResponseTo(r.Context(), claims.MessageID)
	answered := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	p := newPage(key, lang, "survey.ask")
	chosen := -1
	if answered {
		chosen = prev.Score
		p.Notice = fmt.Sprintf(t(key, "survey.answered"), prev.Score, rng[1])
	}
	if raw, given := r.URL.Query()["score"]; given {
		score, err := strconv.Atoi(raw[0])
		if err != nil || score < rng[0] || score > rng[1] {
			p.status = http.StatusBadRequest
			p.Notice = t(key, "error.score")
		} else {
			chosen = score
		}
	}
	p.Form = s.surveyForm(r, key, claims, rng, chosen)
	return s.render(w, p)
}

// surveyForm is the answer form: the scale as radio buttons, the comment,
// and the signed form token that makes the POST a deliberate answer.
func (s *Server) surveyForm(r *http.Request, key string, claims token.Claims, rng [2]int, chosen int) *pageForm {
	confirm := s.signer.Sign(token.Claims{Purpose: token.SurveyAnswer, CustomerID: claims.CustomerID,
		MessageID: claims.MessageID, Survey: claims.Survey}, s.opt.Now().Add(s.opt.LinkTTL))
	ch := &choice{Legend: t(key, "survey.question."+claims.Survey), Hint: t(key, "survey.scale."+claims.Survey), Name: "score"}
	for i := rng[0]; i <= rng[1]; i++ {
		ch.Options = append(ch.Options, choiceOption{Value: strconv.Itoa(i), Checked: i == chosen})
	}
	return &pageForm{
		Action: r.URL.Path, Button: t(key, "survey.send"),
		Hidden:   map[string]string{"confirm": confirm},
		Choice:   ch,
		Textarea: &textarea{Name: "comment", Label: t(key, "survey.comment"), Max: maxComment},
	}
}

// surveySubmit is POST /s/{token}: the answer form. The score (and the
// comment, if any) is recorded only when the form token issued by the page
// comes with it; a later answer to the same message replaces the score, as
// a customer changing their mind. The first answer is recorded as a
// survey_answered event and routed to the survey journey, which alerts the
// care team for a detractor; a comment also becomes survey_commented.
func (s *Server) surveySubmit(w http.ResponseWriter, r *http.Request) error {
	claims, c, rng, err := s.surveyLink(r)
	if err != nil {
		return s.surveyLinkError(w, r, c, err)
	}
	key, lang := pageLang(c.Locale)
	if err := r.ParseForm(); err != nil {
		return s.linkError(w, r, fmt.Errorf("%w: %v", token.ErrInvalid, err))
	}
	score, serr := strconv.Atoi(r.PostForm.Get("score"))
	if serr != nil || score < rng[0] || score > rng[1] {
		score = -1
	}
	again := func(status int, notice string) error {
		p := newPage(key, lang, "survey.ask")
		p.status, p.Notice = status, notice
		p.Form = s.surveyForm(r, key, claims, rng, score)
		return s.render(w, p)
	}
	conf, err := s.signer.Verify(r.PostForm.Get("confirm"), token.SurveyAnswer, s.opt.Now())
	if err != nil || conf.MessageID != claims.MessageID || conf.CustomerID != claims.CustomerID {
		// Not sent from the page (or from a page open too long): show
		// it, with what was posted, to be sent deliberately.
		return again(http.StatusBadRequest, t(key, "survey.reconfirm"))
	}
	comment := strings.TrimSpace(r.PostForm.Get("comment"))
	if utf8.RuneCountInString(comment) > maxComment {
		return again(http.StatusUnprocessableEntity, fmt.Sprintf(t(key, "error.comment"), maxComment))
	}
	comment = strings.ReplaceAll(comment, "\x00", "") // text cannot hold it; nobody typed it
	prev, err := s.store.SurveyResponseTo(r.Context(), claims.MessageID)
	answered := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if score < 0 && !answered {
		return again(http.StatusUnprocessableEntity, fmt.Sprintf(t(key, "survey.pick"), rng[0], rng[1]))
	}
	if score < 0 {
		score = prev.Score
	}
	if err := s.recordSurveyAnswer(r.Context(), c, claims, score, comment); err != nil {
		return err
	}
	p := newPage(key, lang, "survey.title")
	p.Notice = t(key, "survey.thanks")
	p.Paras = []string{fmt.Sprintf(t(key, "survey.score"), score, rng[1])}
	if comment != "" {
		p.Paras = append(p.Paras, t(key, "survey.commented"))
	}
	return s.render(w, p)
}

// recordSurveyAnswer stores the score and the comment, then records the
// survey_answered event (its ID derived from the message, so the journey
// hears the first answer once) and, with a comment, survey_commented, and
// routes them.
func (s *Server) recordSurveyAnswer(ctx context.Context, c store.Customer, claims token.Claims, score int, comment string) error {
	ans, _, err := s.store.RecordSurveyAnswer(ctx, store.SurveyResponse{
		CustomerID: c.ID, Survey: claims.Survey, Score: score, MessageID: claims.MessageID,
	})
	if err != nil {
		return err
	}
	if comment != "" {
		if ans, err = s.store.SetSurveyComment(ctx, claims.MessageID, comment); err != nil {
			return err
		}
	}
	evs := []store.EventInput{{
		EventID:    workflows.EventSurveyAnswered + ":" + claims.MessageID,
		CustomerID: c.ID,
		Type:       workflows.EventSurveyAnswered,
		Properties: map[string]any{"score": ans.Score, "comment": ans.Comment, "message_id": claims.MessageID, "survey": claims.Survey},
		OccurredAt: s.opt.Now(),
	}}
	if comment != "" {
		// A detractor's journey waits a little for this before alerting
		// the care team, so the alert says why the customer is unhappy.
		evs = append(evs, store.EventInput{
			EventID:    workflows.EventSurveyCommented + ":" + claims.MessageID,
			CustomerID: c.ID,
			Type:       workflows.EventSurveyCommented,
			Properties: map[string]any{"comment": comment, "message_id": claims.MessageID, "survey": claims.Survey},
			OccurredAt: s.opt.Now(),
		})
	}
	_, err = s.recordAndRoute(ctx, evs)
	return err
}
