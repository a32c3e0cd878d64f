package mfapages

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"gatehouse/identity"
	"gatehouse/identity/audit"
	"gatehouse/identity/mfa"
	"gatehouse/oidc"
	"gatehouse/templates"
)

// Routes of the pages, under the account area's security section.
const (
	PathTOTP        = "/account/security/totp"
	PathTOTPConfirm = PathTOTP + "/confirm"
	// PathRecoveryCodes replaces the recovery codes; PathFactorRemove
	// removes one factor (field "factor").
	PathRecoveryCodes = "/account/security/recovery-codes"
	PathFactorRemove  = "/account/security/factors/remove"
	// PathConfirm shows the change asked for before a sign-in again
	// (action=remove&factor=ID, or action=regenerate) with its button.
	PathConfirm = "/account/security/confirm"
	// securityURL is the security section of the account page.
	securityURL = "/account?section=security"
)

// factorName labels an authenticator app until factors can be renamed.
const factorName = "Authenticator app"

// Sessions tells who is signed in.
type Sessions interface {
	// SignedIn returns the browser's active session, or nil.
	SignedIn(c echo.Context) (*oidc.BrowserSession, error)
}

// Users reads the signed-in user.
type Users interface {
	// GetUser returns the user with id, or identity.ErrNotFound.
	GetUser(ctx context.Context, id string) (*identity.User, error)
}

// Factors enrols second factors; *mfa.Service is one.
type Factors interface {
	// BeginTOTP creates a pending authenticator app and returns its key.
	BeginTOTP(ctx context.Context, userID, username, name string) (*mfa.Enrolment, error)
	// PendingTOTP returns the key of a pending authenticator app again.
	PendingTOTP(ctx context.Context, userID, username, factorID string) (*mfa.Enrolment, error)
	// ConfirmTOTP turns a pending authenticator app on with a valid code.
	ConfirmTOTP(ctx context.Context, userID, factorID, code string) error
	// ListFactors returns the user's confirmed factors.
	ListFactors(ctx context.Context, userID string) ([]mfa.Factor, error)
	// RegenerateRecoveryCodes replaces the user's recovery codes.
	RegenerateRecoveryCodes(ctx context.Context, userID string) ([]string, error)
	// RemainingRecoveryCodes counts the user's unused recovery codes.
	RemainingRecoveryCodes(ctx context.Context, userID string) (int, error)
	// RemoveFactor removes one of the user's factors.
	RemoveFactor(ctx context.Context, userID, factorID string) error
	// EnableCodes turns on sign-in codes of a kind (mfa.KindEmail,
	// mfa.KindSMS), or returns mfa.ErrExists.
	EnableCodes(ctx context.Context, userID string, kind mfa.Kind) (*mfa.Factor, error)
	// SetDefault makes one of the user's factors the default, or
	// returns mfa.ErrNotFound.
	SetDefault(ctx context.Context, userID, factorID string) error
}

// Notifier queues the security notice of a factor turned on;
// identity.Notifier is one.
type Notifier interface {
	// SendMail queues an e-mail.
	SendMail(ctx context.Context, m identity.Mail) error
}

// Handler serves the second-factor pages.
type Handler struct {
	Sessions Sessions
	Users    Users
	Factors  Factors
	Pages    *templates.Renderer
	CSRF     echo.MiddlewareFunc
	// Auditor records each factor turned on (nil records nothing).
	Auditor oidc.AuditRecorder
	// Notifier mails the user when a factor is turned on (nil sends
	// nothing).
	Notifier Notifier
	Logger   *slog.Logger
	// FlowContinue hands a sign-in back to its dispatcher (with the flow
	// as "flow") when the enrolment was part of one.
	FlowContinue string
	// Deferrals, with LaterAction, offers "Set up later" on the
	// enrolment page of a sign-in within the policy's grace period.
	Deferrals   Deferrals
	LaterAction string
	// Browsers lists and forgets remembered browsers (nil: none).
	Browsers Browsers
	// Passkeys registers passkeys (nil: none are offered).
	Passkeys Passkeys
	// Now is the clock that tells a recent sign-in (nil means time.Now).
	Now func() time.Time
	// CodeKinds are the kinds of sign-in code the deployment delivers
	// (mfa.KindEmail, mfa.KindSMS); only these can be turned on.
	CodeKinds []mfa.Kind
}

