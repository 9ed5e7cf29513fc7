package app

import (
	"context"
	"strings"
	"time"

	"github.com/tidingsdev/tidings/internal/api"
	"github.com/tidingsdev/tidings/internal/bounces"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/tracking"
)

// Webhooks configures the API's receivers of bounces, complaints and SMS
// receipts from the settings; a provider without its setting has none. A
// SendGrid key that does not parse is a ConfigError.
func (a *App) Webhooks() (api.Webhooks, error) {
	wh := api.Webhooks{
		MailgunKey: a.cfg.MailgunKey, PostmarkAuth: a.cfg.PostmarkAuth, GenericSecret: a.cfg.BounceSecret,
		TwilioAuthToken: a.cfg.SMSAuthToken,
		SoftBounces:     store.SoftBouncePolicy{Max: a.cfg.SoftBounceLimit, Window: a.cfg.SoftBounceWindow},
	}
	if len(a.cfg.SESTopicARNs) > 0 {
		wh.SNS = &bounces.SNSVerifier{TopicARNs: a.cfg.SESTopicARNs}
	}
	if a.cfg.SendGridKey != "" {
		k, err := bounces.ParseSendGridKey(a.cfg.SendGridKey)
		if err != nil {
			return wh, badConfig(err)
		}
		wh.SendGridKey = k
	}
	return wh, nil
}

// TrackingSigner signs and checks tracked links, with a key derived from
// the signing secret.
func (a *App) TrackingSigner() *tracking.Signer { return tracking.NewSigner(a.cfg.SigningSecret) }

// tracker is the send path's link rewriter and content log; Close stores
// what it still holds.
func (a *App) tracker(st *store.Store) *tracking.Tracker {
	t := tracking.New(a.TrackingSigner(), a.cfg.PublicURL, st, tracking.Options{Logger: a.log})
	a.onClose(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := t.Close(ctx); err != nil {
			a.log.Warn("message contents not stored", "err", err)
		}
	})
	return t
}

// smsStatusCallback is where the SMS provider reports delivery.
func (a *App) smsStatusCallback() string {
	return strings.TrimSuffix(a.cfg.PublicURL, "/") + "/v1/webhooks/sms/status"
}
