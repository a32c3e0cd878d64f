package account

import (
	"gatehouse/identity/audit"
	"gatehouse/templates"
)

// eventNames says in words what an audit action means to the user. Only
// these are shown: the rest is for administrators.
var eventNames = map[string]string{
	audit.ActionLoginSucceeded:              "Signed in",
	audit.ActionLoginFailed:                 "Sign-in attempt",
	audit.ActionLogout:                      "Signed out",
	audit.ActionPasswordChanged:             "Password changed",
	audit.ActionPasswordReset:               "Password reset",
	audit.ActionEmailVerified:               "Email address verified",
	audit.ActionEmailChanged:                "Email address changed",
	audit.ActionPhoneVerified:               "Phone number verified",
	audit.ActionSessionRevoked:              "Session signed out",
	audit.ActionLockoutStarted:              "Account locked after failed sign-ins",
	audit.ActionLockoutEnded:                "Account unlocked",
	audit.ActionMFAEnabled:                  "Two-step verification turned on",
	audit.ActionMFADisabled:                 "Two-step verification turned off",
	audit.ActionMFARecoveryCodesRegenerated: "New recovery codes made",
	audit.ActionMFARecoveryCodeUsed:         "Signed in with a recovery code",
	audit.ActionMFACodeSent:                 "Sign-in code sent",
	audit.ActionMFABrowserRemembered:        "Browser remembered for two-step verification",
	audit.ActionMFABrowserForgotten:         "Remembered browsers forgotten",
	audit.ActionMFAEnrolmentPostponed:       "Two-step verification set-up put off",
	audit.ActionMFARenamed:                  "Passkey renamed",
	audit.ActionFederationUnlinked:          "Linked account removed",
	audit.ActionMFACounterRegression:        "Passkey refused: it may have been copied",
	audit.ActionUserRegistered:              "Account created",
	audit.ActionRegistrationAttempt:         "Someone tried to sign up with your email address",
}

// eventsShown bounds the history page.
const eventsShown = 30

// events lists the user's recent security events, newest first.
func (h *Handler) events(r *request) ([]templates.AccountEvent, error) {
	if h.History == nil {
		return nil, nil
	}
	entries, err := h.History.List(r.c.Request().Context(), audit.Filter{UserID: r.user.ID, Limit: 200})
	if err != nil {
		return nil, err
	}
	var out []templates.AccountEvent
	for _, e := range entries {
		name, ok := eventNames[e.Action]
		if !ok {
			continue
		}
		out = append(out, templates.AccountEvent{
			When: e.Time.UTC().Format("2 Jan 2006 15:04 MST"), What: name, IP: e.IP,
			Device: describeAgent(e.UserAgent), Failure: e.Outcome == audit.OutcomeFailure,
		})
		if len(out) == eventsShown {
			break
		}
	}
	return out, nil
}
