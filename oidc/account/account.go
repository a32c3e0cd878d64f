package account

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"gatehouse/identity"
	"gatehouse/identity/audit"
	"gatehouse/oidc"
	"gatehouse/templates"
)

// Path is the root of the account area.
const Path = "/account"

// Sessions tells who is signed in.
type Sessions interface {
	// SignedIn returns the browser's active session, or nil.
	SignedIn(c echo.Context) (*oidc.BrowserSession, error)
}

// SessionStore lists and ends a user's browser sessions.
type SessionStore interface {
	// ListUserSessions returns a user's sessions, newest first.
	ListUserSessions(ctx context.Context, userID string) ([]*oidc.BrowserSession, error)
	// GetSession returns the session with the public ID.
	GetSession(ctx context.Context, id string) (*oidc.BrowserSession, error)
	// RevokeSession ends a session and the tokens issued through it.
	RevokeSession(ctx context.Context, id string) error
}

// Users is what the account pages need to read the signed-in user.
type Users interface {
	GetUser(ctx context.Context, id string) (*identity.User, error)
}

// Profiles is what the account pages need to edit the profile and the
// password.
type Profiles interface {
	UpdateProfile(ctx context.Context, userID string, in identity.ProfileInput) (*identity.User, error)
	ChangePassword(ctx context.Context, userID, current, newPassword, keepSessionID string) error
}

// Contacts is what the account pages need to change and verify the e-mail
// address and the phone number.
type Contacts interface {
	ChangeEmail(ctx context.Context, userID, newEmail string) error
	ConfirmEmailChangeCode(ctx context.Context, userID, code string) error
	StartEmailVerification(ctx context.Context, userID string) error
	StartPhoneVerification(ctx context.Context, userID, phone string) error
	VerifyPhoneCode(ctx context.Context, userID, code string) error
	PendingContact(ctx context.Context, userID string) (email, phone string, err error)
}

// History reads the audit trail.
type History interface {
	List(ctx context.Context, f audit.Filter) ([]audit.Entry, error)
}

// SecondFactors describes the user's second factors for the security
// section; *mfapages.Handler is one.
type SecondFactors interface {
	// AccountFactors returns the user's factors and the number of
	// recovery codes left.
	AccountFactors(ctx context.Context, userID string) ([]templates.AccountFactor, int, error)
}

// RememberedBrowsers is an optional ability of SecondFactors: it lists
// the browsers that skip the second factor.
type RememberedBrowsers interface {
	// AccountBrowsers returns the user's remembered browsers.
	AccountBrowsers(ctx context.Context, userID string) ([]templates.AccountBrowser, error)
}

// SignInCodeLister is an optional ability of SecondFactors: the sign-in
// codes the user could turn on.
type SignInCodeLister interface {
	// SignInCodeOptions returns the kinds of sign-in code the user could
	// turn on, each available or not.
	SignInCodeOptions(ctx context.Context, u *identity.User) ([]templates.SignInCodeOption, error)
}

// Handler serves the account pages.
type Handler struct {
	Sessions  Sessions
	Store     SessionStore
	Now       func() time.Time
	Users     Users
	Profiles  Profiles
	Contacts  Contacts
	Pages     *templates.Renderer
	Logger    *slog.Logger
	CSRF      echo.MiddlewareFunc
	LogoutURL string
	// Auditor records the changes (nil records nothing); History, when
	// set, shows the user their recent security events.
	Auditor oidc.AuditRecorder
	History History
	// PasswordMinLength is shown next to the new-password field.
	PasswordMinLength int
	// TOTPSetupAction starts adding an authenticator app; the security
	// section offers it when set.
	TOTPSetupAction string
	// SecondFactors, when set, lists the user's factors in the security
	// section.
	SecondFactors SecondFactors
	// Passkeys is the passkey part of the security section (its zero
	// value offers none).
	Passkeys templates.AccountPasskeys
	// FactorRemoveAction and RecoveryCodesAction are the security
	// section's forms that remove a factor and replace the recovery
	// codes; each is hidden when empty.
	FactorRemoveAction  string
	RecoveryCodesAction string
	// BrowserForgetAction and BrowsersForgetAllAction forget one or all
	// remembered browsers; each form is hidden when empty.
	BrowserForgetAction     string
	BrowsersForgetAllAction string
	// FactorDefaultAction and SignInCodesAction are the forms that make
	// a factor the default and turn on sign-in codes; each is hidden
	// when empty.
	FactorDefaultAction string
	SignInCodesAction   string
	// Links, when set, lists the user's linked upstream accounts in the
	// security section and lets the user unlink one; Notifier mails the
	// owner about it.
	Links    LinkedAccounts
	Notifier Notifier
}

