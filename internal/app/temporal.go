package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// clientOptions are the Temporal client options the configuration names;
// Temporal's logs go through the process's logger and its metrics to the
// App's registry.
func (a *App) clientOptions() client.Options {
	o := client.Options{
		HostPort:       a.cfg.TemporalAddress,
		Namespace:      a.cfg.TemporalNamespace,
		Logger:         TemporalLogger(a.log),
		MetricsHandler: a.temporalMetrics(),
	}
	if a.cfg.TemporalTLS || a.cfg.TemporalAPIKey != "" {
		o.ConnectionOptions.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if a.cfg.TemporalAPIKey != "" {
		o.Credentials = client.NewAPIKeyStaticCredentials(a.cfg.TemporalAPIKey)
	}
	return o
}

// temporalMetrics is the SDK's metrics handler, built once per App.
func (a *App) temporalMetrics() client.MetricsHandler {
	if a.sdkMetrics == nil {
		h, stop := temporalMetrics(a.metrics)
		a.sdkMetrics = h
		a.onClose(stop)
	}
	return a.sdkMetrics
}

// UseTemporal hands the App a client it does not own (the dev stack's and
// the benchmarks' embedded server); Close leaves it open.
func (a *App) UseTemporal(c client.Client) {
	a.temporal = c
	a.health.setTemporal(nil)
}

// UseTemporalUI makes url the Web UI the console links runs to, unless
// TIDINGS_TEMPORAL_UI_URL names one already; `tidings dev` serves its own
// and learns its address only once it listens. Call it before API.
func (a *App) UseTemporalUI(url string) {
	if a.cfg.TemporalUIURL == "" {
		a.cfg.TemporalUIURL = url
	}
}

// Temporal connects to the configured Temporal frontend once; see
// WaitForTemporal for a process that should wait until it is there.
func (a *App) Temporal(ctx context.Context) (client.Client, error) {
	if a.temporal != nil {
		return a.temporal, nil
	}
	c, err := a.dial(ctx)
	if err != nil {
		return nil, err
	}
	a.own(c)
	return c, nil
}

// dial connects and checks that the namespace exists, so a process learns
// of a missing namespace at start rather than at its first workflow.
func (a *App) dial(ctx context.Context) (client.Client, error) {
	c, err := client.DialContext(ctx, a.clientOptions())
	if err != nil {
		return nil, fmt.Errorf("Temporal frontend at %s is not answering (set TIDINGS_TEMPORAL_ADDRESS): %w", a.cfg.TemporalAddress, err)
	}
	if err := a.checkNamespace(ctx, c); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// errNoNamespace marks a frontend that answers but does not know the
// namespace.
var errNoNamespace = errors.New("namespace not registered")

func (a *App) checkNamespace(ctx context.Context, c client.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: a.cfg.TemporalNamespace})
	var nf *serviceerror.NamespaceNotFound
	switch {
	case errors.As(err, &nf):
		return fmt.Errorf("%w: Temporal at %s has no namespace %q (TIDINGS_TEMPORAL_NAMESPACE); create it with "+
			"`temporal operator namespace create --namespace %s --retention 168h`", errNoNamespace, a.cfg.TemporalAddress,
			a.cfg.TemporalNamespace, a.cfg.TemporalNamespace)
	case err != nil:
		return fmt.Errorf("Temporal at %s: describe namespace %q: %w", a.cfg.TemporalAddress, a.cfg.TemporalNamespace, err)
	}
	return nil
}

// Backoff of WaitForTemporal: the first retry after a second, doubling up
// to half a minute.
const (
	temporalRetryFirst = time.Second
	temporalRetryMax   = 30 * time.Second
)

// WaitForTemporal connects to Temporal, retrying with backoff until its
// frontend answers and the namespace exists, and logs at each attempt what
// it waits for (the frontend not listening, the namespace not registered);
// /healthz reports the same meanwhile. It returns when connected or when
// ctx ends. With a lazy client (LazyTemporal) it waits on that client.
func (a *App) WaitForTemporal(ctx context.Context) (client.Client, error) {
	wait := temporalRetryFirst
	for {
		var c client.Client
		var err error
		if a.temporal != nil {
			c = a.temporal
			err = a.probe(ctx, c)
		} else if c, err = a.dial(ctx); err == nil {
			a.own(c)
		}
		a.health.setTemporal(err)
		if err == nil {
			return c, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		a.log.Warn("waiting for Temporal", "reason", err.Error(), "retry_in", wait)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, temporalRetryMax)
	}
}

// probe asks a client whether its frontend answers and knows the namespace.
func (a *App) probe(ctx context.Context, c client.Client) error {
	hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := c.CheckHealth(hctx, &client.CheckHealthRequest{}); err != nil {
		return fmt.Errorf("Temporal frontend at %s is not answering (set TIDINGS_TEMPORAL_ADDRESS): %w", a.cfg.TemporalAddress, err)
	}
	return a.checkNamespace(ctx, c)
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
