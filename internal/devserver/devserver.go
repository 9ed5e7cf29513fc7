// Package devserver runs a real Temporal server inside the `tidings dev`
// process (and the end-to-end tests), so a newcomer needs nothing but
// PostgreSQL. State is durable: journeys sleeping on a timer survive a stop
// and start, whether Temporal keeps it in a SQLite file or in PostgreSQL.
// Only the dev stack (internal/devstack, behind `tidings dev`) and tests
// import this package; production points the worker and API at a Temporal
// cluster instead.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/membership/static"
	"go.temporal.io/server/common/primitives"
	"go.temporal.io/server/temporal"
)

// Persistence options.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Ports and defaults.
const (
	DefaultFrontendPort = 7233
	DefaultNamespace    = "default"
	DefaultRetention    = 7 * 24 * time.Hour
	DefaultDataDir      = ".tidings"
	// AnyPort asks for a free port chosen by the system (tests, parallel runs).
	AnyPort = -1
)

// Options configure Start. The zero value plus a Logger runs SQLite in
// .tidings/temporal.db on 127.0.0.1:7233 without the web UI.
type Options struct {
	// DataDir holds the SQLite files (temporal.db and
	// temporal-visibility.db); created if missing.
	DataDir string
	// Persistence is SQLite (default) or Postgres.
	Persistence string
	// PostgresURL is a PostgreSQL URL (the app's own is fine). Temporal keeps
	// its data beside it in two databases named after the URL's database:
	// <db>_temporal and <db>_temporal_visibility, created and migrated with
	// Temporal's embedded schema when missing.
	PostgresURL string
	// FrontendPort is the gRPC port clients dial: 0 means 7233, AnyPort a
	// free one.
	FrontendPort int
	// UIPort serves the Temporal Web UI: 0 means no UI, AnyPort a free one.
	UIPort int
	// Namespace is registered on start if missing (default "default").
	Namespace string
	// Retention is how long closed workflows stay visible (default 7 days).
	Retention time.Duration
	// Logger receives the server's warnings and errors; it is required.
	Logger *slog.Logger
}

func (o *Options) defaults() error {
	if o.Logger == nil {
		return errors.New("devserver: Logger is required")
	}
	if o.DataDir == "" {
		o.DataDir = DefaultDataDir
	}
	switch o.Persistence {
	case "":
		o.Persistence = SQLite
	case SQLite:
	case Postgres:
		if o.PostgresURL == "" {
			return errors.New("devserver: PostgresURL is required with postgres persistence")
		}
	default:
		return fmt.Errorf("devserver: persistence %q: must be %q or %q", o.Persistence, SQLite, Postgres)
	}
	if o.FrontendPort == 0 {
		o.FrontendPort = DefaultFrontendPort
	}
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	return nil
}

// Server is a running embedded Temporal server.
type Server struct {
	temporal    temporal.Server
	ui          *UI
	frontend    string
	namespace   string
	persistence string
	log         *slog.Logger
	tlog        temporalLogger
}

// localhost is where every service listens: the dev server is never meant
// to be reachable from other machines.
const localhost = "127.0.0.1"

