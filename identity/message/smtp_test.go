package message_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"

	"gatehouse/identity/message"
)

// smtpBackend records what an SMTP server receives.
type smtpBackend struct {
	mu       sync.Mutex
	auths    []smtpAuth // every AUTH attempt
	messages []smtpMessage
}

type smtpAuth struct {
	Username, Password string
	TLS                bool
}

type smtpMessage struct {
	From string
	To   []string
	Data []byte
	TLS  bool
	User string
}

func (b *smtpBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &smtpSession{b: b, tls: isTLS}, nil
}

func (b *smtpBackend) Auths() []smtpAuth {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]smtpAuth(nil), b.auths...)
}

func (b *smtpBackend) Messages() []smtpMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]smtpMessage(nil), b.messages...)
}

type smtpSession struct {
	b   *smtpBackend
	tls bool
	msg smtpMessage
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		s.b.mu.Lock()
		s.b.auths = append(s.b.auths, smtpAuth{Username: username, Password: password, TLS: s.tls})
		s.b.mu.Unlock()
		if username != "mailer" || password != "p@ss word" {
			return errors.New("invalid credentials")
		}
		s.msg.User = username
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.msg.From = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasPrefix(to, "nobody@") {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.Data, s.msg.TLS = data, s.tls
	s.b.mu.Lock()
	s.b.messages = append(s.b.messages, s.msg)
	s.b.mu.Unlock()
	return nil
}

func (s *smtpSession) Reset()        { s.msg = smtpMessage{User: s.msg.User} }
func (s *smtpSession) Logout() error { return nil }

// smtpServerOptions says how startSMTP's server behaves.
type smtpServerOptions struct {
	startTLS    *tls.Config // offer STARTTLS with this config
	implicitTLS *tls.Config // speak TLS from the start
	// insecureAuth accepts AUTH without TLS, so that a client that sent
	// credentials in clear text would get through.
	insecureAuth bool
}

// startSMTP runs a real SMTP server on 127.0.0.1 until the test ends and
// returns its address.
func startSMTP(t testing.TB, o smtpServerOptions) (string, *smtpBackend) {
	t.Helper()
	be := &smtpBackend{}
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = o.insecureAuth
	srv.TLSConfig = o.startTLS
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	if o.implicitTLS != nil {
		ln = tls.NewListener(ln, o.implicitTLS)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), be
}

// selfSigned returns a server certificate for 127.0.0.1 and a pool that
// trusts it.
func selfSigned(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "gatehouse test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

// mustSMTPSender builds a sender for scheme://userinfo@addr.
func mustSMTPSender(t testing.TB, scheme string, user *url.Userinfo, addr string, roots *x509.CertPool) *message.SMTPSender {
	t.Helper()
	u := url.URL{Scheme: scheme, User: user, Host: addr}
	s, err := message.NewSMTPSender(u.String(), "Gatehouse <no-reply@example.com>")
	if err != nil {
		t.Fatalf("NewSMTPSender: %v", err)
	}
	if roots != nil {
		s.TLSConfig = &tls.Config{RootCAs: roots}
	}
	s.Timeout = 10 * time.Second
	return s
}

// parsedMail is a received message, decoded.
type parsedMail struct {
	From, To, Subject, AutoSubmitted string
	Text, HTML                       string
}

// parseMail checks that data is a multipart/alternative message with a
// text and an HTML part and decodes it.
func parseMail(t testing.TB, data []byte) parsedMail {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		t.Fatalf("ReadMessage: %v", err)
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("decode subject: %v", err)
	}
	from, err := dec.DecodeHeader(m.Header.Get("From"))
	if err != nil {
		t.Fatalf("decode from: %v", err)
	}
	out := parsedMail{From: from, To: m.Header.Get("To"), Subject: subject, AutoSubmitted: m.Header.Get("Auto-Submitted")}
	mediaType, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v), want multipart/alternative", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("NextPart: %v", err)
		}
		var body io.Reader = p
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			body = quotedprintable.NewReader(p)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		// Mail lines end in CRLF (RFC 5322 §2.1).
		text := strings.ReplaceAll(string(b), "\r\n", "\n")
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch ct {
		case "text/plain":
			out.Text = text
		case "text/html":
			out.HTML = text
		default:
			t.Errorf("unexpected part %s", ct)
		}
	}
	return out
}

