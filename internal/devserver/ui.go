package devserver

import (
	"fmt"
	"net"
	"strconv"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uioptions "github.com/temporalio/ui-server/v2/server/server_options"
)

// startUI serves the Temporal Web UI on port (AnyPort: a free one) for the
// embedded frontend, opening on our namespace.
func (s *Server) startUI(port int) error {
	ports, err := pickPorts(port, 1)
	if err != nil {
		return fmt.Errorf("temporal web ui: %w", err)
	}
	// The UI server exits the process when it cannot listen, so the port
	// was checked above; what remains is a race with another program.
	s.ui = uiserver.NewServer(uioptions.WithConfigProvider(&uiconfig.Config{
		Host:                localhost,
		Port:                ports[0],
		TemporalGRPCAddress: s.frontend,
		EnableUI:            true,
		DefaultNamespace:    s.namespace,
		CORS:                uiconfig.CORS{CookieInsecure: true}, // plain http on localhost
		HideLogs:            true,
		DisableNewsFetch:    true,
	}))
	s.uiAddr = net.JoinHostPort(localhost, strconv.Itoa(ports[0]))
	s.uiDone = make(chan error, 1)
	go func() { s.uiDone <- s.ui.Start() }()
	return nil
}
