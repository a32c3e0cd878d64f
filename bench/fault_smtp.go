package main

import (
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// sinkMode is what the SMTP sink does with a connection.
type sinkMode int

const (
	// sinkAccept takes every message.
	sinkAccept sinkMode = iota
	// sinkClose closes every connection as soon as it is made, before
	// the greeting: the mail server is gone.
	sinkClose
	// sinkBusy greets every connection with 421 and closes it (RFC 5321
	// §3.8: the server is not available); a session already open gets 421
	// at its next MAIL command.
	sinkBusy
)

// refusalModes names the modes that refuse, for the -smtp-refuse flag.
var refusalModes = map[string]sinkMode{"close": sinkClose, "busy": sinkBusy}

// parseRefusal returns the refusing mode named s.
func parseRefusal(s string) (sinkMode, error) {
	m, ok := refusalModes[s]
	if !ok {
		return 0, fmt.Errorf("bench: SMTP refusal %q: want close or busy", s)
	}
	return m, nil
}

// sunkMail is one message the sink took: the envelope recipient, the
// decoded subject and when it arrived.
type sunkMail struct {
	to, subject string
	at          time.Time
}

// smtpSink is a small SMTP server on loopback whose mode a fault scenario
// switches between accepting and refusing. It keeps what it accepts and
// counts what it refuses.
type smtpSink struct {
	addr string
	srv  *smtp.Server
	now  func() time.Time

	mu      sync.Mutex
	mode    sinkMode
	refused int
	mails   []sunkMail
}

// startSMTPSink listens on a free loopback port in mode.
func startSMTPSink(mode sinkMode) (*smtpSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench: SMTP sink: %w", err)
	}
	s := &smtpSink{addr: ln.Addr().String(), mode: mode, now: time.Now}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{sink: s}, nil }))
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout, s.srv.WriteTimeout = 10*time.Second, 10*time.Second
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	go s.srv.Serve(&sinkListener{Listener: ln, sink: s})
	return s, nil
}

// set switches the mode for the connections and commands that follow.
func (s *smtpSink) set(m sinkMode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode = m
}

// refuse reports whether the sink refuses now, and counts the refusal.
func (s *smtpSink) refuse() (sinkMode, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mode == sinkAccept {
		return s.mode, false
	}
	s.refused++
	return s.mode, true
}

// refusals is how many connections and sessions the sink has refused.
func (s *smtpSink) refusals() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// received returns the messages taken so far whose subject contains
// subject, in the order they arrived.
func (s *smtpSink) received(subject string) []sunkMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []sunkMail
	for _, m := range s.mails {
		if strings.Contains(m.subject, subject) {
			out = append(out, m)
		}
	}
	return out
}

func (s *smtpSink) close() { s.srv.Close() }

// sinkListener hands the SMTP server only the connections the sink
// accepts; the others it closes, after a 421 greeting in sinkBusy.
type sinkListener struct {
	net.Listener
	sink *smtpSink
}

func (l *sinkListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		mode, refused := l.sink.refuse()
		if !refused {
			return c, nil
		}
		if mode == sinkBusy {
			c.SetWriteDeadline(time.Now().Add(time.Second))
			io.WriteString(c, "421 4.3.2 localhost Service not available, closing transmission channel\r\n")
		}
		c.Close()
	}
}

// sinkSession is one SMTP session of the sink.
type sinkSession struct {
	sink *smtpSink
	to   []string
}

var errSinkBusy = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Service not available"}

// Mail refuses with 421 when the sink stopped accepting after the session
// began.
func (s *sinkSession) Mail(string, *smtp.MailOptions) error {
	if _, refused := s.sink.refuse(); refused {
		return errSinkBusy
	}
	return nil
}

func (s *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *sinkSession) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, msg.Body); err != nil {
		return err
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		subject = msg.Header.Get("Subject")
	}
	s.sink.mu.Lock()
	defer s.sink.mu.Unlock()
	at := s.sink.now()
	for _, to := range s.to {
		s.sink.mails = append(s.sink.mails, sunkMail{to: to, subject: subject, at: at})
	}
	return nil
}

func (s *sinkSession) Reset()        { s.to = nil }
func (s *sinkSession) Logout() error { return nil }
