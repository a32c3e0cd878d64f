package main

import (
	"io"
	"log"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// mailbox is a real SMTP server on 127.0.0.1 that keeps what it receives,
// so tests read the messages Gatehouse actually sent.
type mailbox struct {
	Addr     string
	received chan receivedMail
}

// receivedMail is one delivered message, decoded.
type receivedMail struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

func startMailbox(t testing.TB) *mailbox {
	t.Helper()
	mb := &mailbox{received: make(chan receivedMail, 64)}
	srv := smtp.NewServer(mb)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	mb.Addr = ln.Addr().String()
	return mb
}

// NewSession implements smtp.Backend.
func (mb *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{mb: mb}, nil }

type mailSession struct {
	mb *mailbox
	to []string
}

func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *mailSession) Reset()        { s.to = nil }
func (s *mailSession) Logout() error { return nil }

func (s *mailSession) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	dec := new(mime.WordDecoder)
	subject, _ := dec.DecodeHeader(msg.Header.Get("Subject"))
	m := receivedMail{Subject: subject}
	if err := readParts(msg.Header.Get("Content-Type"), msg.Body, &m); err != nil {
		return err
	}
	for _, to := range s.to {
		m.To = to
		s.mb.received <- m
	}
	return nil
}

// readParts walks a MIME tree and keeps the text and HTML bodies
// (multipart.Reader undoes quoted-printable itself).
func readParts(contentType string, body io.Reader, m *receivedMail) error {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return err
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := readParts(p.Header.Get("Content-Type"), p, m); err != nil {
				return err
			}
		}
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	switch mt {
	case "text/plain":
		m.Text = string(b)
	case "text/html":
		m.HTML = string(b)
	}
	return nil
}

// next waits for the next message to addr (the worker delivers at once;
// the timeout only bounds a broken run).
func (mb *mailbox) next(t testing.TB, addr string) receivedMail {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case m := <-mb.received:
			if strings.EqualFold(m.To, addr) {
				return m
			}
			t.Fatalf("unexpected message to %s (%q) while waiting for %s", m.To, m.Subject, addr)
		case <-deadline:
			t.Fatalf("no message to %s arrived", addr)
		}
	}
}

// none checks that srv sent nothing more: it drains srv's message queue
// first, so that a message still on its way is found, not missed.
func (mb *mailbox) none(t testing.TB, srv *testServer) {
	t.Helper()
	if err := srv.App.Worker.Drain(t.Context()); err != nil {
		t.Fatalf("drain the message queue: %v", err)
	}
	select {
	case m := <-mb.received:
		t.Fatalf("unexpected message to %s: %q", m.To, m.Subject)
	default:
	}
}

var (
	codeInMail = regexp.MustCompile(`\b(\d{6})\b`)
	linkInMail = regexp.MustCompile(`https?://[^\s"<>]+`)
)

func (m receivedMail) code(t testing.TB) string {
	t.Helper()
	c := codeInMail.FindStringSubmatch(m.Text)
	if c == nil {
		t.Fatalf("no code in %q:\n%s", m.Subject, m.Text)
	}
	return c[1]
}

func (m receivedMail) link(t testing.TB, path string) string {
	t.Helper()
	for _, l := range linkInMail.FindAllString(m.Text, -1) {
		if strings.Contains(l, path) {
			return l
		}
	}
	t.Fatalf("no %s link in %q:\n%s", path, m.Subject, m.Text)
	return ""
}