// Mount registers the account routes on e.
func (h *Handler) Mount(e *echo.Echo) {
	e.GET(Path, h.page, h.CSRF)
	e.POST(Path+"/profile", h.withUser(h.saveProfile), h.CSRF)
	e.POST(Path+"/preferences", h.withUser(h.savePreferences), h.CSRF)
	e.POST(Path+"/email", h.withUser(h.changeEmail), h.CSRF)
	e.POST(Path+"/email/code", h.withUser(h.confirmEmail), h.CSRF)
	e.POST(Path+"/email/resend", h.withUser(h.resendEmail), h.CSRF)
	e.POST(Path+"/phone", h.withUser(h.changePhone), h.CSRF)
	e.POST(Path+"/phone/code", h.withUser(h.confirmPhone), h.CSRF)
	e.POST(Path+"/password", h.withUser(h.changePassword), h.CSRF)
	e.POST(Path+"/sessions/revoke", h.withUser(h.revokeSession), h.CSRF)
	e.POST(Path+"/sessions/revoke-others", h.withUser(h.revokeOtherSessions), h.CSRF)
	if h.Links != nil {
		e.POST(PathLinkRemove, h.withUser(h.removeLink), h.CSRF)
	}
}

// request is one signed-in request: the user and their session.
type request struct {
	c    echo.Context
	user *identity.User
	bs   *oidc.BrowserSession
}

// signedIn returns the user, or nil after redirecting to the login page.
func (h *Handler) signedIn(c echo.Context) (*request, error) {
	bs, err := h.Sessions.SignedIn(c)
	if err != nil || bs == nil {
		return nil, err
	}
	u, err := h.Users.GetUser(c.Request().Context(), bs.UserID)
	if errors.Is(err, identity.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &request{c: c, user: u, bs: bs}, nil
}

func (h *Handler) withUser(fn func(r *request) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		r, err := h.signedIn(c)
		if err != nil {
			return err
		}
		if r == nil {
			return c.Redirect(http.StatusSeeOther, oidc.PathLogin+"?next="+url.QueryEscape(Path))
		}
		return fn(r)
	}
}

// Sections of the account page.
const (
	sectionProfile     = "profile"
	sectionContact     = "contact"
	sectionPassword    = "password"
	sectionPreferences = "preferences"
	sectionSessions    = "sessions"
	sectionSecurity    = "security"
)

// notices are the confirmations a redirect names by key, so that no text
// from the URL is ever shown.
var notices = map[string]string{
	"profile_saved":     "Your profile has been saved.",
	"preferences_saved": "Your preferences have been saved.",
	"email_sent":        "We sent a code and a link to your new address. Your current address stays in use until you confirm.",
	"email_verified":    "Your email address is verified.",
	"email_changed":     "Your email address has been changed.",
	"email_resent":      "We sent a new verification code and link.",
	"phone_sent":        "We sent a code to your phone by text message.",
	"phone_verified":    "Your phone number is verified.",
	"password_changed":  "Your password has been changed. Your other sessions were signed out.",
	"session_revoked":   "The session has been signed out.",
	"sessions_revoked":  "All your other sessions have been signed out.",
	"link_removed":      "The account has been unlinked: you can no longer sign in with it.",
}

func (h *Handler) page(c echo.Context) error {
	r, err := h.signedIn(c)
	if err != nil {
		return err
	}
	if r == nil {
		return c.Redirect(http.StatusSeeOther, oidc.PathLogin+"?next="+url.QueryEscape(Path))
	}
	section := c.QueryParam("section")
	switch section {
	case sectionContact, sectionPassword, sectionPreferences, sectionSessions, sectionSecurity:
	default:
		section = sectionProfile
	}
	return h.render(r, http.StatusOK, section, nil, notices[c.QueryParam("notice")])
}

