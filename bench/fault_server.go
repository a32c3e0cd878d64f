package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// readyTimeout bounds how long a server may take to become ready when
// nothing keeps it from it.
const readyTimeout = time.Minute

// pgSchema is a fresh PostgreSQL schema for one scenario's server.
type pgSchema struct {
	base *url.URL // the database the schema lives in
	name string
}

// createSchema makes a schema with a new name in the database at base.
func createSchema(ctx context.Context, base string) (*pgSchema, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("bench: -postgres: %w", err)
	}
	tag := make([]byte, 4)
	rand.Read(tag)
	s := &pgSchema{base: u, name: fmt.Sprintf("bench_fault_%d_%s", os.Getpid(), hex.EncodeToString(tag))}
	return s, s.exec(ctx, `CREATE SCHEMA "`+s.name+`"`)
}

// url is the database URL of the schema, reached through host (a proxy's
// address) when host is not empty.
func (s *pgSchema) url(host string) string {
	u := *s.base
	if host != "" {
		u.Host = host
	}
	q := u.Query()
	q.Set("search_path", s.name)
	u.RawQuery = q.Encode()
	return u.String()
}

func (s *pgSchema) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.base.String())
	if err != nil {
		return fmt.Errorf("bench: connect to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("bench: %s: %w", sql, err)
	}
	return nil
}

