package console

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"gatehouse/identity"
	"gatehouse/identity/access"
	"gatehouse/identity/audit"
	"gatehouse/identity/mfa"
	"gatehouse/oidc"
	"gatehouse/templates"
)

// auditShown is how many of the user's latest audit entries the page
// lists.
const auditShown = 20

// user shows one user: profile, contact details, roles, status, lockout,
// sessions, second factors and recent activity, with the actions the
// viewer may take.
func (h *Handler) user(c echo.Context) error {
	u, err := h.target(c)
	if err != nil {
		return err
	}
	return h.renderUser(c, http.StatusOK, u, notices[c.QueryParam("notice")], "")
}

// renderUser shows u's page with a notice or an alert.
func (h *Handler) renderUser(c echo.Context, status int, u *identity.User, notice, alert string) error {
	v := ViewerOf(c)
	ctx := c.Request().Context()
	now := h.now()
	p := templates.ConsoleUserPage{Nav: h.Nav(v, PathUsers), CSRF: oidc.CSRFToken(c), Notice: notice, Alert: alert,
		User: consoleUser(u, now), Actions: h.actionsFor(v, u, now)}
	var err error
	if p.Sessions, err = h.sessionsOf(ctx, u.ID); err != nil {
		return err
	}
	if p.Factors, err = h.factorsOf(ctx, u.ID); err != nil {
		return err
	}
	if p.Audit, err = h.auditOf(ctx, u.ID); err != nil {
		return err
	}
	return h.Pages.ConsoleUser(oidc.StartPage(c, status), p)
}

func consoleUser(u *identity.User, now time.Time) templates.ConsoleUser {
	out := templates.ConsoleUser{ID: u.ID, Username: u.Username, Name: u.Name(), Email: u.Email, Phone: u.Phone,
		EmailVerified: u.EmailVerified, PhoneVerified: u.PhoneVerified, Roles: u.Roles,
		Status: string(u.Status), Active: u.Status == identity.StatusActive,
		Created: u.CreatedAt.UTC().Format(timeFormat), Updated: u.UpdatedAt.UTC().Format(timeFormat)}
	if u.LastLoginAt != nil {
		out.LastLogin = u.LastLoginAt.UTC().Format(timeFormat)
	}
	switch {
	case u.LockedPermanently:
		out.Locked = "Locked until unlocked, after repeated failed sign-ins"
	case u.LockedAt(now):
		out.Locked = "Locked until " + u.LockedUntil.UTC().Format(timeFormat) + ", after failed sign-ins"
	}
	return out
}

// actionsFor lists what v may do to u, each action only where it makes
// sense (unlock a locked user, reactivate a deactivated one).
func (h *Handler) actionsFor(v *Viewer, u *identity.User, now time.Time) templates.ConsoleUserActions {
	var a templates.ConsoleUserActions
	base := userURL(u.ID)
	if v.Permissions.Has(access.UsersWrite) {
		a.EditURL = base + "/edit"
		a.ConfirmEndSessionsURL = base + "/confirm/" + actEndSessions.name
		if u.Status == identity.StatusActive {
			a.ConfirmDeactivateURL = base + "/confirm/" + actDeactivate.name
			if u.Email != "" {
				a.SendResetAction = base + "/" + actSendReset.name
			}
		} else {
			a.ReactivateAction = base + "/" + actReactivate.name
		}
		if u.LockedPermanently || u.LockedAt(now) {
			a.UnlockAction = base + "/" + actUnlock.name
		}
	}
	if v.Permissions.Has(access.UsersAdmin) {
		a.RolesURL = base + "/roles"
		a.ConfirmDeleteURL = base + "/confirm/" + actDelete.name
	}
	return a
}

func (h *Handler) sessionsOf(ctx context.Context, userID string) ([]templates.ConsoleSession, error) {
	if h.UserSessions == nil {
		return nil, nil
	}
	all, err := h.UserSessions.ListUserSessions(ctx, userID)
	if err != nil {
		return nil, err
	}
	now := h.now()
	var out []templates.ConsoleSession
	for _, s := range all {
		if !s.Active(now) {
			continue
		}
		out = append(out, templates.ConsoleSession{Device: oidc.Truncate(s.UserAgent, 80), IP: s.IP,
			SignedInWith: strings.Join(s.AMR, ", "), Created: s.CreatedAt.UTC().Format(timeFormat),
			LastSeen: s.LastSeenAt.UTC().Format(timeFormat)})
	}
	return out, nil
}

// factorKinds says in words what kind of factor each is.
var factorKinds = map[mfa.Kind]string{
	mfa.KindTOTP:     "Authenticator app",
	mfa.KindWebAuthn: "Passkey",
	mfa.KindEmail:    "Codes by e-mail",
	mfa.KindSMS:      "Codes by SMS",
}

func (h *Handler) factorsOf(ctx context.Context, userID string) ([]templates.ConsoleFactor, error) {
	if h.Factors == nil {
		return nil, nil
	}
	factors, err := h.Factors.ListFactors(ctx, userID)
	if err != nil {
		return nil, err
	}
	var out []templates.ConsoleFactor
	for _, f := range factors {
		kind := factorKinds[f.Kind]
		if kind == "" {
			kind = string(f.Kind)
		}
		cf := templates.ConsoleFactor{Kind: kind, Name: f.Name, Added: f.CreatedAt.UTC().Format(timeFormat)}
		if f.LastUsedAt != nil {
			cf.LastUsed = f.LastUsedAt.UTC().Format(timeFormat)
		}
		out = append(out, cf)
	}
	return out, nil
}

func (h *Handler) auditOf(ctx context.Context, userID string) ([]templates.ConsoleAuditEntry, error) {
	if h.History == nil {
		return nil, nil
	}
	entries, err := h.History.List(ctx, audit.Filter{UserID: userID, Limit: auditShown})
	if err != nil {
		return nil, err
	}
	out := make([]templates.ConsoleAuditEntry, 0, len(entries))
	for _, e := range entries {
		actor := e.ActorType
		switch {
		case e.ActorID == userID:
			actor = "the user"
		case e.ActorID != "":
			actor += " " + e.ActorID
		}
		out = append(out, templates.ConsoleAuditEntry{Time: e.Time.UTC().Format(timeFormat), Action: e.Action,
			Actor: actor, Outcome: e.Outcome})
	}
	return out, nil
}