func (h *Handler) render(r *request, status int, section string, errs map[string]string, notice string) error {
	pendingEmail, pendingPhone, err := h.Contacts.PendingContact(r.c.Request().Context(), r.user.ID)
	if err != nil {
		return err
	}
	p := templates.AccountPage{
		Section: section, CSRF: oidc.CSRFToken(r.c), Notice: notice, Errors: errs,
		User:          accountUser(r.user, pendingEmail, pendingPhone),
		ProfileAction: Path + "/profile", PreferencesAction: Path + "/preferences",
		EmailAction: Path + "/email", EmailCodeAction: Path + "/email/code", ResendEmailAction: Path + "/email/resend",
		PhoneAction: Path + "/phone", PhoneCodeAction: Path + "/phone/code",
		PasswordAction: Path + "/password", LogoutURL: h.LogoutURL, URL: Path,
		PasswordMinLength:   h.PasswordMinLength,
		SessionRevokeAction: Path + "/sessions/revoke", SessionRevokeOthersAction: Path + "/sessions/revoke-others",
		TOTPSetupAction:    h.TOTPSetupAction,
		FactorRemoveAction: h.FactorRemoveAction, RecoveryCodesAction: h.RecoveryCodesAction,
		BrowserForgetAction: h.BrowserForgetAction, BrowsersForgetAllAction: h.BrowsersForgetAllAction,
		FactorDefaultAction: h.FactorDefaultAction, SignInCodesAction: h.SignInCodesAction,
		Passkeys: h.Passkeys,
	}
	switch section {
	case sectionSessions:
		if p.Sessions, err = h.sessionList(r); err != nil {
			return err
		}
	case sectionSecurity:
		if p.Events, err = h.events(r); err != nil {
			return err
		}
		if p.Links, err = h.linkedAccounts(r); err != nil {
			return err
		}
		if h.Links != nil {
			p.LinkRemoveAction = PathLinkRemove
		}
		if h.SecondFactors != nil {
			if p.Factors, p.RecoveryCodesLeft, err = h.SecondFactors.AccountFactors(r.c.Request().Context(), r.user.ID); err != nil {
				return err
			}
			if rb, ok := h.SecondFactors.(RememberedBrowsers); ok {
				if p.Browsers, err = rb.AccountBrowsers(r.c.Request().Context(), r.user.ID); err != nil {
					return err
				}
			}
			if l, ok := h.SecondFactors.(SignInCodeLister); ok && h.SignInCodesAction != "" {
				if p.SignInCodeOptions, err = l.SignInCodeOptions(r.c.Request().Context(), r.user); err != nil {
					return err
				}
			}
		}
	}
	return h.Pages.Account(oidc.StartPage(r.c, status), p)
}

func accountUser(u *identity.User, pendingEmail, pendingPhone string) templates.AccountUser {
	return templates.AccountUser{
		Username: u.Username, GivenName: u.GivenName, FamilyName: u.FamilyName, MiddleName: u.MiddleName,
		Nickname: u.Nickname, Picture: u.Picture, Website: u.Website, Gender: u.Gender, Birthdate: u.Birthdate,
		Locale: u.Locale, Zoneinfo: u.Zoneinfo,
		Address: templates.AccountAddress{
			Street: u.Address.StreetAddress, Locality: u.Address.Locality, Region: u.Address.Region,
			PostalCode: u.Address.PostalCode, Country: u.Address.Country,
		},
		Email: u.Email, EmailVerified: u.EmailVerified, PendingEmail: pendingEmail,
		Phone: u.Phone, PhoneVerified: u.PhoneVerified, PendingPhone: pendingPhone,
	}
}

// done redirects back to a section with a notice (post/redirect/get).
func done(r *request, section, notice string) error {
	return r.c.Redirect(http.StatusSeeOther, Path+"?"+url.Values{"section": {section}, "notice": {notice}}.Encode())
}

// fail re-renders a section with the problems a service call reported, or
// returns an unexpected error to the central error handler.
func (h *Handler) fail(r *request, section string, err error) error {
	var ve *identity.ValidationError
	var ce *identity.CooldownError
	switch {
	case errors.As(err, &ve):
		return h.render(r, http.StatusUnprocessableEntity, section, ve.Fields, "")
	case errors.As(err, &ce):
		return h.render(r, http.StatusTooManyRequests, section, nil, "A code was sent moments ago. Please wait a minute before asking for another.")
	case errors.Is(err, identity.ErrTooManyAttempts):
		return h.render(r, http.StatusUnprocessableEntity, section, map[string]string{"code": "Too many wrong codes. Ask for a new code and try again."}, "")
	case errors.Is(err, identity.ErrCodeInvalid):
		return h.render(r, http.StatusUnprocessableEntity, section, map[string]string{"code": "That code is not right or has expired."}, "")
	}
	return err
}

// audit records a change the signed-in user made to their own account.
func (h *Handler) audit(r *request, action string, details audit.Details) {
	oidc.Audit(r.c, h.Auditor, h.Logger, audit.Entry{ActorType: audit.ActorUser, ActorID: r.user.ID,
		Subject: r.user.ID, Action: action, Details: details})
}
