package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"gatehouse/config"
	"gatehouse/identity"
	"gatehouse/identity/audit"
	auditsql "gatehouse/identity/audit/sqlstore"
	"gatehouse/identity/egress"
	"gatehouse/identity/message"
	messagesql "gatehouse/identity/message/sqlstore"
	"gatehouse/identity/mfa"
	"gatehouse/identity/seal"
	identitysql "gatehouse/identity/sqlstore"
	"gatehouse/migrations"
	"gatehouse/migrations/dberr"
	"gatehouse/migrations/dbtx"
	"gatehouse/oidc"
	"gatehouse/oidc/account"
	"gatehouse/oidc/adminapi"
	"gatehouse/oidc/authflow"
	"gatehouse/oidc/captcha"
	captchasql "gatehouse/oidc/captcha/sqlstore"
	"gatehouse/oidc/clientreg"
	"gatehouse/oidc/console"
	"gatehouse/oidc/mfapages"
	"gatehouse/oidc/ratelimit"
	"gatehouse/oidc/recovery"
	oidcsql "gatehouse/oidc/sqlstore"
	"gatehouse/templates"
)

// App is every long-lived part of a running Gatehouse, built from one
// validated configuration.
type App struct {
	Config *config.Config
	Logger *slog.Logger
	DB     *migrations.Handle
	Box    *seal.Box
	Store  oidcStores
	// Identity is the identity service, one part per responsibility.
	Identity identity.Services
	// MFA enrols and verifies second factors.
	MFA *mfa.Service
	// Passkeys registers and verifies WebAuthn credentials (unavailable
	// when the issuer's host is an IP address).
	Passkeys *mfa.Passkeys
	Keys     *oidc.Keys
	Provider *oidc.Provider
	Handler  *oidc.Handler
	// ClientRegistration serves dynamic client registration.
	ClientRegistration *clientreg.Handler
	// Clients manages OAuth clients for administrators (the CLI, the
	// admin API): every rule about them is there.
	Clients *clientreg.Admin
	// SignIn runs the sign-in flows and serves their pages.
	SignIn *authflow.Handler
	// Recovery serves the forgotten-password and unlock pages.
	Recovery *recovery.Handler
	Account  *account.Handler
	// MFAPages serves the second-factor pages of the account area.
	MFAPages *mfapages.Handler
	// AdminAPI serves /admin/api/v1.
	AdminAPI *adminapi.Handler
	// Console serves the admin console's pages under /admin.
	Console  *console.Handler
	Pages    *templates.Renderer
	Messages *message.Queue
	Worker   *message.Worker
	Metrics  *metrics
	Sessions *oidc.BackchannelSessions
	PoW      *captcha.PoW
	Audit    *audit.Log
	// Usage reports how Gatehouse is used; its worker keeps the figures.
	Usage    usageParts
	Limiter  ratelimit.Limiter
	Failures ratelimit.Counter
	Redis    *redis.Client // nil without redis.url
	// Breaker guards both users of Redis; nil without redis.url.
	Breaker *ratelimit.Breaker
	Echo    *echo.Echo
	// Egress makes every call on behalf of a client.
	Egress *egress.Client
	// Outage logs a database outage once, and its end.
	Outage *dberr.Outage
	// purgedAtStart is closed once the purge at start has run.
	purgedAtStart chan struct{}

	closeOnce sync.Once
}

// oidcStores are the provider's storage, one part per concern
// (oidc/sqlstore), each handed to the component that needs it.
type oidcStores struct {
	Tokens          *oidcsql.Tokens
	Clients         *oidcsql.Clients
	Flows           *oidcsql.Flows
	BrowserSessions *oidcsql.BrowserSessions
	Consents        *oidcsql.Consents
	SigningKeys     *oidcsql.SigningKeys
	Purge           *oidcsql.Purge
}

// openStorage opens the database and the master key: what every command
// needs. It applies migrations only when migrate is true.
func openStorage(ctx context.Context, cfg *config.Config, log *slog.Logger, migrate bool) (*App, error) {
	box, err := openBox(cfg, log)
	if err != nil {
		return nil, err
	}
	return openStorageWith(ctx, cfg, log, box, migrate)
}

// openBox reads the master key and builds the sealing box from it.
func openBox(cfg *config.Config, log *slog.Logger) (*seal.Box, error) {
	key, err := masterKey(cfg, log)
	if err != nil {
		return nil, err
	}
	return seal.New(key)
}

