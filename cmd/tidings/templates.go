package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/wneessen/go-mail"

	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/templates"
)

func newTemplatesCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "templates",
		Short: "Check, list and preview the email and SMS templates",
		Long: `Templates are built into the binary in en, zh-CN and zh-TW. A directory
named by TIDINGS_TEMPLATES_DIR (or --templates-dir) overrides them file by
file with the same layout (NAME/LOCALE.subject.txt, .body.html, .body.txt,
.sms.txt, and _layout/LOCALE.html, .txt), so copy can change without a
rebuild. Every process checks them at start; "check" does the same on demand.`,
	}
	cmd.AddCommand(newTemplatesCheckCmd(a), newTemplatesListCmd(a), newTemplatesPreviewCmd(a))
	return cmd
}

func newTemplatesCheckCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Parse every template and render each variant against its sample data",
		Long: `Parse every template in every locale, render it against its sample data
(email, and SMS where it has one), and check the footer carries the
unsubscribe link and each SMS fits TIDINGS_SMS_MAX_SEGMENTS.

Exit status: 0 all good, 2 problems found (each listed as file:line: problem).`,
		Example: `  tidings templates check
  tidings templates check --templates-dir ./my-templates`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, err := a.parts.Templates()
			if err != nil {
				return err
			}
			variants, sms := 0, 0
			for _, name := range set.Names() {
				info, _ := set.Info(name)
				variants += len(info.Locales)
				if info.SMS {
					sms++
				}
			}
			from := "built-in"
			if a.cfg.TemplatesDir != "" {
				from += " + " + a.cfg.TemplatesDir
			}
			fmt.Fprintf(a.stdout, "ok: %d templates, %d locale variants, %d with SMS (%s; default locale %s)\n",
				len(set.Names()), variants, sms, from, set.DefaultLocale())
			return nil
		},
	}
}

func newTemplatesListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the templates with their locales, channels and variables",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, err := a.parts.Templates()
			if err != nil {
				return err
			}
			return printRows(a.stdout, "NAME\tLOCALES\tCHANNELS\tVARS\tDESCRIPTION", set.Names(), func(w io.Writer, name string) {
				info, _ := set.Info(name)
				channels := "email"
				if info.SMS {
					channels += ",sms"
				}
				if info.Internal {
					channels += " (internal)"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", name, strings.Join(info.Locales, ","), channels, orDash(strings.Join(info.Vars, ",")), info.Description)
			})
		},
	}
}