// count runs a query in the schema that returns one integer.
func (s *pgSchema) count(ctx context.Context, query string) (int, error) {
	conn, err := pgx.Connect(ctx, s.url(""))
	if err != nil {
		return 0, fmt.Errorf("bench: connect to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	var n int
	err = conn.QueryRow(ctx, query).Scan(&n)
	return n, err
}

func (s *pgSchema) drop(ctx context.Context) error {
	return s.exec(ctx, `DROP SCHEMA IF EXISTS "`+s.name+`" CASCADE`)
}

// server is `gatehouse serve` run as its own process, configured through
// GATEHOUSE_* variables as bench/run.sh does. Each start writes its own
// log, server-1.log, server-2.log… in dir.
type server struct {
	bin, dir, url string
	adminURL      string // the admin listener, which serves /metrics
	env           []string
	rt            *http.Transport

	cmd     *exec.Cmd
	starts  int
	log     string        // the current log file
	exited  chan struct{} // closed when the current process has exited
	exitErr error         // set before exited is closed
}

// newServer prepares a server on a free loopback port with its files in
// dir, using databaseURL; settings are extra GATEHOUSE_*=value entries.
func newServer(bin, dir, databaseURL string, settings ...string) (*server, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	adminAddr, err := freePort()
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	rand.Read(key)
	s := &server{bin: bin, dir: dir, url: "http://" + addr, adminURL: "http://" + adminAddr, rt: newTransport(16)}
	s.env = append(os.Environ(),
		"GATEHOUSE_ISSUER="+s.url,
		"GATEHOUSE_LISTEN="+addr,
		"GATEHOUSE_ADMIN_LISTEN="+adminAddr,
		"GATEHOUSE_DATABASE_URL="+databaseURL,
		"GATEHOUSE_DATA_DIR="+dir,
		"GATEHOUSE_MASTER_KEY="+base64.StdEncoding.EncodeToString(key),
		"GATEHOUSE_LOG_LEVEL=info",
		"GATEHOUSE_LOG_FORMAT=json",
		// One load generator on one address: lift the per-client and
		// per-address limits, which would otherwise be what is measured.
		"GATEHOUSE_RATE_LIMITS_TOKEN_PER_CLIENT=1000000/1s",
		"GATEHOUSE_RATE_LIMITS_TOKEN_PER_IP=1000000/1s",
		"GATEHOUSE_RATE_LIMITS_LOGIN_PER_IP=1000000/1s",
		"GATEHOUSE_RATE_LIMITS_REGISTRATION_PER_IP=1000000/1s",
		"GATEHOUSE_RATE_LIMITS_PASSWORD_RESET_PER_IP=1000000/1s",
		"GATEHOUSE_CAPTCHA_PROVIDER=off",
	)
	s.env = append(s.env, settings...)
	return s, nil
}

// freePort returns a loopback address nothing listens on now; another
// process may take it before the server does.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// start runs a new server process; it does not wait for it to listen.
func (s *server) start() error {
	s.starts++
	s.log = filepath.Join(s.dir, "server-"+strconv.Itoa(s.starts)+".log")
	f, err := os.Create(s.log)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, "serve")
	cmd.Env, cmd.Stdout, cmd.Stderr = s.env, f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("bench: start gatehouse: %w", err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func() {
		err := cmd.Wait()
		f.Close()
		s.exitErr = err
		close(s.exited)
	}()
	return nil
}

// running reports whether the current process has not exited.
func (s *server) running() bool {
	if s.exited == nil {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// exitCode is the exit status of the process that has exited; -1 when it
// was killed by a signal.
func (s *server) exitCode() int { return s.cmd.ProcessState.ExitCode() }

// waitExit waits at most limit for the process to exit and reports
// whether it did.
func (s *server) waitExit(limit time.Duration) bool {
	select {
	case <-s.exited:
		return true
	case <-time.After(limit):
		return false
	}
}

// signal sends sig to the process.
func (s *server) signal(sig syscall.Signal) error { return s.cmd.Process.Signal(sig) }

// stop ends the process, if it still runs: SIGTERM, and SIGKILL if it has
// not exited 30 s later.
func (s *server) stop() {
	if !s.running() {
		return
	}
	s.signal(syscall.SIGTERM)
	if !s.waitExit(30 * time.Second) {
		s.signal(syscall.SIGKILL)
		<-s.exited
	}
}

// get fetches path and returns the status and up to 64 KiB of the body.
func (s *server) get(ctx context.Context, path string) (int, []byte, error) {
	return s.do(ctx, http.MethodGet, path, nil, nil)
}

// do sends one request and returns the status and up to 64 KiB of the
// body.
func (s *server) do(ctx context.Context, method, path string, header http.Header, body io.Reader) (int, []byte, error) {
	return s.doURL(ctx, method, s.url+path, header, body)
}

// doURL is do with a full URL, for the admin listener.
func (s *server) doURL(ctx context.Context, method, target string, header http.Header, body io.Reader) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return 0, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := s.rt.RoundTrip(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, b, err
}

// readyStatus returns the status of /readyz and the reason it gives.
func (s *server) readyStatus(ctx context.Context) (int, string) {
	code, body, err := s.get(ctx, "/readyz")
	if err != nil {
		return 0, err.Error()
	}
	var r struct {
		Status string `json:"status"`
	}
	json.Unmarshal(body, &r)
	return code, r.Status
}

// errExited is returned by the waits when the process is gone.
var errExited = errors.New("bench: gatehouse exited")

// waitFor polls every 10 ms until cond holds, the process exits or limit
// passes; it returns how long it took.
func (s *server) waitFor(ctx context.Context, limit time.Duration, what string, cond func() bool) (time.Duration, error) {
	start := time.Now()
	for !cond() {
		if !s.running() {
			return time.Since(start), fmt.Errorf("%w (status %d) before %s; the end of its log:\n%s", errExited, s.exitCode(), what, s.logTail(15))
		}
		if time.Since(start) > limit {
			return time.Since(start), fmt.Errorf("bench: gatehouse not %s after %s", what, limit)
		}
		select {
		case <-ctx.Done():
			return time.Since(start), ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return time.Since(start), nil
}

// startReady starts the process and waits until /readyz answers 200.
func (s *server) startReady(ctx context.Context) error {
	if err := s.start(); err != nil {
		return err
	}
	_, err := s.waitFor(ctx, readyTimeout, "ready", func() bool {
		code, _ := s.readyStatus(ctx)
		return code == http.StatusOK
	})
	return err
}

// inFlight returns gatehouse_http_requests_in_flight from the admin
// listener's /metrics (where the scrape does not count itself); -1 when
// it cannot be read.
func (s *server) inFlight(ctx context.Context) int {
	code, body, err := s.doURL(ctx, http.MethodGet, s.adminURL+"/metrics", nil, nil)
	if err != nil || code != http.StatusOK {
		return -1
	}
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "gatehouse_http_requests_in_flight "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return -1
			}
			return int(n)
		}
	}
	return -1
}

// cli runs a gatehouse subcommand with the server's settings and returns
// its standard output.
func (s *server) cli(ctx context.Context, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Env, cmd.Stdin = s.env, strings.NewReader(stdin)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("bench: gatehouse %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// createClient runs `gatehouse clients create` with args and returns the
// client ID and secret (empty for a public client).
func (s *server) createClient(ctx context.Context, args ...string) (id, secret string, err error) {
	out, err := s.cli(ctx, "", append([]string{"clients", "create"}, args...)...)
	if err != nil {
		return "", "", err
	}
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "client_id:":
			id = f[1]
		case len(f) == 2 && f[0] == "client_secret:":
			secret = f[1]
		}
	}
	if id == "" {
		return "", "", errors.New("bench: no client_id in the output of `gatehouse clients create`")
	}
	return id, secret, nil
}

// createUser creates a user with a verified address login@bench.example.com.
func (s *server) createUser(ctx context.Context, login string) error {
	_, err := s.cli(ctx, floodPassword+"\n", "users", "create", "--username", login,
		"--email", login+"@bench.example.com", "--email-verified")
	return err
}

// logLines returns the structured lines of every log of the server.
func (s *server) logLines() []map[string]any {
	var out []map[string]any
	for i := 1; i <= s.starts; i++ {
		f, err := os.Open(filepath.Join(s.dir, "server-"+strconv.Itoa(i)+".log"))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) == nil {
				out = append(out, rec)
			}
		}
		f.Close()
	}
	return out
}

// logCount counts the log lines whose message contains msg.
func (s *server) logCount(msg string) int {
	n := 0
	for _, rec := range s.logLines() {
		if m, _ := rec["msg"].(string); strings.Contains(m, msg) {
			n++
		}
	}
	return n
}

// warnings counts the log lines at WARN and ERROR by message, leaving out
// the development e-mail delivery that registration sets off.
func (s *server) warnings() map[string]int {
	counts := map[string]int{}
	for _, rec := range s.logLines() {
		level, _ := rec["level"].(string)
		msg, _ := rec["msg"].(string)
		if (level == "WARN" || level == "ERROR") && !strings.Contains(msg, "DEVELOPMENT DELIVERY") &&
			!strings.Contains(msg, "no SMTP server configured") && !strings.Contains(msg, "no SMS provider configured") {
			counts[level+" "+msg]++
		}
	}
	return counts
}

// logTail returns the last n lines of the current log.
func (s *server) logTail(n int) string {
	b, err := os.ReadFile(s.log)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