// openStorageWith is openStorage with the box already built.
func openStorageWith(ctx context.Context, cfg *config.Config, log *slog.Logger, box *seal.Box, migrate bool) (*App, error) {
	handle, err := migrations.OpenHandle(cfg.Database.URL.Reveal(), migrations.Options{
		MaxOpenConns: cfg.Database.MaxOpenConns, StatementTimeout: cfg.Database.StatementTimeout.Std(),
	})
	if err != nil {
		return nil, err
	}
	if err := handle.Ping(ctx, cfg.Database.ConnectTimeout.Std()); err != nil {
		handle.Close()
		return nil, err
	}
	if migrate {
		applied, err := handle.Up(ctx)
		if err != nil {
			handle.Close()
			return nil, dberr.Mark(err)
		}
		if len(applied) > 0 {
			log.InfoContext(ctx, "migrations applied", "versions", applied)
		}
	}
	db := handle.Gorm()
	a := &App{Config: cfg, Logger: log, DB: handle, Box: box, Egress: newEgress(cfg), purgedAtStart: make(chan struct{})}
	if a.Pages, err = templates.New(templates.Theme{ProductName: cfg.Theme.ProductName, LogoURL: cfg.Theme.LogoURL, PrimaryColor: cfg.Theme.PrimaryColor}); err != nil {
		handle.Close()
		return nil, err
	}
	// Every store joins the transaction a context carries, so one tx
	// makes a change, its audit entry and its messages commit together.
	tx := dbtx.New(db)
	messages, err := messagesql.New(db)
	if err != nil {
		handle.Close()
		return nil, err
	}
	a.Messages = &message.Queue{Store: messages, Renderer: a.Pages, Now: time.Now}
	tl := cfg.Tokens
	// The token store reads clients back through the provider's cache,
	// and the cache reads them from the client store: built in that order.
	settings := oidcsql.Settings{InactiveRefreshRetention: tl.RotatedRefreshTokenRetention.Std(), Now: time.Now}
	clientStore := oidcsql.NewClients(db, settings)
	clients := &oidc.ClientCache{Store: clientStore, TTL: 5 * time.Second, Now: time.Now, Issuer: cfg.Issuer}
	a.Store = oidcStores{
		Tokens:          oidcsql.NewTokens(db, clients.GetClient, settings),
		Clients:         clientStore,
		Flows:           oidcsql.NewFlows(db),
		BrowserSessions: oidcsql.NewBrowserSessions(db, settings),
		Consents:        oidcsql.NewConsents(db),
		SigningKeys:     oidcsql.NewSigningKeys(db),
		Purge:           oidcsql.NewPurge(db),
	}
	a.Keys = &oidc.Keys{
		Store: a.Store.SigningKeys, Box: box, Algorithm: cfg.Signing.Algorithm, Now: time.Now,
		MaxTokenLifetime: max(tl.IDTokenLifetime.Std(), tl.AccessTokenLifetime.Std()),
		JWKSMaxAge:       5 * time.Minute, NewKey: newSigningKey(cfg),
	}
	a.Provider = oidc.New(oidc.ProviderConfig{
		Issuer: cfg.Issuer,
		Lifetimes: oidc.Lifetimes{
			AccessToken: tl.AccessTokenLifetime.Std(), RefreshToken: tl.RefreshTokenLifetime.Std(),
			RefreshTokenAbsolute: tl.RefreshTokenAbsoluteLifetime.Std(),
			IDToken:              tl.IDTokenLifetime.Std(), Code: tl.AuthorizationCodeLifetime.Std(),
		},
		RequirePKCEForAll: tl.RequirePKCEForAllClients,
		TokenSecret:       box.DeriveKey("token hmac"),
		Hasher:            &oidc.SecretHasher{Pepper: box.DeriveKey("client secret pepper")},
		Keys:              a.Keys,
		Tokens:            a.Store.Tokens,
		Clients:           clients,
		Egress:            a.Egress,
	})
	a.Audit = audit.New(auditsql.New(db))
	a.Usage = newUsage(a, clientStore)
	a.Clients = &clientreg.Admin{
		Clients: clientStore, Hasher: a.Provider.Config.ClientSecretsHasher, Cache: clients,
		Tx: tx, Audit: a.Audit, Outbound: outboundPolicy(cfg), Now: time.Now,
	}
	// Ending a session anywhere (logout, account page, password reset)
	// also logs the user out of the clients that asked to be told.
	a.Sessions = &oidc.BackchannelSessions{LogoutStore: a.Store.BrowserSessions, Provider: a.Provider, Queue: a.Messages, Now: time.Now, Tx: tx}
	mfaStore := identitysql.NewMFAStore(db)
	a.MFA = &mfa.Service{
		Factors: mfaStore, Codes: mfaStore, Browsers: mfaStore, Graces: mfaStore,
		Sealer: box, CodeKey: box.DeriveKey("mfa recovery codes"), Issuer: cfg.Theme.ProductName, Now: time.Now, Tx: tx,
	}
	a.Identity = newIdentity(cfg, log, identityDeps{
		Users: identitysql.NewUserStore(db), Roles: identitysql.NewRoleStore(db), Tokens: identitysql.NewTokenStore(db),
		Notifier: a.Messages, Sessions: a.Sessions, Browsers: a.MFA, Erase: oidcsql.NewUserData(db), Tx: tx, Audit: a.Audit,
		TokenKey: box.DeriveKey("one-time tokens"),
	})
	a.Passkeys, err = mfa.NewPasskeys(cfg.Issuer, cfg.Theme.ProductName, mfaStore, mfaStore, identitysql.NewCeremonyStore(db))
	if err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// openServer builds the whole server on top of openStorage.
func openServer(ctx context.Context, cfg *config.Config, log *slog.Logger) (*App, error) {
	box, err := openBox(cfg, log)
	if err != nil {
		return nil, err
	}
	return openServerWith(ctx, cfg, log, box)
}

// openServerWith is openServer with the box already built.
func openServerWith(ctx context.Context, cfg *config.Config, log *slog.Logger, box *seal.Box) (*App, error) {
	a, err := openStorageWith(ctx, cfg, log, box, cfg.Database.MigrateOnStart)
	if err != nil {
		return nil, err
	}
	if err := a.DB.Current(ctx); err != nil {
		a.Close()
		if errors.Is(err, migrations.ErrPending) {
			return nil, errSchemaOutOfDate
		}
		return nil, dberr.Mark(err)
	}
	if err := a.Keys.Load(ctx); err != nil {
		a.Close()
		return nil, err
	}
	warnOutbound(cfg, log)
	a.Outage = &dberr.Outage{Logger: log, Ping: a.DB.PingContext, Interval: 500 * time.Millisecond, Now: time.Now}
	pages := a.Pages
	if err := a.openDelivery(); err != nil {
		a.Close()
		return nil, err
	}
	secure := strings.HasPrefix(cfg.Issuer, "https://")
	a.PoW = &captcha.PoW{Key: a.Box.DeriveKey("captcha"), MaxNumber: int64(cfg.Captcha.PowMaxNumber),
		Spent: captchasql.NewSpentStore(a.DB.Gorm()), Now: time.Now}
	formCaptcha, captchaURL, widget, cspHosts := chooseCaptcha(cfg.Captcha, a.PoW)
	if err := a.openLimits(); err != nil {
		a.Close()
		return nil, err
	}
	authLimit, err := clientAuthLimit(a.Failures, cfg.RateLimits)
	if err != nil {
		a.Close()
		return nil, err
	}
	browser := &oidc.Browser{
		Cookies:  oidc.NewCookieStore(a.Box.DeriveKey("cookie hash"), a.Box.DeriveKey("cookie block"), secure),
		Sessions: a.Sessions, Now: time.Now, Secure: secure,
		Idle: cfg.Sessions.IdleLifetime.Std(), Absolute: cfg.Sessions.AbsoluteLifetime.Std(),
	}
	authn, err := a.openFederation(ctx)
	if err != nil {
		a.Close()
		return nil, err
	}
	upstreams, resolver, err := a.openUpstreams()
	if err != nil {
		a.Close()
		return nil, err
	}
	a.SignIn = &authflow.Handler{
		Upstreams: upstreams, Resolver: resolver, HomeRealms: homeRealms(cfg.Connectors),
		Flows: a.Store.Flows, Consents: a.Store.Consents, Clients: a.Provider.Clients, Users: a.Identity.Accounts, Authenticator: authn,
		Verifier: a.Identity.Contacts, MFA: a.MFA, Passkeys: a.Passkeys, EnrolURL: mfapages.PathTOTP,
		Policy: mfaPolicy(cfg.MFA), Grace: a.MFA, RememberBrowser: cfg.MFA.RememberBrowser.Std(), Browsers: a.MFA,
		Codes: a.Identity.SignInCodes, CodeKinds: signInCodeKinds(cfg), Notifier: a.Messages,
		Browser: browser, Pages: pages, Key: a.Box.DeriveKey("flow mac"), Logger: log, Now: time.Now,
		Auditor: a.Audit, LoginAuditKey: a.Box.DeriveKey("audit login names"),
		SelfSignup: cfg.Registration.AllowSelfSignup, RequireVerifiedEmail: cfg.Registration.RequireVerifiedEmail,
		PasswordMinLength: cfg.Password.MinLength,
		Captcha: authflow.Captcha{Verifier: formCaptcha, URL: captchaURL, Widget: widget,
			After: cfg.Captcha.AfterFailures, Window: 15 * time.Minute, Failures: a.Failures},
	}
	// Logout requests are sealed with the key they always were (the flow
	// MAC's, under a "logout|" prefix), so none in flight breaks.
	a.Handler = &oidc.Handler{
		Provider: a.Provider, Users: a.Identity.Accounts, SignIn: a.SignIn, Browser: browser, Pages: pages,
		LogoutKey: a.Box.DeriveKey("flow mac"), Logger: log, Now: time.Now, Auditor: a.Audit, Outage: a.Outage,
		Tokens:              a.Usage.Tokens,
		SelfSignup:          cfg.Registration.AllowSelfSignup,
		RegistrationEnabled: cfg.Registration.InitialAccessToken != "",
		ClientAuthLimit:     authLimit,
		RolesClaim:          cfg.Tokens.RolesClaim,
		Roles:               a.Identity.Roles,
	}
	a.Recovery = &recovery.Handler{
		Passwords: a.Identity.Recovery, Unlocker: a.Identity.Recovery, Browser: browser, Pages: pages, Logger: log,
	}
	a.ClientRegistration = &clientreg.Handler{
		Clients: a.Store.Clients, Provider: a.Provider, Auditor: a.Audit, Logger: log, Now: time.Now,
		InitialAccessToken:   cfg.Registration.InitialAccessToken.Reveal(),
		UnusedClientLifetime: cfg.Registration.UnusedClientLifetime.Std(),
		Outbound:             a.Egress.Policy(),
	}
	a.Account = &account.Handler{
		Sessions: browser, Store: a.Sessions, Auditor: a.Audit, History: a.Audit, Now: time.Now, Pages: pages, Logger: log,
		Users: a.Identity.Accounts, Profiles: a.Identity.Profiles, Contacts: a.Identity.Contacts,
		CSRF: oidc.CSRF(secure), LogoutURL: oidc.PathEndSession, PasswordMinLength: cfg.Password.MinLength,
		TOTPSetupAction:    mfapages.PathTOTP,
		FactorRemoveAction: mfapages.PathFactorRemove, RecoveryCodesAction: mfapages.PathRecoveryCodes,
		BrowserForgetAction: mfapages.PathBrowserForget, BrowsersForgetAllAction: mfapages.PathBrowsersForgetAll,
		FactorDefaultAction: mfapages.PathFactorDefault, SignInCodesAction: mfapages.PathSignInCodes,
	}
	a.MFAPages = &mfapages.Handler{
		Sessions: browser, Users: a.Identity.Accounts, Factors: a.MFA, Pages: pages,
		CSRF: oidc.CSRF(secure), Auditor: a.Audit, Notifier: a.Messages, Logger: log, FlowContinue: authflow.PathMFAContinue,
		Deferrals: a.SignIn, LaterAction: authflow.PathMFALater, Browsers: a.MFA,
		CodeKinds: signInCodeKinds(cfg),
	}
	a.MFAPages.Passkeys = a.Passkeys
	a.Account.SecondFactors = a.MFAPages
	a.Account.Passkeys = a.MFAPages.AccountPasskeys()
	a.Account.Links, a.Account.Notifier = a.accountLinks(), a.Messages
	a.AdminAPI = newAdminAPI(a)
	a.Console = newConsole(a, browser, pages)
	// A manager signing in on the sign-in page itself lands on the usage
	// figures, the one part of the console open to them.
	a.SignIn.Landing = a.Console.Landing
	a.Echo, err = newEcho(a, pages, cspHosts)
	if err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// Close releases Redis and the database; only the first call does.
func (a *App) Close() {
	a.closeOnce.Do(func() {
		if a.Redis != nil {
			a.Redis.Close()
		}
		if a.DB != nil {
			a.DB.Close()
		}
	})
}

// errSchemaOutOfDate is openServer's error for pending migrations that it
// is not to apply itself.
var errSchemaOutOfDate = fmt.Errorf("the database schema is out of date: run `gatehouse migrate up` (or enable database.migrate_on_start): %w", migrations.ErrPending)

// masterKey returns the configured master key or, in development mode, the
// one kept in data_dir (generated on first use).
func masterKey(cfg *config.Config, log *slog.Logger) ([]byte, error) {
	if !cfg.DevelopmentMode() {
		return cfg.MasterKeyBytes()
	}
	path := filepath.Join(cfg.DataDir, "master.key")
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw)))
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("%s does not hold a base64 32-byte key", path)
		}
		log.Warn("DEVELOPMENT SETUP: using the generated master key in the data directory; set GATEHOUSE_MASTER_KEY in production", "path", path)
		return key, nil
	case errors.Is(err, fs.ErrNotExist):
		key := make([]byte, 32)
		rand.Read(key)
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("save master key: %w", err)
		}
		log.Warn("DEVELOPMENT SETUP: generated a new master key in the data directory; anyone who can read it can decrypt the signing keys. Set GATEHOUSE_MASTER_KEY in production", "path", path)
		return key, nil
	default:
		return nil, fmt.Errorf("read master key: %w", err)
	}
}