func newTemplatesPreviewCmd(a *app) *cobra.Command {
	var locale, customerKey, channel, out string
	cmd := &cobra.Command{
		Use:   "preview NAME",
		Short: "Render a template with sample data or a real customer's profile",
		Long: `Render a template to the terminal (subject and plain text, or the SMS with
its segment count), or to a file: .eml (a complete MIME message with HTML
and text alternatives, openable in any mail client), .html or .txt.

Data comes from the template's sample.json. With --customer, the profile
(name, locale, time zone, city, orders) is loaded from the database, and
the locale defaults to the customer's own, so you see the variant they would
receive. Company name and postal address come from the configuration;
links are samples.`,
		Example: `  tidings templates preview birthday --locale zh-CN
  tidings templates preview survey_request --locale zh-TW --channel sms
  tidings templates preview welcome --customer C-1001 --out welcome.eml`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if channel != templates.ChannelEmail && channel != templates.ChannelSMS {
				return withCode(exitUsage, fmt.Errorf("--channel %q: want email or sms", channel))
			}
			ext := strings.ToLower(filepath.Ext(out))
			if out != "" && ext != ".eml" && ext != ".html" && ext != ".txt" {
				return withCode(exitUsage, fmt.Errorf("--out %s: want a .eml, .html or .txt file", out))
			}
			if channel == templates.ChannelSMS && out != "" && ext != ".txt" {
				return withCode(exitUsage, fmt.Errorf("--out %s: an SMS previews to a .txt file", out))
			}
			set, err := a.parts.Templates()
			if err != nil {
				return err
			}
			if _, err := set.Info(name); err != nil {
				return withCode(exitUsage, fmt.Errorf("%w (known: %s)", err, strings.Join(set.Names(), ", ")))
			}
			to := "customer@example.com"
			var cust *store.Customer
			if customerKey != "" {
				s, err := a.store(cmd.Context())
				if err != nil {
					return err
				}
				c, err := lookupCustomer(cmd.Context(), s, customerKey)
				if err != nil {
					return err
				}
				cust = &c
				if c.Email != "" {
					to = c.Email
				}
				if locale == "" {
					locale = c.Locale
				}
			}
			if locale == "" {
				locale = set.DefaultLocale()
			}
			d, err := set.Sample(name, locale)
			if err != nil {
				return err
			}
			if cust != nil {
				d.Customer = mgmt.TemplateCustomer(*cust)
			}
			d.Company.Name = a.cfg.MailFromName
			d.Company.PostalAddress = a.cfg.PostalAddress
			r, err := set.Render(name, locale, channel, d)
			if errors.Is(err, templates.ErrNoSMSVariant) {
				return withCode(exitUsage, err)
			}
			if err != nil && !errors.Is(err, templates.ErrTooLong) {
				return err
			}
			if out != "" {
				if werr := a.writePreview(out, ext, to, r); werr != nil {
					return werr
				}
				fmt.Fprintf(a.stdout, "wrote %s (%s, %s)\n", out, r.Template, r.Locale)
			} else {
				a.printPreview(locale, r)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&locale, "locale", "", "locale to render (default: the customer's, else the default locale)")
	cmd.Flags().StringVar(&customerKey, "customer", "", "render with this customer's profile (Tidings ID or external ID)")
	cmd.Flags().StringVar(&channel, "channel", templates.ChannelEmail, "email or sms")
	cmd.Flags().StringVar(&out, "out", "", "write to a .eml, .html or .txt file instead of the terminal")
	return cmd
}

func (a *app) printPreview(asked string, r templates.Rendered) {
	variant := r.Locale
	if asked != r.Locale {
		variant += fmt.Sprintf(" (asked for %s)", asked)
	}
	fmt.Fprintf(a.stdout, "Template: %s\nLocale:   %s\n", r.Template, variant)
	if r.SMS != "" {
		fmt.Fprintf(a.stdout, "SMS:      %d segment(s), %s, %d characters\n\n%s\n", r.Segments, r.Encoding, len([]rune(r.SMS)), r.SMS)
		return
	}
	fmt.Fprintf(a.stdout, "Subject:  %s\n\n%s", r.Subject, r.Text)
	fmt.Fprintln(a.stdout, "\n(HTML version: --out FILE.html, or --out FILE.eml for the whole message)")
}

// writePreview writes the rendered message whole, or not at all.
func (a *app) writePreview(path, ext, to string, r templates.Rendered) error {
	var body []byte
	switch {
	case r.SMS != "":
		body = []byte(r.SMS + "\n")
	case ext == ".html":
		body = []byte(r.HTML)
	case ext == ".txt":
		body = []byte(r.Text)
	default:
		m := mail.NewMsg()
		if err := m.FromFormat(a.cfg.MailFromName, a.cfg.MailFrom); err != nil {
			return withCode(exitUsage, fmt.Errorf("from address: %w", err))
		}
		if err := m.To(to); err != nil {
			return fmt.Errorf("to address %s: %w", to, err)
		}
		if a.cfg.MailReplyTo != "" {
			if err := m.ReplyTo(a.cfg.MailReplyTo); err != nil {
				return withCode(exitUsage, fmt.Errorf("reply-to address: %w", err))
			}
		}
		m.Subject(r.Subject)
		m.SetDateWithValue(time.Now())
		m.SetMessageID()
		m.SetBodyString(mail.TypeTextPlain, r.Text)
		m.AddAlternativeString(mail.TypeTextHTML, r.HTML)
		var buf bytes.Buffer
		if _, err := m.WriteTo(&buf); err != nil {
			return fmt.Errorf("build message: %w", err)
		}
		body = buf.Bytes()
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, body, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
