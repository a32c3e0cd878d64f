package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// The smtp-outage fault scenario. The server under test sends mail to
// -smtp-listen, where nothing listens for -outage: connections are
// refused, as when the mail server is down. Meanwhile the scenario asks
// for a password reset for each of -users accounts (-user-prefix plus
// 0, 1, …, each with the address <name>@bench.test), spread evenly over
// the outage. Then it starts an SMTP server on -smtp-listen that accepts
// everything and measures how long after that each reset mail arrives.

// outageResult is what the smtp-outage scenario measured.
type outageResult struct {
	Scenario     string  `json:"scenario"`
	OutageS      float64 `json:"outage_s"`
	Acknowledged int     `json:"acknowledged"`
	Delivered    int     `json:"delivered"`
	FirstS       float64 `json:"first_after_recovery_s"`
	MedianS      float64 `json:"median_after_recovery_s"`
	LastS        float64 `json:"last_after_recovery_s"`
}

// outageWait bounds how long the scenario waits for the mail after the
// outage: twice the longest backoff before the retry schedule was fixed.
const outageWait = 10 * time.Minute

func runSMTPOutage(ctx context.Context, rt http.RoundTripper, o options, stdout io.Writer) error {
	host, _, err := net.SplitHostPort(o.smtpListen)
	if err != nil || !isLoopbackHost(host) {
		return fmt.Errorf("bench: -smtp-listen %q: want a loopback host:port", o.smtpListen)
	}
	mb := &benchMailbox{arrived: map[string]time.Time{}, changed: make(chan struct{}, 1)}
	want, err := requestResetsDuring(ctx, rt, o)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.smtpListen)
	if err != nil {
		return fmt.Errorf("bench: smtp listener: %w", err)
	}
	srv := smtp.NewServer(mb)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	back := time.Now()
	go srv.Serve(ln)
	defer srv.Close()

	res := outageResult{Scenario: o.scenario, OutageS: o.outage.Seconds(), Acknowledged: len(want)}
	arrived := mb.await(ctx, want, outageWait)
	var after []float64
	for _, addr := range want {
		if at, ok := arrived[addr]; ok {
			after = append(after, at.Sub(back).Seconds())
		}
	}
	slices.Sort(after)
	res.Delivered = len(after)
	if n := len(after); n > 0 {
		res.FirstS, res.MedianS, res.LastS = after[0], after[n/2], after[n-1]
	}
	if o.json {
		if err := json.NewEncoder(stdout).Encode(res); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "smtp-outage: SMTP server down %v, %d reset mails acknowledged meanwhile, %d delivered; after it came back: first %.1fs, median %.1fs, last %.1fs\n",
			o.outage, res.Acknowledged, res.Delivered, res.FirstS, res.MedianS, res.LastS)
	}
	if res.Delivered < res.Acknowledged {
		return fmt.Errorf("bench: %d acknowledged reset mails not delivered within %v of the SMTP server's return", res.Acknowledged-res.Delivered, outageWait)
	}
	return nil
}

// requestResetsDuring asks for one reset per user, spread over o.outage,
// and returns the addresses whose request was acknowledged.
func requestResetsDuring(ctx context.Context, rt http.RoundTripper, o options) ([]string, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	c := &http.Client{Transport: rt, Jar: jar, Timeout: 30 * time.Second}
	start := time.Now()
	var want []string
	for i := range o.users {
		at := start.Add(o.outage * time.Duration(i) / time.Duration(o.users))
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Until(at)):
		}
		name := fmt.Sprintf("%s%d", o.userPrefix, i)
		if err := requestReset(ctx, c, o.base, name); err != nil {
			return nil, fmt.Errorf("bench: reset for %s: %w", name, err)
		}
		want = append(want, name+"@bench.test")
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(time.Until(start.Add(o.outage))):
	}
	return want, nil
}

// requestReset fills in the forgot-password form as a browser would.
func requestReset(ctx context.Context, c *http.Client, base, login string) error {
	page, err := fetch(ctx, c, http.MethodGet, base+"/forgot-password", nil)
	if err != nil {
		return err
	}
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		return errors.New("no CSRF field on the forgot-password page")
	}
	form := url.Values{"csrf": {m[1]}, "login": {login}}
	answer, err := fetch(ctx, c, http.MethodPost, base+"/forgot-password", form)
	if err != nil {
		return err
	}
	if !strings.Contains(answer, `id="notice"`) {
		return fmt.Errorf("not acknowledged: %s", truncate([]byte(answer)))
	}
	return nil
}

func fetch(ctx context.Context, c *http.Client, method, u string, form url.Values) (string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s %s: status %d: %s", method, u, resp.StatusCode, truncate(b))
	}
	return string(b), nil
}

// benchMailbox is an SMTP backend that notes when mail for each
// recipient first arrived.
type benchMailbox struct {
	mu      sync.Mutex
	arrived map[string]time.Time
	changed chan struct{}
}

func (mb *benchMailbox) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &benchSession{mb: mb}, nil
}

// await returns the arrival times once every address in want has mail,
// or when limit has passed or ctx ends.
func (mb *benchMailbox) await(ctx context.Context, want []string, limit time.Duration) map[string]time.Time {
	deadline := time.After(limit)
	for {
		mb.mu.Lock()
		done := true
		for _, a := range want {
			if _, ok := mb.arrived[a]; !ok {
				done = false
				break
			}
		}
		out := make(map[string]time.Time, len(mb.arrived))
		for k, v := range mb.arrived {
			out[k] = v
		}
		mb.mu.Unlock()
		if done {
			return out
		}
		select {
		case <-mb.changed:
		case <-deadline:
			return out
		case <-ctx.Done():
			return out
		}
	}
}

type benchSession struct {
	mb *benchMailbox
	to []string
}

func (s *benchSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *benchSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, strings.ToLower(to))
	return nil
}
func (s *benchSession) Reset()        { s.to = nil }
func (s *benchSession) Logout() error { return nil }

func (s *benchSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	now := time.Now()
	s.mb.mu.Lock()
	for _, to := range s.to {
		if _, ok := s.mb.arrived[to]; !ok {
			s.mb.arrived[to] = now
		}
	}
	s.mb.mu.Unlock()
	select {
	case s.mb.changed <- struct{}{}:
	default:
	}
	return nil
}
