package app

import (
	"context"

	"github.com/tidingsdev/tidings/activities"
	"github.com/tidingsdev/tidings/internal/channels/email"
	"github.com/tidingsdev/tidings/internal/channels/sms"
	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/worker"
)

// SendPath builds the one send path from configuration: templates, the
// SMTP pool, the SMS provider and the delivery policy, over the store. Close
// closes its SMTP connections.
func (a *App) SendPath(ctx context.Context) (*delivery.Service, error) {
	if a.send != nil {
		return a.send, nil
	}
	st, err := a.Store(ctx)
	if err != nil {
		return nil, err
	}
	set, err := a.Templates()
	if err != nil {
		return nil, err
	}
	topics, err := a.Topics()
	if err != nil {
		return nil, err
	}
	mailer, err := email.New(email.Config{
		URL: a.cfg.SMTPURL, From: a.cfg.MailFrom, FromName: a.cfg.MailFromName, ReplyTo: a.cfg.MailReplyTo,
		Connections: a.cfg.SMTPConnections, BounceAddress: a.cfg.BounceAddress, Logger: a.log,
	})
	if err != nil {
		return nil, badConfig(err)
	}
	texter, err := sms.New(sms.Config{
		BaseURL: a.cfg.SMSBaseURL, AccountSID: a.cfg.SMSAccountSID, AuthToken: a.cfg.SMSAuthToken, From: a.cfg.SMSFrom,
		StatusCallback: a.smsStatusCallback(), Rate: a.cfg.SMSRate,
	})
	if err != nil {
		_ = mailer.Close()
		return nil, badConfig(err)
	}
	metrics := delivery.NewMetrics(a.metrics)
	svc, err := delivery.New(st, set, delivery.MeasureMailer(mailer, metrics), delivery.MeasureTexter(texter, metrics), delivery.Options{
		Tracker: a.tracker(st),
		Topics:  topics, QuietHours: a.cfg.QuietHours, DefaultLocale: a.cfg.DefaultLocale, PublicURL: a.cfg.PublicURL,
		UnsubscribeMailto: a.cfg.UnsubscribeMail,
		Company:           a.Company(),
		Signer:            a.Signer(),
		Logger:            a.log,
		Metrics:           metrics,
		InFlight:          a.cfg.SMTPConnections,
		CouponSecret:      []byte(a.cfg.SigningSecret),
	})
	if err != nil {
		_ = mailer.Close()
		return nil, badConfig(err)
	}
	a.send = svc
	a.onClose(func() { _ = mailer.Close(); a.send = nil })
	return svc, nil
}

// JourneyDeps are what the journey and campaign activities act on: the
// store, the send path, the settings the journeys read, and the management
// functions the refresh sweep measures the audiences with.
func (a *App) JourneyDeps(ctx context.Context) (worker.Deps, error) {
	st, err := a.Store(ctx)
	if err != nil {
		return worker.Deps{}, err
	}
	send, err := a.SendPath(ctx)
	if err != nil {
		return worker.Deps{}, err
	}
	settings, err := a.JourneySettings()
	if err != nil {
		return worker.Deps{}, err
	}
	m, err := a.Mgmt(ctx)
	if err != nil {
		return worker.Deps{}, err
	}
	return worker.Deps{
		Store:     st,
		Sender:    send,
		Journeys:  settings,
		Audiences: m,
		Funnels:   m,
		Settings: activities.Settings{
			CareTeamEmail:  a.cfg.CareTeamEmail,
			CareWebhookURL: a.cfg.CareWebhookURL,
			ReviewURL:      a.cfg.ReviewURL,
			CouponSecret:   []byte(a.cfg.SigningSecret),
		},
		Register: worker.Campaigns(st, st.Pool(), send),
	}, nil
}