// openDelivery builds the message worker from the e-mail and SMS settings.
func (a *App) openDelivery() error {
	cfg := a.Config
	email, err := message.NewEmailSender(cfg.Email.SMTPURL.Reveal(), cfg.Email.From, a.Logger)
	if err != nil {
		return err
	}
	sms, err := message.NewSMSSender(message.SMSConfig{
		Provider: cfg.SMS.Provider, WebhookURL: cfg.SMS.WebhookURL.Reveal(), WebhookSecret: cfg.SMS.WebhookSecret.Reveal(),
		TwilioAccountSID: cfg.SMS.TwilioAccountSID, TwilioAuthToken: cfg.SMS.TwilioAuthToken.Reveal(),
		TwilioFrom: cfg.SMS.TwilioFrom, TwilioBaseURL: cfg.SMS.TwilioBaseURL,
	}, a.Logger)
	if err != nil {
		return err
	}
	a.Metrics = newMetrics()
	a.Metrics.observeHasher(a.Identity.Core.Hasher)
	a.Worker = &message.Worker{Queue: a.Messages, Email: email, SMS: sms, Logger: a.Logger, Now: time.Now, Observe: a.Metrics.observeMessage,
		Logout: &message.HTTPLogoutSender{Client: a.Egress}, MaxAge: cfg.Email.MaxMessageAge.Std(), JobFailed: a.jobFailed}
	return nil
}

