package mfapages

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"gatehouse/identity/audit"
	"gatehouse/identity/mfa"
	"gatehouse/oidc"
	"gatehouse/templates"
)

// Routes of the remembered browsers: forget one (field "browser"), forget
// all.
const (
	PathBrowserForget     = "/account/security/browsers/forget"
	PathBrowsersForgetAll = "/account/security/browsers/forget-all"
)

// Browsers lists and forgets remembered browsers; *mfa.Service is one.
type Browsers interface {
	// ListBrowsers returns the user's unexpired remembered browsers.
	ListBrowsers(ctx context.Context, userID string) ([]mfa.RememberedBrowser, error)
	// ForgetBrowser forgets one of them, or returns mfa.ErrNotFound.
	ForgetBrowser(ctx context.Context, userID, id string) error
	// ForgetBrowsers forgets all of them.
	ForgetBrowsers(ctx context.Context, userID string) (int64, error)
}

// Deferrals tells the enrolment page of a sign-in what the sign-in
// needs; *authflow.Handler is one.
type Deferrals interface {
	// EnrolmentDecision returns, for the enrolment of flowID, mfa.Decide's
	// decision (Offer: the kinds that would do; Deferrable: the policy's
	// grace period lets the user put it off) and the days left of that
	// period; ok is false when the page is not such a flow's.
	EnrolmentDecision(c echo.Context, flowID string) (d mfa.Decision, daysLeft int, ok bool, err error)
}

// AccountBrowsers returns the user's remembered browsers as the security
// section lists them.
func (h *Handler) AccountBrowsers(ctx context.Context, userID string) ([]templates.AccountBrowser, error) {
	if h.Browsers == nil {
		return nil, nil
	}
	list, err := h.Browsers.ListBrowsers(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]templates.AccountBrowser, 0, len(list))
	for _, b := range list {
		out = append(out, templates.AccountBrowser{
			ID: b.ID, Label: b.Label, Added: b.CreatedAt.UTC().Format(dateFormat),
			LastUsed: b.LastUsedAt.UTC().Format(dateFormat), Expires: b.ExpiresAt.UTC().Format(dateFormat),
		})
	}
	return out, nil
}

// forgetBrowser forgets one of the user's remembered browsers. It needs
// no recent second factor: it only takes a shortcut away.
func (h *Handler) forgetBrowser(r *request) error {
	if h.Browsers == nil {
		return r.c.Redirect(http.StatusSeeOther, securityURL)
	}
	err := h.Browsers.ForgetBrowser(r.c.Request().Context(), r.user.ID, r.c.FormValue("browser"))
	if errors.Is(err, mfa.ErrNotFound) {
		// Not one of this user's, or forgotten already (a reload).
		return r.c.Redirect(http.StatusSeeOther, securityURL)
	}
	if err != nil {
		return err
	}
	oidc.Audit(r.c, h.Auditor, h.Logger, audit.Entry{ActorType: audit.ActorUser, ActorID: r.user.ID,
		Subject: r.user.ID, Action: audit.ActionMFABrowserForgotten, Details: audit.Details{"scope": "one"}})
	return r.c.Redirect(http.StatusSeeOther, securityURL)
}

// forgetBrowsers forgets every remembered browser of the user.
func (h *Handler) forgetBrowsers(r *request) error {
	if h.Browsers == nil {
		return r.c.Redirect(http.StatusSeeOther, securityURL)
	}
	n, err := h.Browsers.ForgetBrowsers(r.c.Request().Context(), r.user.ID)
	if err != nil {
		return err
	}
	oidc.Audit(r.c, h.Auditor, h.Logger, audit.Entry{ActorType: audit.ActorUser, ActorID: r.user.ID,
		Subject: r.user.ID, Action: audit.ActionMFABrowserForgotten, Details: audit.Details{"scope": "all", "count": strconv.FormatInt(n, 10)}})
	return r.c.Redirect(http.StatusSeeOther, securityURL)
}