// Start prepares persistence (schema, namespace), starts the frontend,
// history, matching and worker services in-process, waits until the
// frontend answers, and starts the web UI when asked. ctx bounds start-up
// only; call Stop to shut down.
func Start(ctx context.Context, opt Options) (*Server, error) {
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	tlog := newTemporalLogger(opt.Logger)
	ports, err := pickPorts(opt.FrontendPort, 5)
	if err != nil {
		return nil, err
	}
	frontend := net.JoinHostPort(localhost, strconv.Itoa(ports[0]))

	var st stores
	switch opt.Persistence {
	case SQLite:
		if err := os.MkdirAll(opt.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
		st, err = prepareSQLite(opt.DataDir)
	case Postgres:
		st, err = preparePostgres(ctx, opt.PostgresURL, tlog)
	}
	if err != nil {
		return nil, err
	}
	if err := createNamespace(st.main, opt.Namespace, opt.Retention); err != nil {
		return nil, err
	}

	cfg := serverConfig(st, ports)
	authorizer, err := authorization.GetAuthorizerFromConfig(&cfg.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("temporal authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&cfg.Global.Authorization, tlog)
	if err != nil {
		return nil, fmt.Errorf("temporal claim mapper: %w", err)
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(cfg),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(staticHosts(cfg)),
		temporal.WithLogger(tlog),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dynamicConfig()),
	)
	if err != nil {
		return nil, fmt.Errorf("build temporal server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("start temporal server: %w", err)
	}
	s := &Server{temporal: srv, frontend: frontend, namespace: opt.Namespace, persistence: opt.Persistence, log: opt.Logger, tlog: tlog}
	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	if opt.UIPort != 0 {
		if s.ui, err = StartUI(s.frontend, s.namespace, opt.UIPort); err != nil {
			s.Stop()
			return nil, err
		}
	}
	return s, nil
}

// FrontendHostPort is the address clients dial (client.Options.HostPort).
func (s *Server) FrontendHostPort() string { return s.frontend }

// Namespace is the namespace Start registered.
func (s *Server) Namespace() string { return s.namespace }

// ClientOptions are the options for a client of this server: its address
// and namespace, without gRPC compression. The server runs in this process,
// so gzipping every request and response spends CPU (a tenth of what
// routing an event costs) to save bytes that never leave the machine.
// Callers add their logger and metrics.
func (s *Server) ClientOptions() client.Options {
	return client.Options{
		HostPort: s.frontend, Namespace: s.namespace,
		ConnectionOptions: client.ConnectionOptions{GrpcCompression: &client.GrpcCompressionNone{}},
	}
}

// Persistence is SQLite or Postgres.
func (s *Server) Persistence() string { return s.persistence }

// UIURL is the web UI's address, or "" when it is not served.
func (s *Server) UIURL() string {
	if s.ui == nil {
		return ""
	}
	return s.ui.URL()
}

// Stop shuts the UI and the server down; state stays in persistence.
func (s *Server) Stop() {
	if s.ui != nil {
		s.ui.Stop()
		s.ui = nil
	}
	if s.temporal != nil {
		s.tlog.stopping.Store(true)
		if err := s.temporal.Stop(); err != nil {
			s.log.Warn("stop temporal server", "err", err)
		}
		s.temporal = nil
	}
}

// waitReady dials the frontend until it answers a health check in the
// namespace, so callers can start workers and workflows right away.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var last error
	for {
		o := s.ClientOptions()
		o.Logger = quietSDKLogger{}
		c, err := client.DialContext(ctx, o)
		if err == nil {
			_, err = c.WorkflowService().DescribeNamespace(ctx, describeNamespace(s.namespace))
			c.Close()
			if err == nil {
				return nil
			}
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("temporal frontend %s not ready: %w", s.frontend, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// pickPorts returns n ports: first (or a free one for AnyPort), then free
// ones for the internal services. Checking first now gives a clear error
// instead of a failure deep inside the server.
func pickPorts(first, n int) ([]int, error) {
	ports := make([]int, 0, n)
	if first != AnyPort {
		ln, err := net.Listen("tcp", net.JoinHostPort(localhost, strconv.Itoa(first)))
		if err != nil {
			return nil, fmt.Errorf("temporal frontend port %d is not free (is another Temporal server running?): %w", first, err)
		}
		_ = ln.Close()
		ports = append(ports, first)
	}
	for len(ports) < n {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		ports = append(ports, p)
	}
	return ports, nil
}

// Ports for the internal services are drawn from below the kernel's
// ephemeral range (32768 and up on Linux). A port the kernel hands out for
// ":0" is closed again before the server binds it, and in that moment any
// outgoing connection (to PostgreSQL, say) may take it as its local port;
// ports in this range are never given to outgoing connections.
const (
	portsFrom = 20000
	portsTo   = 32000
)

func freePort() (int, error) {
	for range 100 {
		p := portsFrom + rand.IntN(portsTo-portsFrom)
		ln, err := net.Listen("tcp", net.JoinHostPort(localhost, strconv.Itoa(p)))
		if err == nil {
			_ = ln.Close()
			return p, nil
		}
	}
	ln, err := net.Listen("tcp", localhost+":0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func staticHosts(cfg *config.Config) map[primitives.ServiceName]static.Hosts {
	hosts := map[primitives.ServiceName]static.Hosts{}
	for name, svc := range cfg.Services {
		hosts[primitives.ServiceName(name)] = static.SingleLocalHost(net.JoinHostPort(localhost, strconv.Itoa(svc.RPC.GRPCPort)))
	}
	return hosts
}