// chooseCaptcha builds the form CAPTCHA the configuration asks for: the
// built-in proof of work, a third-party widget (with the hosts its script
// needs in the Content-Security-Policy), or none.
func chooseCaptcha(c config.Captcha, pow *captcha.PoW) (v captcha.Verifier, challengeURL string, w templates.CaptchaWidget, cspHosts string) {
	switch c.Provider {
	case "pow":
		return pow, pathCaptchaChallenge, w, ""
	case "turnstile":
		return captcha.NewTurnstile(c.SecretKey.Reveal(), c.VerifyURL), "",
			templates.CaptchaWidget{Script: "https://challenges.cloudflare.com/turnstile/v0/api.js", Class: "cf-turnstile", SiteKey: c.SiteKey},
			"https://challenges.cloudflare.com"
	case "hcaptcha":
		return captcha.NewHCaptcha(c.SecretKey.Reveal(), c.VerifyURL), "",
			templates.CaptchaWidget{Script: "https://js.hcaptcha.com/1/api.js", Class: "h-captcha", SiteKey: c.SiteKey},
			"https://hcaptcha.com https://*.hcaptcha.com"
	case "recaptcha":
		return captcha.NewReCAPTCHA(c.SecretKey.Reveal(), c.VerifyURL), "",
			templates.CaptchaWidget{Script: "https://www.google.com/recaptcha/api.js", Class: "g-recaptcha", SiteKey: c.SiteKey},
			"https://www.google.com https://www.gstatic.com"
	}
	return nil, "", w, "" // off
}
