package authflow

import (
	"context"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"

	"gatehouse/federation"
	"gatehouse/identity"
	"gatehouse/identity/audit"
	"gatehouse/identity/mfa"
	"gatehouse/oidc"
	"gatehouse/oidc/captcha"
	"gatehouse/oidc/ratelimit"
	"gatehouse/templates"
)

// Users is what the sign-in needs of the identity service.
type Users interface {
	// Register creates a self-service account or returns
	// *identity.ValidationError (or *identity.TakenEmailError with a
	// decoy, when taken addresses are hidden).
	Register(ctx context.Context, in identity.RegisterInput) (*identity.User, error)
	// GetUser returns the user or identity.ErrNotFound.
	GetUser(ctx context.Context, id string) (*identity.User, error)
}

// Authenticator is what the sign-in step needs to check a password.
type Authenticator interface {
	// Authenticate checks a login and password; a wrong one, and any on a
	// locked account, is (nil, false, nil).
	Authenticate(ctx context.Context, login, password string) (*identity.User, bool, error)
	// RecordFailure counts a failed sign-in step other than the password
	// (a wrong second-factor code) towards the account's lockout and
	// reports whether the account is locked now.
	RecordFailure(ctx context.Context, userID, reason string) (lockedNow bool, err error)
}

// LoginFinder is an optional ability of Users: it tells whether a login
// name belongs to an account.
type LoginFinder interface {
	// LoginExists reports whether login names an account.
	LoginExists(ctx context.Context, login string) (bool, error)
}

// Verifier is what the e-mail verification step needs of the identity
// service.
type Verifier interface {
	// StartEmailVerification mails a new verification link and code.
	StartEmailVerification(ctx context.Context, userID string) error
	// VerifyEmailToken verifies the address behind a link's token.
	VerifyEmailToken(ctx context.Context, token string) (*identity.User, error)
	// VerifyEmailCode verifies the user's address with a code.
	VerifyEmailCode(ctx context.Context, userID, code string) error
}

// DecoyVerifier is an optional ability of Verifier: the verification page
// of a sign-up that Users.Register answered with *identity.TakenEmailError.
// Without it every code is wrong and a resend pretends to send.
type DecoyVerifier interface {
	// VerifyDecoyCode fails every code as a wrong one would.
	VerifyDecoyCode(ctx context.Context, decoyID, code string) error
	// ResendDecoyCode answers a resend as for a real account.
	ResendDecoyCode(ctx context.Context, decoyID, email string) error
}

// ConsentStore remembers which scopes a user granted to a client.
type ConsentStore interface {
	// GetConsent returns the granted scopes, or nil when none.
	GetConsent(ctx context.Context, userID, clientID string) ([]string, error)
	// SaveConsent records scopes as granted (replacing earlier grants).
	SaveConsent(ctx context.Context, userID, clientID string, scopes []string, at time.Time) error
}

// Clients finds the client a flow belongs to.
type Clients interface {
	// Get returns the client; oidc.Unavailable tells an outage from an
	// unknown client.
	Get(ctx context.Context, id string) (*oidc.Client, error)
}

// Captcha is when and how the sign-in and sign-up forms ask for a
// CAPTCHA.
type Captcha struct {
	// Verifier checks a solved CAPTCHA; nil never asks.
	Verifier captcha.Verifier
	// URL serves the proof-of-work challenge the page solves; Widget
	// replaces it with a third-party widget.
	URL    string
	Widget templates.CaptchaWidget
	// Failures counts failed sign-ins per address and per login name; past
	// After of either within Window the sign-in form needs the CAPTCHA
	// too (sign-up always does). Nil Failures never asks at sign-in.
	Failures ratelimit.Counter
	After    int
	Window   time.Duration
}

