package catcher

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/textproto"
	"strings"

	"golang.org/x/text/encoding/htmlindex"
)

// maxDepth bounds multipart nesting so a hostile message cannot recurse
// forever; real mail nests three levels at most (mixed > related > alternative).
const maxDepth = 8

// words decodes RFC 2047 encoded-words in any charset x/text knows
// (GB2312, Big5, ISO-2022-JP, ...), not just UTF-8 and Latin-1.
var words = &mime.WordDecoder{CharsetReader: charsetReader}

func charsetReader(charset string, r io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, fmt.Errorf("charset %q: %w", charset, err)
	}
	return enc.NewDecoder().Reader(r), nil
}

// parseEmail fills m's subject, headers, parts and attachments from a raw
// RFC 5322 message. On error m keeps whatever was parsed before it.
func parseEmail(raw []byte, m *Message) error {
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw)))
	headers, err := readHeaders(r)
	if err != nil {
		return fmt.Errorf("read headers: %w", err)
	}
	m.Headers = headers
	m.Subject = m.Header("Subject")
	return walkPart(headerMap(headers), r.R, m, 0)
}

// readHeaders reads the header section keeping order and repeated fields,
// which textproto.MIMEHeader would lose; values are unfolded and decoded.
func readHeaders(r *textproto.Reader) ([]Header, error) {
	var out []Header
	for {
		line, err := r.ReadContinuedLine()
		if err != nil && !errors.Is(err, io.EOF) {
			return out, err
		}
		if line == "" {
			return out, nil
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return out, fmt.Errorf("malformed header line %q", line)
		}
		value = strings.TrimSpace(value)
		if dec, derr := words.DecodeHeader(value); derr == nil {
			value = dec
		}
		out = append(out, Header{Name: strings.TrimSpace(name), Value: value})
		if errors.Is(err, io.EOF) {
			return out, nil
		}
	}
}

// headerMap is a MIME header view of already decoded headers; only the
// structural fields (Content-Type, -Disposition, -Transfer-Encoding) are read
// from it, and decoding leaves those unchanged.
func headerMap(hs []Header) textproto.MIMEHeader {
	h := textproto.MIMEHeader{}
	for _, x := range hs {
		h.Add(x.Name, x.Value)
	}
	return h
}

// walkPart records one MIME entity: the first text/plain and text/html
// bodies become Text and HTML, anything with a filename or an attachment
// disposition becomes an Attachment, multiparts are descended into.
func walkPart(h textproto.MIMEHeader, body io.Reader, m *Message, depth int) error {
	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		mediaType, params = "text/plain", map[string]string{}
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		if depth >= maxDepth {
			return fmt.Errorf("multipart nested deeper than %d levels", maxDepth)
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("read %s part: %w", mediaType, err)
			}
			if err := walkPart(p.Header, p, m, depth+1); err != nil {
				return err
			}
		}
	}

	content, err := io.ReadAll(transferDecoder(h.Get("Content-Transfer-Encoding"), body))
	if err != nil {
		return fmt.Errorf("decode %s body: %w", mediaType, err)
	}
	disposition, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	filename := dparams["filename"]
	if filename == "" {
		filename = params["name"]
	}
	if disposition == "attachment" || filename != "" || !strings.HasPrefix(mediaType, "text/") {
		m.Attachments = append(m.Attachments, Attachment{Filename: filename, ContentType: mediaType, Size: len(content)})
		return nil
	}
	text, err := toUTF8(params["charset"], content)
	if err != nil {
		return err
	}
	switch {
	case mediaType == "text/html" && m.HTML == "":
		m.HTML = text
	case mediaType == "text/plain" && m.Text == "":
		m.Text = text
	default:
		m.Attachments = append(m.Attachments, Attachment{ContentType: mediaType, Size: len(content)})
	}
	return nil
}

func transferDecoder(encoding string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, r) // skips CR and LF
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	default:
		return r
	}
}

func toUTF8(charset string, b []byte) (string, error) {
	switch strings.ToLower(charset) {
	case "", "utf-8", "utf8", "us-ascii":
		return string(b), nil
	}
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return "", fmt.Errorf("charset %q: %w", charset, err)
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return "", fmt.Errorf("decode %s: %w", charset, err)
	}
	return string(out), nil
}
