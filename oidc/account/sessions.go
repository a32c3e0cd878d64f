package account

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"gatehouse/identity/audit"
	"gatehouse/oidc"
	"gatehouse/templates"
)

// sessionList shows the user's active sessions, the current one marked.
func (h *Handler) sessionList(r *request) ([]templates.AccountSession, error) {
	all, err := h.Store.ListUserSessions(r.c.Request().Context(), r.user.ID)
	if err != nil {
		return nil, err
	}
	now := h.Now()
	var out []templates.AccountSession
	for _, s := range all {
		if !s.Active(now) {
			continue
		}
		out = append(out, templates.AccountSession{
			ID: s.ID, Device: describeAgent(s.UserAgent), IP: s.IP,
			Created: s.CreatedAt.UTC().Format("2 Jan 2006 15:04 MST"), LastSeen: ago(now.Sub(s.LastSeenAt)),
			SignedInWith: signedInWith(s.AMR), Current: s.ID == r.bs.ID,
		})
	}
	return out, nil
}

func (h *Handler) revokeSession(r *request) error {
	ctx := r.c.Request().Context()
	id := r.c.FormValue("session")
	s, err := h.Store.GetSession(ctx, id)
	// Only the user's own sessions, and never through this form the
	// current one (that is what "Sign out" is for).
	if errors.Is(err, oidc.ErrSessionNotFound) || (err == nil && (s.UserID != r.user.ID || s.ID == r.bs.ID)) {
		return &oidc.PageError{Status: http.StatusNotFound, Title: "Session not found", Message: "That session has already ended."}
	}
	if err != nil {
		return err
	}
	if err := h.Store.RevokeSession(ctx, id); err != nil {
		return err
	}
	h.Logger.InfoContext(ctx, "session revoked", "user_id", r.user.ID, "session_id", id)
	h.audit(r, audit.ActionSessionRevoked, audit.Details{"session_id": id})
	return done(r, sectionSessions, "session_revoked")
}

func (h *Handler) revokeOtherSessions(r *request) error {
	ctx := r.c.Request().Context()
	all, err := h.Store.ListUserSessions(ctx, r.user.ID)
	if err != nil {
		return err
	}
	for _, s := range all {
		if s.ID == r.bs.ID {
			continue
		}
		if err := h.Store.RevokeSession(ctx, s.ID); err != nil {
			return err
		}
	}
	h.Logger.InfoContext(ctx, "other sessions revoked", "user_id", r.user.ID)
	h.audit(r, audit.ActionSessionRevoked, audit.Details{"scope": "all_other_sessions"})
	return done(r, sectionSessions, "sessions_revoked")
}

// amrWords name the amr values (RFC 8176) of a session's methods for the
// sessions list. "user" and "mfa" say how, not with what, and are left out.
var amrWords = map[string]string{
	"pwd": "password", "otp": "authenticator app", "swk": "passkey", "hwk": "security key",
	"sms": "SMS code", "email": "e-mail code",
}

// signedInWith says in words which factors a session's amr records:
// "password and authenticator app". A password with "mfa" and no other
// factor was a password and a recovery code.
func signedInWith(amr []string) string {
	var words []string
	for _, v := range amr {
		if w := amrWords[v]; w != "" {
			words = append(words, w)
		}
	}
	if len(words) == 1 && words[0] == "password" && slices.Contains(amr, "mfa") {
		words = append(words, "recovery code")
	}
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// describeAgent turns a User-Agent header into "Browser on System", enough
// for a person to recognise their own devices.
func describeAgent(ua string) string {
	browser := "Unknown browser"
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chromium/", "Chromium"},
		{"Chrome/", "Chrome"}, {"Safari/", "Safari"}, {"curl/", "curl"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, s := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, s.token) {
			system = s.name
			break
		}
	}
	if system == "" {
		return browser
	}
	return browser + " on " + system
}

// ago says how long ago something happened, in words.
func ago(d time.Duration) string {
	switch {
	case d < 2*time.Minute:
		return "just now"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " minutes ago"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " hours ago"
	default:
		return strconv.Itoa(int(d/(24*time.Hour))) + " days ago"
	}
}
