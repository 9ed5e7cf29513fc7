package app

import (
	"context"
	"crypto/tls"
	"fmt"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
)

// clientOptions are the Temporal client options the configuration names;
// Temporal's own logs go through the process's logger.
func (a *App) clientOptions() client.Options {
	o := client.Options{
		HostPort:  a.cfg.TemporalAddress,
		Namespace: a.cfg.TemporalNamespace,
		Logger:    sdklog.NewStructuredLogger(a.log),
	}
	if a.cfg.TemporalTLS || a.cfg.TemporalAPIKey != "" {
		o.ConnectionOptions.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if a.cfg.TemporalAPIKey != "" {
		o.Credentials = client.NewAPIKeyStaticCredentials(a.cfg.TemporalAPIKey)
	}
	return o
}

// UseTemporal hands the App a client it does not own (the dev stack's and
// the benchmarks' embedded server); Close leaves it open.
func (a *App) UseTemporal(c client.Client) { a.temporal = c }

// Temporal connects to the configured Temporal frontend.
func (a *App) Temporal(ctx context.Context) (client.Client, error) {
	if a.temporal != nil {
		return a.temporal, nil
	}
	c, err := client.DialContext(ctx, a.clientOptions())
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s (namespace %s; set TIDINGS_TEMPORAL_ADDRESS): %w",
			a.cfg.TemporalAddress, a.cfg.TemporalNamespace, err)
	}
	a.own(c)
	return c, nil
}

// LazyTemporal is a client that connects on first use, so the API can
// start (and store events) while Temporal is down.
func (a *App) LazyTemporal() (client.Client, error) {
	if a.temporal != nil {
		return a.temporal, nil
	}
	c, err := client.NewLazyClient(a.clientOptions())
	if err != nil {
		return nil, badConfig(fmt.Errorf("Temporal client: %w", err))
	}
	a.own(c)
	return c, nil
}

func (a *App) own(c client.Client) {
	a.temporal = c
	a.onClose(func() { c.Close(); a.temporal = nil })
}
