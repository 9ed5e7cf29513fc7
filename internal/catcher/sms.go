package catcher

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/tidingsdev/tidings/internal/validate"
)

// twilioTime is the date format of Twilio's JSON ("Thu, 30 Jul 2015 20:12:31 +0000").
const twilioTime = "Mon, 02 Jan 2006 15:04:05 -0700"

// smsEndpoint answers the Twilio Messages API
// (POST /2010-04-01/Accounts/{sid}/Messages.json) the way Twilio does for a
// well-formed request: 201 and a queued message resource. Requests Twilio
// would refuse get Twilio's error body and code, so the SMS client's error
// handling is exercised in dev too.
type smsEndpoint struct {
	inbox *Inbox
	log   *slog.Logger
}

// twilioError is Twilio's error body.
type twilioError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

func writeTwilioError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(twilioError{
		Code: code, Message: msg, Status: status,
		MoreInfo: "https://www.twilio.com/docs/errors/" + strconv.Itoa(code),
	})
}

func (e smsEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	account := r.PathValue("sid")
	if _, _, ok := r.BasicAuth(); !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		writeTwilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeTwilioError(w, http.StatusBadRequest, 20001, "Invalid form body: "+err.Error())
		return
	}
	to, from, body := r.PostForm.Get("To"), r.PostForm.Get("From"), r.PostForm.Get("Body")
	service := r.PostForm.Get("MessagingServiceSid")
	switch {
	case to == "":
		writeTwilioError(w, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
		return
	case !validate.IsE164(to):
		writeTwilioError(w, http.StatusBadRequest, 21211, "Invalid 'To' Phone Number: "+to)
		return
	case from == "" && service == "":
		writeTwilioError(w, http.StatusBadRequest, 21603, "A 'From' phone number is required.")
		return
	case body == "":
		writeTwilioError(w, http.StatusBadRequest, 21602, "Message body is required.")
		return
	case len([]rune(body)) > 1600:
		writeTwilioError(w, http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit.")
		return
	}
	if from == "" {
		from = service
	}
	m := e.inbox.add(Message{
		Channel:        SMS,
		From:           from,
		To:             []string{to},
		Text:           body,
		Size:           len(body),
		SID:            newSID("SM"),
		Segments:       Segments(body),
		StatusCallback: r.PostForm.Get("StatusCallback"),
	})
	e.log.Debug("catcher sms", "id", m.ID, "sid", m.SID, "segments", m.Segments)

	created := m.Received.UTC().Format(twilioTime)
	var serviceSID *string
	if service != "" {
		serviceSID = &service
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"sid":                   m.SID,
		"account_sid":           account,
		"messaging_service_sid": serviceSID,
		"to":                    to,
		"from":                  from,
		"body":                  body,
		"status":                "queued",
		"direction":             "outbound-api",
		"num_segments":          strconv.Itoa(m.Segments),
		"num_media":             "0",
		"api_version":           "2010-04-01",
		"date_created":          created,
		"date_updated":          created,
		"date_sent":             nil,
		"price":                 nil,
		"price_unit":            "USD",
		"error_code":            nil,
		"error_message":         nil,
		"uri":                   "/2010-04-01/Accounts/" + account + "/Messages/" + m.SID + ".json",
	})
}

// newSID returns a Twilio-shaped SID: a two-letter prefix and 32 hex digits.
func newSID(prefix string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return prefix + hex.EncodeToString(b)
}

// gsm7 is the GSM 03.38 basic character set; gsm7Ext characters take two
// septets. A body using anything else is sent as UCS-2.
const (
	gsm7    = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Ext = "^{}\\[~]|€\f"
)

// Segments is how many SMS parts a carrier bills body as: 160 GSM-7
// characters (153 per part when split) or 70 UCS-2 code units (67 per
// part), so a Chinese message of 71 characters is already two.
func Segments(body string) int {
	septets, gsm := 0, true
	for _, r := range body {
		switch {
		case strings.ContainsRune(gsm7, r):
			septets++
		case strings.ContainsRune(gsm7Ext, r):
			septets += 2
		default:
			gsm = false
		}
	}
	single, part, n := 160, 153, septets
	if !gsm {
		single, part, n = 70, 67, len(utf16.Encode([]rune(body)))
	}
	switch {
	case n == 0:
		return 0
	case n <= single:
		return 1
	}
	return (n + part - 1) / part
}