// Mount registers the routes on e.
func (h *Handler) Mount(e *echo.Echo) {
	e.GET(PathTOTP, h.withUser(h.startTOTP), h.CSRF)
	e.POST(PathTOTP, h.withUser(h.beginTOTP), h.CSRF)
	e.POST(PathTOTPConfirm, h.withUser(h.confirmTOTP), h.CSRF)
	e.POST(PathRecoveryCodes, h.withUser(h.regenerateCodes), h.CSRF)
	e.POST(PathFactorRemove, h.withUser(h.removeFactor), h.CSRF)
	e.GET(PathConfirm, h.withUser(h.confirm), h.CSRF)
	e.POST(PathBrowserForget, h.withUser(h.forgetBrowser), h.CSRF)
	e.POST(PathBrowsersForgetAll, h.withUser(h.forgetBrowsers), h.CSRF)
	e.POST(PathSignInCodes, h.withUser(h.enableCodes), h.CSRF)
	e.POST(PathFactorDefault, h.withUser(h.makeDefault), h.CSRF)
	e.POST(PathPasskeyOptions, h.withUser(h.passkeyOptions), h.CSRF)
	e.POST(PathPasskeys, h.withUser(h.addPasskey), h.CSRF)
	e.POST(PathPasskeyRename, h.withUser(h.renamePasskey), h.CSRF)
}

// request is one signed-in request.
type request struct {
	c    echo.Context
	user *identity.User
	bs   *oidc.BrowserSession
}

func (h *Handler) withUser(fn func(r *request) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		bs, err := h.Sessions.SignedIn(c)
		if err != nil {
			return err
		}
		var u *identity.User
		if bs != nil {
			u, err = h.Users.GetUser(c.Request().Context(), bs.UserID)
			if err != nil && !errors.Is(err, identity.ErrNotFound) {
				return err
			}
		}
		if u == nil {
			return c.Redirect(http.StatusSeeOther, oidc.PathLogin+"?next="+url.QueryEscape(securityURL))
		}
		return fn(&request{c: c, user: u, bs: bs})
	}
}

// startTOTP is where a sign-in leads a user whose application asks for
// two-step verification they have not set up: a button that begins.
func (h *Handler) startTOTP(r *request) error {
	p := templates.TOTPSetupPage{StartAction: PathTOTP, CSRF: oidc.CSRFToken(r.c), Flow: r.c.QueryParam("flow"), Passkeys: h.AccountPasskeys()}
	if p.Flow != "" && h.Deferrals != nil {
		d, days, ok, err := h.Deferrals.EnrolmentDecision(r.c, p.Flow)
		if err != nil {
			return err
		}
		if ok && d.Deferrable && h.LaterAction != "" {
			p.LaterAction, p.LaterDays = h.LaterAction, days
		}
		// An app would not do (acr_values=phr): offer only what would.
		p.PasskeyOnly = ok && !slices.Contains(d.Offer, mfa.KindTOTP) && slices.Contains(d.Offer, mfa.KindWebAuthn)
	}
	return h.Pages.TOTPSetup(oidc.StartPage(r.c, http.StatusOK), p)
}

// continueURL is where the enrolment ends: back into the sign-in it was
// part of, or the security section.
func (h *Handler) continueURL(r *request) string {
	if flow := r.c.FormValue("flow"); flow != "" && h.FlowContinue != "" {
		return h.FlowContinue + "?" + url.Values{"flow": {flow}}.Encode()
	}
	return securityURL
}

// beginTOTP starts a pending authenticator app and shows its key.
func (h *Handler) beginTOTP(r *request) error {
	e, err := h.Factors.BeginTOTP(r.c.Request().Context(), r.user.ID, r.user.Username, factorName)
	if err != nil {
		return err
	}
	return h.renderKey(r, http.StatusOK, e, nil)
}