// Handler runs interactive sign-in flows: it is the dispatcher the
// authorization endpoint hands each request to (oidc.SignIn), and it
// serves the pages of the steps.
type Handler struct {
	Flows    FlowStore
	Consents ConsentStore
	Clients  Clients
	Users    Users
	// Authenticator checks the passwords of the sign-in step.
	Authenticator Authenticator
	Verifier      Verifier
	// MFA checks second factors; nil means nobody has one.
	MFA SecondFactors
	// Codes sends and checks sign-in codes by e-mail and SMS; nil
	// offers none. CodeKinds are the kinds the deployment can deliver
	// (mfa.KindEmail with mail set up, mfa.KindSMS with an SMS
	// provider).
	Codes     CodeSender
	CodeKinds []mfa.Kind
	// Notifier mails the user security notices of the sign-in (a
	// recovery code used); nil sends none.
	Notifier Notifier
	// Passkeys verifies passkeys, as a second factor and as a
	// passwordless sign-in (nil: none).
	Passkeys Passkeys
	// EnrolURL is the page where a signed-in user adds a second factor
	// when acr_values needs one they lack; it gets the flow as "flow"
	// and returns to PathMFAContinue.
	EnrolURL string
	// Policy requires a second factor of users without one (for
	// everyone, roles or clients); Grace records the start of its grace
	// period per user (needed when Policy.GracePeriod > 0).
	Policy mfa.Policy
	Grace  EnrolmentGrace
	// RememberBrowser offers, on the challenge page, not to ask again on
	// this browser for so long; 0 (or nil Browsers) turns it off.
	RememberBrowser time.Duration
	Browsers        RememberedBrowsers
	// Landing, when set, is where a sign-in outside any authorization
	// flow and without a "next" ends for this user (a manager's usage
	// figures, say); "" or an error keeps the home page.
	Landing func(ctx context.Context, userID string) (string, error)
	// Upstreams are the providers the login page offers a "Sign in with"
	// button for; Resolver maps the people they vouch for onto local
	// users (required with Upstreams).
	Upstreams []federation.RedirectConnector
	Resolver  Resolver
	// HomeRealms maps e-mail domains to the Upstreams connector their
	// people sign in at (home-realm discovery, see signin_realm.go).
	HomeRealms map[string]string
	// Browser signs the browser in and tells who is signed in.
	Browser *oidc.Browser
	Pages   *templates.Renderer
	// Key keys the MAC that binds a step's return to its flow.
	Key    []byte
	Logger *slog.Logger
	Now    func() time.Time
	// Auditor records security events (nil records nothing).
	Auditor oidc.AuditRecorder
	// LoginAuditKey keys the hash under which the audit trail keeps a
	// login name that belongs to no account (see failedLoginDetail).
	LoginAuditKey []byte
	// SelfSignup opens the sign-up step.
	SelfSignup bool
	// RequireVerifiedEmail holds the first sign-in until the user proved
	// their e-mail address with the link or code.
	RequireVerifiedEmail bool
	// PasswordMinLength is shown on the sign-up page.
	PasswordMinLength int
	Captcha           Captcha
}

var _ oidc.SignIn = (*Handler)(nil)

// Mount registers the pages of the steps on g, behind the CSRF protection
// of every hosted form.
func (h *Handler) Mount(g *echo.Group) {
	csrf := oidc.CSRF(h.Browser.Secure)
	in, up, verify, consent, second := signInStep{h}, signUpStep{h}, verifyStep{h}, consentStep{h}, mfaStep{h}
	passkey := passwordlessStep{h}
	g.GET("/", in.home, csrf)
	g.GET(oidc.PathLogin, in.page, csrf)
	g.POST(oidc.PathLogin, in.submit, csrf)
	g.POST(PathPasskeyOptions, passkey.options, csrf)
	g.POST(PathPasskeyLogin, passkey.submit, csrf)
	g.GET(oidc.PathSignUp, up.page, csrf)
	g.POST(oidc.PathSignUp, up.submit, csrf)
	g.GET(oidc.PathVerifyEmail, verify.page, csrf)
	g.POST(oidc.PathVerifyEmail, verify.submit, csrf)
	g.POST(oidc.PathVerifyResend, verify.resend, csrf)
	g.GET(PathMFA, second.page, csrf)
	g.POST(PathMFA, second.submit, csrf)
	g.POST(PathMFAPasskey, second.passkeyOptions, csrf)
	g.GET(PathMFAContinue, second.enrolled, csrf)
	g.POST(PathMFALater, second.later, csrf)
	g.POST(PathUpstreamStart+":connector", upstreamStep{h}.start, csrf)
	// The upstream's redirect carries no CSRF token: the state, bound to
	// this browser's flow, stands in for it.
	g.GET(PathUpstreamCallback+":connector", upstreamStep{h}.callback)
	g.GET(oidc.PathConsent, consent.page, csrf)
	g.POST(oidc.PathConsent, consent.submit, csrf)
}

// passkeysAvailable reports whether passkeys can be offered: configured,
// and an issuer on a domain name.
func (h *Handler) passkeysAvailable() bool { return h.Passkeys != nil && h.Passkeys.Available() }

func (h *Handler) audit(c echo.Context, e audit.Entry) { oidc.Audit(c, h.Auditor, h.Logger, e) }
