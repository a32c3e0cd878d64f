package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"gatehouse/config"
	"gatehouse/identity"
)

// runMainEnv makes the test binary run main instead of the tests, so that
// a test can start the real command as a process and send it signals.
const runMainEnv = "GATEHOUSE_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		return
	}
	useTestParams()
	code := m.Run()
	stopChromium()
	os.Exit(code)
}

// outputBuffer collects a process's output and wakes those waiting for a
// line.
type outputBuffer struct {
	mu   sync.Mutex
	cond *sync.Cond
	buf  bytes.Buffer
}

func newOutputBuffer() *outputBuffer {
	b := &outputBuffer{}
	b.cond = sync.NewCond(&b.mu)
	return b
}

func (b *outputBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cond.Broadcast()
	return b.buf.Write(p)
}

func (b *outputBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor blocks until the output holds s, or the process ended.
func (b *outputBuffer) waitFor(s string, ended <-chan struct{}) bool {
	go func() { <-ended; b.mu.Lock(); b.cond.Broadcast(); b.mu.Unlock() }()
	b.mu.Lock()
	defer b.mu.Unlock()
	for !strings.Contains(b.buf.String(), s) {
		select {
		case <-ended:
			return strings.Contains(b.buf.String(), s)
		default:
		}
		b.cond.Wait()
	}
	return true
}

// process is `gatehouse serve` running as its own process.
type process struct {
	URL      string
	AdminURL string // the admin listener's; empty when it is off
	Config   *config.Config
	cmd      *exec.Cmd
	stderr   *outputBuffer
	ended    chan struct{}
	err      error // set when ended is closed
}

// processConfig is a configuration for a server process on a free
// loopback port, its admin listener on another, with databaseURL.
func processConfig(t testing.TB, databaseURL string) *config.Config {
	t.Helper()
	addr, adminAddr := freePort(t), freePort(t)
	key := make([]byte, 32)
	rand.Read(key)
	cfg := config.Default()
	cfg.Issuer, cfg.Listen, cfg.AdminListen, cfg.DataDir = "http://"+addr, addr, adminAddr, t.TempDir()
	cfg.Database.URL = config.Secret(databaseURL)
	cfg.MasterKey = config.Secret(base64.StdEncoding.EncodeToString(key))
	return cfg
}

// freePort returns a loopback address nothing listens on now; another
// process may take it before the server does.
func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// migrateAndCreateUser prepares the database of cfg with one user.
func migrateAndCreateUser(t testing.TB, cfg *config.Config, username string) {
	t.Helper()
	a, err := openStorage(t.Context(), cfg, slog.New(slog.DiscardHandler), true)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Identity.Accounts.CreateUser(t.Context(), identity.CreateInput{
		Username: username, Email: username + "@example.com", Password: testUserPassword, EmailVerified: true,
	}); err != nil {
		t.Fatal(err)
	}
}

// startProcess runs `gatehouse serve` with cfg and waits until it is
// ready.
func startProcess(t testing.TB, cfg *config.Config) *process {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	raw, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(cfg.DataDir, "gatehouse.yaml")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	p := &process{URL: cfg.Issuer, Config: cfg, stderr: newOutputBuffer(), ended: make(chan struct{})}
	if cfg.AdminListen != "" {
		p.AdminURL = "http://" + cfg.AdminListen
	}
	p.cmd = exec.Command(os.Args[0], "serve", "--config", path)
	p.cmd.Env = append(os.Environ(), runMainEnv+"=1")
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.ended) }()
	t.Cleanup(func() {
		select {
		case <-p.ended:
		default:
			p.cmd.Process.Kill()
			<-p.ended
		}
	})
	if !p.stderr.waitFor(`"msg":"gatehouse ready"`, p.ended) {
		t.Fatalf("the server did not become ready: %v\n%s", p.err, p.stderr.String())
	}
	return p
}

// stop sends SIGTERM and returns the exit code and how long the process
// took to exit. A process that outlives limit is killed and fails t.
func (p *process) stop(t testing.TB, limit time.Duration) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	select {
	case <-p.ended:
	case <-ctx.Done():
		p.cmd.Process.Kill()
		<-p.ended
		t.Fatalf("still running %s after SIGTERM:\n%s", limit, p.stderr.String())
	}
	return p.cmd.ProcessState.ExitCode(), time.Since(start)
}