const (
	testSubject = "Vérifiez votre adresse"
	testText    = "Your code is 493817.\nOr open https://login.example.com/verify?t=abc"
	testHTML    = `<p>Your code is <b>493817</b>.</p><p><a href="https://login.example.com/verify?t=abc">Verify</a></p>`
)

var wantMail = parsedMail{
	From: `"Gatehouse" <no-reply@example.com>`, To: "<ada@example.com>", Subject: testSubject,
	AutoSubmitted: "auto-generated", Text: testText, HTML: testHTML,
}

func TestSMTPDelivers(t *testing.T) {
	serverTLS, roots := selfSigned(t)
	creds := url.UserPassword("mailer", "p@ss word")
	tests := []struct {
		name     string
		scheme   string
		user     *url.Userinfo
		server   smtpServerOptions
		wantTLS  bool
		wantAuth []smtpAuth
	}{
		{
			name:   "plain smtp without auth",
			scheme: "smtp",
		},
		{
			name:    "smtp upgrades with STARTTLS when offered",
			scheme:  "smtp",
			server:  smtpServerOptions{startTLS: serverTLS},
			wantTLS: true,
		},
		{
			name:     "smtp with credentials over STARTTLS",
			scheme:   "smtp",
			user:     creds,
			server:   smtpServerOptions{startTLS: serverTLS},
			wantTLS:  true,
			wantAuth: []smtpAuth{{Username: "mailer", Password: "p@ss word", TLS: true}},
		},
		{
			name:    "smtps implicit TLS",
			scheme:  "smtps",
			server:  smtpServerOptions{implicitTLS: serverTLS},
			wantTLS: true,
		},
		{
			name:     "smtps with credentials",
			scheme:   "smtps",
			user:     creds,
			server:   smtpServerOptions{implicitTLS: serverTLS},
			wantTLS:  true,
			wantAuth: []smtpAuth{{Username: "mailer", Password: "p@ss word", TLS: true}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr, be := startSMTP(t, tc.server)
			s := mustSMTPSender(t, tc.scheme, tc.user, addr, roots)
			ctx := message.WithMessageID(t.Context(), "0190-test-id")
			if err := s.SendEmail(ctx, "ada@example.com", testSubject, testText, testHTML); err != nil {
				t.Fatalf("SendEmail: %v", err)
			}
			msgs := be.Messages()
			if len(msgs) != 1 {
				t.Fatalf("server received %d messages, want 1", len(msgs))
			}
			m := msgs[0]
			if m.From != "no-reply@example.com" || !cmp.Equal(m.To, []string{"ada@example.com"}) || m.TLS != tc.wantTLS {
				t.Errorf("envelope = from %q, to %q, TLS %v; want no-reply@example.com, [ada@example.com], TLS %v",
					m.From, m.To, m.TLS, tc.wantTLS)
			}
			if diff := cmp.Diff(wantMail, parseMail(t, m.Data)); diff != "" {
				t.Errorf("received mail mismatch (-want +got):\n%s", diff)
			}
			if !strings.Contains(string(m.Data), "Message-ID: <0190-test-id@example.com>") {
				t.Errorf("Message-ID is not the queue id:\n%s", m.Data)
			}
			if diff := cmp.Diff(tc.wantAuth, be.Auths()); diff != "" {
				t.Errorf("AUTH attempts mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSMTPRefuses(t *testing.T) {
	serverTLS, roots := selfSigned(t)
	tests := []struct {
		name    string
		scheme  string
		server  smtpServerOptions
		roots   *x509.CertPool
		wantErr string
	}{
		{
			// The server would take AUTH in clear text; the client must
			// not offer it.
			name:    "credentials without STARTTLS",
			scheme:  "smtp",
			server:  smtpServerOptions{insecureAuth: true},
			roots:   roots,
			wantErr: "does not support STARTTLS",
		},
		{
			name:    "STARTTLS with an untrusted certificate",
			scheme:  "smtp",
			server:  smtpServerOptions{startTLS: serverTLS},
			wantErr: "certificate",
		},
		{
			name:    "implicit TLS with an untrusted certificate",
			scheme:  "smtps",
			server:  smtpServerOptions{implicitTLS: serverTLS},
			wantErr: "certificate",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr, be := startSMTP(t, tc.server)
			s := mustSMTPSender(t, tc.scheme, url.UserPassword("mailer", "p@ss word"), addr, tc.roots)
			err := s.SendEmail(t.Context(), "ada@example.com", testSubject, testText, testHTML)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("SendEmail error = %v, want one about %q", err, tc.wantErr)
			}
			if errors.Is(err, message.ErrUndeliverable) {
				t.Errorf("error %v is ErrUndeliverable; a configuration problem should be retried", err)
			}
			if auths := be.Auths(); len(auths) != 0 {
				t.Errorf("credentials reached the server: %+v", auths)
			}
			if msgs := be.Messages(); len(msgs) != 0 {
				t.Errorf("server received %d messages, want none", len(msgs))
			}
			if strings.Contains(err.Error(), "p@ss") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

func TestSMTPRejectedRecipientIsUndeliverable(t *testing.T) {
	addr, _ := startSMTP(t, smtpServerOptions{})
	s := mustSMTPSender(t, "smtp", nil, addr, nil)
	err := s.SendEmail(t.Context(), "nobody@example.com", testSubject, testText, testHTML)
	if !errors.Is(err, message.ErrUndeliverable) {
		t.Errorf("SendEmail to a rejected recipient: error = %v, want ErrUndeliverable", err)
	}
}

func TestNewSMTPSender(t *testing.T) {
	type want struct {
		Host        string
		Port        int
		ImplicitTLS bool
		Username    string
		Password    string
		From        string
	}
	tests := []struct {
		name, url, from string
		want            want
		wantErr         string
	}{
		{name: "smtp default port", url: "smtp://mail.example.com", from: "a@example.com",
			want: want{Host: "mail.example.com", Port: 587, From: "<a@example.com>"}},
		{name: "smtp with credentials", url: "smtp://us%40er:p%2Fw@mail.example.com:25/", from: "Gatehouse <a@example.com>",
			want: want{Host: "mail.example.com", Port: 25, Username: "us@er", Password: "p/w", From: `"Gatehouse" <a@example.com>`}},
		{name: "smtps default port", url: "smtps://mail.example.com", from: "a@example.com",
			want: want{Host: "mail.example.com", Port: 465, ImplicitTLS: true, From: "<a@example.com>"}},
		{name: "IPv6", url: "smtp://[::1]:2525", from: "a@example.com",
			want: want{Host: "::1", Port: 2525, From: "<a@example.com>"}},
		{name: "other scheme", url: "http://u:secret@mail.example.com", from: "a@example.com",
			wantErr: "message: smtp URL must start with smtp:// or smtps://"},
		{name: "no host", url: "smtp://u:secret@", from: "a@example.com", wantErr: "message: smtp URL needs a host"},
		{name: "bad port", url: "smtp://u:secret@mail.example.com:99999", from: "a@example.com",
			wantErr: "message: smtp URL has an invalid port"},
		{name: "query", url: "smtp://u:secret@mail.example.com?tls=off", from: "a@example.com",
			wantErr: "message: smtp URL takes no path, query or fragment"},
		{name: "password without user", url: "smtp://:secret@mail.example.com", from: "a@example.com",
			wantErr: "message: smtp URL has a password but no user name"},
		{name: "unparseable", url: "smtp://u:secret@mail example.com", from: "a@example.com",
			wantErr: "message: smtp URL is not a valid URL"},
		{name: "bad from", url: "smtp://mail.example.com", from: "not an address",
			wantErr: "message: from address: mail: no angle-addr"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := message.NewSMTPSender(tc.url, tc.from)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("NewSMTPSender error = %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewSMTPSender: %v", err)
			}
			var got want
			got.Host, got.Port, got.ImplicitTLS, got.Username, got.Password, got.From = s.SMTPSettings()
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("NewSMTPSender mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
