package devserver

import (
	"fmt"
	"net"
	"strconv"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uioptions "github.com/temporalio/ui-server/v2/server/server_options"
)

// UI is the Temporal Web UI served on localhost for a frontend: the
// embedded server's, or in tests any Temporal server's, so links into it
// can be followed.
type UI struct {
	srv  *uiserver.Server
	addr string
	done chan error
}

// StartUI serves the Web UI on port (AnyPort: a free one) for the
// frontend at host:port, opening on namespace.
func StartUI(frontend, namespace string, port int) (*UI, error) {
	ports, err := pickPorts(port, 1)
	if err != nil {
		return nil, fmt.Errorf("temporal web ui: %w", err)
	}
	// The UI server exits the process when it cannot listen, so the port
	// was checked above; what remains is a race with another program.
	u := &UI{addr: net.JoinHostPort(localhost, strconv.Itoa(ports[0])), done: make(chan error, 1)}
	u.srv = uiserver.NewServer(uioptions.WithConfigProvider(&uiconfig.Config{
		Host:                localhost,
		Port:                ports[0],
		TemporalGRPCAddress: frontend,
		EnableUI:            true,
		DefaultNamespace:    namespace,
		CORS:                uiconfig.CORS{CookieInsecure: true}, // plain http on localhost
		HideLogs:            true,
		DisableNewsFetch:    true,
	}))
	go func() { u.done <- u.srv.Start() }()
	return u, nil
}

// URL is the UI's base address.
func (u *UI) URL() string { return "http://" + u.addr }

// Stop shuts the UI down.
func (u *UI) Stop() {
	u.srv.Stop()
	<-u.done
}
