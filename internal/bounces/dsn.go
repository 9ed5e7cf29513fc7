package bounces

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
)

// verpID finds the ledger ID in a VERP address (email.VERPAddress):
// bounces+<id>@example.com.
var verpID = regexp.MustCompile(`(?i)[+=]([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@`)

// envelopeHeaders carry the address a DSN was delivered to: the VERP
// address, when the bounce mailbox's server records it.
var envelopeHeaders = []string{"Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To"}

// ParseDSN reads a delivery status notification (RFC 3464: a
// multipart/report of report-type delivery-status). Each failed recipient
// is a report: status 5.x.x a hard bounce, 4.x.x or "delayed" a soft one;
// "delivered" and "relayed" are deliveries. The message is found from the
// VERP address the DSN was sent to, the X-Tidings-Message-ID or Message-ID
// of the returned message or its headers.
func ParseDSN(raw []byte) ([]Report, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: not an email: %v", ErrMalformed, err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/report" || !strings.EqualFold(params["report-type"], "delivery-status") {
		return nil, fmt.Errorf("%w: not a delivery status notification (want multipart/report; report-type=delivery-status, got %q)", ErrMalformed, msg.Header.Get("Content-Type"))
	}
	var ref Ref
	for _, h := range envelopeHeaders {
		if m := verpID.FindStringSubmatch(msg.Header.Get(h)); m != nil {
			ref.LedgerID = strings.ToLower(m[1])
			break
		}
	}
	var status []byte
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: report parts: %v", ErrMalformed, err)
		}
		body, err := io.ReadAll(io.LimitReader(p, 1<<20))
		if err != nil {
			return nil, fmt.Errorf("%w: report part: %v", ErrMalformed, err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch ct {
		case "message/delivery-status", "message/global-delivery-status":
			status = body
		case "message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers":
			if orig, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(body, '\r', '\n', '\r', '\n')))).ReadMIMEHeader(); err == nil || len(orig) > 0 {
				if ref.LedgerID == "" {
					ref.LedgerID = strings.TrimSpace(orig.Get("X-Tidings-Message-ID"))
				}
				ref.MessageID = strings.TrimSpace(orig.Get("Message-Id"))
			}
		}
	}
	if status == nil {
		return nil, fmt.Errorf("%w: the report has no message/delivery-status part", ErrMalformed)
	}
	groups, err := statusGroups(status)
	if err != nil || len(groups) < 2 {
		return nil, fmt.Errorf("%w: delivery-status needs per-message and per-recipient fields", ErrMalformed)
	}
	receipt := strings.TrimSpace(msg.Header.Get("Message-Id"))
	if receipt == "" {
		sum := sha256.Sum256(raw)
		receipt = hex.EncodeToString(sum[:16])
	}
	at, _ := mail.ParseDate(msg.Header.Get("Date"))
	if d := groups[0].Get("Arrival-Date"); d != "" {
		if t, err := mail.ParseDate(d); err == nil {
			at = t
		}
	}
	if ref.LedgerID == "" && ref.MessageID == "" {
		return nil, fmt.Errorf("%w: the DSN names no message: no VERP address, and the returned message has no X-Tidings-Message-ID or Message-ID", ErrMalformed)
	}
	var out []Report
	for i, rcpt := range groups[1:] {
		action := strings.ToLower(strings.TrimSpace(rcpt.Get("Action")))
		code := strings.TrimSpace(rcpt.Get("Status"))
		var kind string
		switch {
		case action == "failed" && strings.HasPrefix(code, "5"):
			kind = store.FeedbackHard
		case action == "failed" || action == "delayed":
			kind = store.FeedbackSoft
		case action == "delivered" || action == "relayed" || action == "expanded":
			kind = store.FeedbackDelivered
		default:
			continue
		}
		addr := rcpt.Get("Final-Recipient")
		if addr == "" {
			addr = rcpt.Get("Original-Recipient")
		}
		if _, a, ok := strings.Cut(addr, ";"); ok {
			addr = a
		}
		when := at
		if d := rcpt.Get("Last-Attempt-Date"); d != "" {
			if t, err := mail.ParseDate(d); err == nil {
				when = t
			}
		}
		if when.IsZero() {
			when = time.Now()
		}
		out = append(out, Report{
			Ref: ref, Kind: kind, ReceiptID: fmt.Sprintf("%s/%d", receipt, i), Address: strings.TrimSpace(addr),
			Detail:     strings.TrimSpace(action + " " + code + " " + rcpt.Get("Diagnostic-Code")),
			OccurredAt: when,
		})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no recipient with an action of failed, delayed or delivered", ErrMalformed)
	}
	return out, nil
}

// statusGroups splits a delivery-status body into its header groups: the
// per-message fields, then one group per recipient.
func statusGroups(body []byte) ([]textproto.MIMEHeader, error) {
	body = bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n"))
	var out []textproto.MIMEHeader
	for _, block := range bytes.Split(bytes.TrimSpace(body), []byte("\n\n")) {
		block = bytes.TrimSpace(block)
		if len(block) == 0 {
			continue
		}
		h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(block, '\n', '\n')))).ReadMIMEHeader()
		if err != nil && len(h) == 0 {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}
