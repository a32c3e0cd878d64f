package identity_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"gatehouse/identity"
	"gatehouse/identity/sqlstore"
	"gatehouse/migrations/dbtest"
)

// fakeNotifier records what would be queued. Err, when set, fails every
// send.
type fakeNotifier struct {
	mu   sync.Mutex
	mail []identity.Mail
	sms  []identity.SMS
	Err  error
}

var _ identity.Notifier = (*fakeNotifier)(nil)

func (n *fakeNotifier) SendMail(_ context.Context, m identity.Mail) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.Err != nil {
		return n.Err
	}
	n.mail = append(n.mail, m)
	return nil
}

func (n *fakeNotifier) SendSMS(_ context.Context, m identity.SMS) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.Err != nil {
		return n.Err
	}
	n.sms = append(n.sms, m)
	return nil
}

// Mails returns the e-mails sent so far and forgets them.
func (n *fakeNotifier) Mails() []identity.Mail {
	n.mu.Lock()
	defer n.mu.Unlock()
	m := n.mail
	n.mail = nil
	return m
}

// Texts returns the text messages sent so far and forgets them.
func (n *fakeNotifier) Texts() []identity.SMS {
	n.mu.Lock()
	defer n.mu.Unlock()
	m := n.sms
	n.sms = nil
	return m
}

// revokeCall is one RevokeUserSessions call.
type revokeCall struct{ UserID, Keep string }

// fakeRevoker records RevokeUserSessions calls.
type fakeRevoker struct {
	mu    sync.Mutex
	calls []revokeCall
}

var _ identity.SessionRevoker = (*fakeRevoker)(nil)

func (r *fakeRevoker) RevokeUserSessions(_ context.Context, userID, keep string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, revokeCall{userID, keep})
	return nil
}

func (r *fakeRevoker) Calls() []revokeCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// events records what the service told its hooks (OnLockout,
// OnLockedAttempt, OnUnlock) and how long it waited (Sleep), in order.
type events struct {
	mu   sync.Mutex
	list []string
}

func (ev *events) add(format string, args ...any) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	ev.list = append(ev.list, fmt.Sprintf(format, args...))
}

// Take returns the events so far and forgets them.
func (ev *events) Take() []string {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	l := ev.list
	ev.list = nil
	return l
}

// hook wires ev into svc.
func (ev *events) hook(svc *service) {
	svc.Sleep = func(_ context.Context, d time.Duration) { ev.add("sleep %v", d) }
	svc.OnLockout = func(_ context.Context, userID, reason string, permanent bool) {
		ev.add("lockout %s %s permanent=%v", userID, reason, permanent)
	}
	svc.OnLockedAttempt = func(_ context.Context, userID string) { ev.add("locked attempt %s", userID) }
	svc.OnUnlock = func(_ context.Context, userID, by string) { ev.add("unlock %s by %s", userID, by) }
}

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// service is every part of the identity service over one store and one
// Core, as the tests drive them. A Core field set on it (Hasher, Notifier,
// Sleep...) reaches every part at once, since they share the Core; a part's
// own field (Lockout, ResetTokenTTL...) is set on that part.
type service struct {
	*identity.Core
	*identity.Accounts
	*identity.Authenticator
	*identity.Contacts
	*identity.Recovery
	*identity.Profiles
	// Users is the store under every part, for the tests' own reads.
	Users identity.UserStore
}

// newParts builds every part over users and core, in dependency order.
func newParts(core *identity.Core, users identity.UserStore, sessions identity.SessionRevoker, region, product string) *service {
	contacts := &identity.Contacts{Core: core, Users: users, DefaultRegion: region, ProductName: product}
	return &service{
		Core:          core,
		Accounts:      &identity.Accounts{Core: core, Users: users, DefaultRegion: region, Contacts: contacts},
		Authenticator: &identity.Authenticator{Core: core, Users: users},
		Contacts:      contacts,
		Recovery:      &identity.Recovery{Core: core, Users: users, Sessions: sessions},
		Profiles:      &identity.Profiles{Core: core, Users: users, Sessions: sessions},
		Users:         users,
	}
}

// env is the identity service with every dependency of verification and recovery,
// on a real store.
type env struct {
	svc      *service
	notifier *fakeNotifier
	sessions *fakeRevoker
	clock    *clock
	events   *events
}

const testBaseURL = "https://id.example.com"

func newEnv(t testing.TB, db *gorm.DB) *env {
	t.Helper()
	e := &env{notifier: &fakeNotifier{}, sessions: &fakeRevoker{}, clock: &clock{now: testNow}, events: &events{}}
	core := &identity.Core{
		Tokens:   sqlstore.NewTokenStore(db),
		Hasher:   identity.NewHasher(fastParams, nil),
		Now:      e.clock.Now,
		Notifier: e.notifier,
		BaseURL:  testBaseURL + "/",
		TokenKey: []byte("test token key, 32 bytes or more"),
	}
	e.svc = newParts(core, sqlstore.NewUserStore(db), e.sessions, "GB", "Gatehouse")
	e.events.hook(e.svc)
	return e
}

// eachEnv runs fn once per database dialect.
func eachEnv(t *testing.T, fn func(t *testing.T, e *env)) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) { fn(t, newEnv(t, db)) })
}

// register registers alice (or in, when given) and returns the user and
// the verification mail Register sent.
func (e *env) register(t testing.TB, in identity.RegisterInput) (*identity.User, identity.Mail) {
	t.Helper()
	u := mustRegister(t, e.svc, in)
	return u, e.onlyMail(t, identity.MailVerifyEmail)
}

// onlyMail returns the one mail sent since the last look, failing unless
// it is exactly one of kind.
func (e *env) onlyMail(t testing.TB, kind identity.MailKind) identity.Mail {
	t.Helper()
	mails := e.notifier.Mails()
	if len(mails) != 1 || mails[0].Kind != kind {
		t.Fatalf("mails sent = %+v, want one %s", mails, kind)
	}
	return mails[0]
}

// noMail fails the test if any mail or text was sent since the last look.
func (e *env) noMail(t testing.TB) {
	t.Helper()
	if m, s := e.notifier.Mails(), e.notifier.Texts(); len(m)+len(s) != 0 {
		t.Errorf("messages sent = %+v %+v, want none", m, s)
	}
}

// user reads the stored user.
func (e *env) user(t testing.TB, id string) *identity.User {
	t.Helper()
	u, err := e.svc.GetUser(t.Context(), id)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	return u
}

// linkToken returns the token of link, checking that it points to path
// under testBaseURL.
func linkToken(t testing.TB, link, path string) string {
	t.Helper()
	if !strings.HasPrefix(link, testBaseURL+path+"?token=") {
		t.Fatalf("link = %q, want %s%s?token=...", link, testBaseURL, path)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	tok := u.Query().Get("token")
	if len(tok) < 22 { // 128 bits in base64url
		t.Fatalf("link token %q is shorter than 128 bits", tok)
	}
	return tok
}

// wrongCode returns a well-formed code other than code.
func wrongCode(code string) string {
	var n int
	fmt.Sscanf(code, "%d", &n)
	return fmt.Sprintf("%06d", (n+1)%1_000_000)
}
