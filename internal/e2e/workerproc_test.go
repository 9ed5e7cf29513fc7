package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/templates"
	"github.com/tidingsdev/tidings/worker"
)

// workerProcessEnv, when set in the environment of the test binary, makes
// it run one worker (configured by the variable's JSON) instead of the
// tests: a process of its own that a test can SIGKILL, as production
// loses a machine.
const workerProcessEnv = "TIDINGS_E2E_WORKER_PROCESS"

// workerProcess configures a worker process.
type workerProcess struct {
	Send        sendConfig    `json:"send"`
	DSN         string        `json:"dsn"`
	Frontend    string        `json:"frontend"`
	Namespace   string        `json:"namespace"`
	Queue       string        `json:"queue"`
	StopTimeout time.Duration `json:"stop_timeout"`
}

// workerReady is the line a worker process prints once it polls.
const workerReady = "worker polling"

func runWorkerProcess(raw string) int {
	var cfg workerProcess
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "worker process:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	err := func() error {
		st, err := store.Open(ctx, cfg.DSN)
		if err != nil {
			return err
		}
		defer st.Close()
		set, err := templates.Load(templates.Options{DefaultLocale: "en"})
		if err != nil {
			return err
		}
		send, closeSend, err := cfg.Send.build(st, set, nil)
		if err != nil {
			return err
		}
		defer closeSend()
		c, err := client.Dial(client.Options{HostPort: cfg.Frontend, Namespace: cfg.Namespace,
			Logger: log.NewStructuredLogger(slog.New(slog.DiscardHandler))})
		if err != nil {
			return err
		}
		defer c.Close()
		w, err := worker.New(c, worker.Deps{Store: st, Sender: send, Settings: workerSettings(), Register: worker.Campaigns(st, st.Pool(), send)},
			worker.Options{TaskQueue: cfg.Queue, StopTimeout: cfg.StopTimeout})
		if err != nil {
			return err
		}
		go func() {
			time.Sleep(500 * time.Millisecond) // Run has started the pollers by then
			fmt.Println(workerReady)
		}()
		return w.Run(ctx)
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker process:", err)
		return 1
	}
	return 0
}

// workerProc is a running worker process.
type workerProc struct {
	cmd *exec.Cmd
	// exited is closed once the process has exited.
	exited chan struct{}
}

// signal sends sig to the process.
func (p *workerProc) signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// startWorkerProcess runs a worker on the environment's task queue in a
// process of its own (this test binary, run again) and returns it once it
// polls. The test may SIGKILL or SIGTERM it; it is killed when the test
// ends.
func (e *env) startWorkerProcess(stopTimeout time.Duration) *workerProc {
	e.t.Helper()
	cfg, err := json.Marshal(workerProcess{
		Send: e.sendConfig(), DSN: e.dsn, Frontend: temporal.GetFrontendHostPort(), Namespace: temporal.GetDefaultNamespace(),
		Queue: e.queue, StopTimeout: stopTimeout,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), workerProcessEnv+"="+string(cfg))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	exited := make(chan struct{})
	e.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		seen := false
		for sc.Scan() {
			if !seen && sc.Text() == workerReady {
				seen = true
				ready <- true
			}
		}
		if !seen {
			ready <- false
		}
		_ = cmd.Wait()
		close(exited)
	}()
	select {
	case ok := <-ready:
		if !ok {
			e.t.Fatalf("worker process exited before polling: %s", stderr.String())
		}
	case <-time.After(wait):
		e.t.Fatalf("worker process not polling after %s: %s", wait, stderr.String())
	}
	return &workerProc{cmd: cmd, exited: exited}
}