// confirmTOTP turns the pending app on with its first code, then shows
// the recovery codes when the user has none yet.
func (h *Handler) confirmTOTP(r *request) error {
	ctx := r.c.Request().Context()
	factorID := r.c.FormValue("factor")
	err := h.Factors.ConfirmTOTP(ctx, r.user.ID, factorID, r.c.FormValue("code"))
	switch {
	case errors.Is(err, mfa.ErrInvalidCode):
		e, err := h.Factors.PendingTOTP(ctx, r.user.ID, r.user.Username, factorID)
		if err != nil {
			return err
		}
		return h.renderKey(r, http.StatusUnprocessableEntity, e,
			map[string]string{"code": "That code is not right. Enter the code the app shows now."})
	case errors.Is(err, mfa.ErrNotFound):
		// A factor already confirmed (a reload) or replaced by a newer
		// enrolment in another tab: nothing to confirm here.
		return r.c.Redirect(http.StatusSeeOther, h.continueURL(r))
	case err != nil:
		return err
	}
	return h.enabled(r, mfa.KindTOTP, "")
}

// enabled ends an enrolment of kind: it is audited and mailed, and the
// user's first factor gets recovery codes, shown once with notice above
// them ("" says the app is set up).
func (h *Handler) enabled(r *request, kind mfa.Kind, notice string) error {
	ctx := r.c.Request().Context()
	oidc.Audit(r.c, h.Auditor, h.Logger, audit.Entry{ActorType: audit.ActorUser, ActorID: r.user.ID,
		Subject: r.user.ID, Action: audit.ActionMFAEnabled, Details: audit.Details{"factor": string(kind)}})
	h.notifyMail(ctx, r.user, identity.Mail{Kind: identity.MailMFAEnabled, Factor: string(kind)})
	left, err := h.Factors.RemainingRecoveryCodes(ctx, r.user.ID)
	if err != nil {
		return err
	}
	if left > 0 {
		// The user has recovery codes from an earlier app already.
		// Sign-in codes by e-mail or SMS come with none: a user who
		// had only those gets them now.
		return r.c.Redirect(http.StatusSeeOther, h.continueURL(r))
	}
	codes, err := h.Factors.RegenerateRecoveryCodes(ctx, r.user.ID)
	if err != nil {
		return err
	}
	return h.Pages.TOTPSetup(oidc.StartPage(r.c, http.StatusOK), templates.TOTPSetupPage{
		RecoveryCodes: codes, ContinueURL: h.continueURL(r), CodesNotice: notice,
	})
}

func (h *Handler) renderKey(r *request, status int, e *mfa.Enrolment, errs map[string]string) error {
	return h.Pages.TOTPSetup(oidc.StartPage(r.c, status), templates.TOTPSetupPage{
		Action: PathTOTPConfirm, CSRF: oidc.CSRFToken(r.c), FactorID: e.FactorID, Flow: r.c.FormValue("flow"),
		Secret: e.Secret, URI: e.URI, QRCode: e.QRCode, Errors: errs,
	})
}

// notify mails the user a notice of kind about their factors. The change
// is made whether or not the notice is queued, so a failure is logged,
// not returned.
func (h *Handler) notify(ctx context.Context, u *identity.User, kind identity.MailKind) {
	h.notifyMail(ctx, u, identity.Mail{Kind: kind})
}

// notifyMail mails the user the notice m, addressed to them.
func (h *Handler) notifyMail(ctx context.Context, u *identity.User, m identity.Mail) {
	if h.Notifier == nil || u.Email == "" {
		return
	}
	m.To, m.Name = u.Email, u.GivenName
	if m.Name == "" {
		m.Name = u.Username
	}
	if err := h.Notifier.SendMail(ctx, m); err != nil {
		h.Logger.ErrorContext(ctx, "queue notice", "user_id", u.ID, "kind", string(m.Kind), "error", err)
	}
}
