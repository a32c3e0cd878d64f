package authflow

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"gatehouse/identity"
	"gatehouse/identity/audit"
	"gatehouse/identity/mfa"
	"gatehouse/oidc"
)

// PathMFALater puts off the enrolment the policy asks for, during its
// grace period ("Set up later", field "flow").
const PathMFALater = PathMFA + "/later"

// rememberCookie holds the random token of a remembered browser, sealed
// like every Gatehouse cookie. The server keeps only the token's hash.
const rememberCookie = "gatehouse_mfa_browser"

// EnrolmentGrace is what the policy's grace period needs of identity/mfa.
type EnrolmentGrace interface {
	// GraceStart returns when the grace period started for the user,
	// starting it now at the first sign-in where the policy applies.
	GraceStart(ctx context.Context, userID string) (time.Time, error)
}

// RememberedBrowsers is what "Don't ask again on this browser" needs of
// identity/mfa.
type RememberedBrowsers interface {
	// RememberBrowser stores a new remembered browser of the user for ttl
	// and returns the token for its cookie.
	RememberBrowser(ctx context.Context, userID, userAgent string, ttl time.Duration) (string, error)
	// RecogniseBrowser reports whether token names an unexpired browser
	// remembered for the user and not forgotten since.
	RecogniseBrowser(ctx context.Context, userID, token string) (bool, error)
}

// factorCheck is secondFactor's answer: Decide's decision under the
// configured policy and what led to it.
type factorCheck struct {
	mfa.Decision
	// GraceStart is when the policy's grace period started for the user;
	// zero when it does not apply to them.
	GraceStart time.Time
	// Remembered: a remembered browser stood in for the challenge the
	// user's factors or the policy would otherwise ask for.
	Remembered bool
}

// decide completes in (whose Required mfaInput set from the policy) with
// the policy's grace period and the browser, and decides. A remembered browser is looked at only when the sign-in would
// be challenged and is not a re-authentication: reauth (a sign-in over
// the same user's session), prompt=login and max_age ask for the factors
// themselves, and acr_values are never met by it (mfa.Input.Remembered).
func (h *Handler) decide(c echo.Context, f *Flow, user *identity.User, in mfa.Input, reauth bool) (factorCheck, error) {
	ctx := c.Request().Context()
	var fc factorCheck
	if in.Required && len(in.Factors) == 0 && h.Policy.GracePeriod > 0 && h.Grace != nil {
		start, err := h.Grace.GraceStart(ctx, user.ID)
		if err != nil {
			return fc, err
		}
		fc.GraceStart, in.InGrace = start, h.Policy.InGrace(start, h.Now())
	}
	fc.Decision = mfa.Decide(in)
	if fc.Outcome != mfa.Challenge || reauth || reauthRequested(f) {
		return fc, nil
	}
	ok, err := h.browserRemembered(c, user.ID)
	if err != nil || !ok {
		return fc, err
	}
	in.Remembered = true
	if d := mfa.Decide(in); d.Outcome == mfa.Satisfied {
		fc.Decision, fc.Remembered = d, true
	}
	return fc, nil
}

// reauthRequested reports whether the flow's relying party asked for the
// user to authenticate again (prompt=login) or recently (max_age): a
// browser remembered days ago does not answer that.
func reauthRequested(f *Flow) bool {
	if f.Form == nil {
		return false
	}
	return slices.Contains(strings.Fields(f.Form.Get("prompt")), "login") || f.Form.Has("max_age")
}

// browserRemembered reports whether this browser's cookie names a browser
// remembered for userID.
func (h *Handler) browserRemembered(c echo.Context, userID string) (bool, error) {
	if h.RememberBrowser <= 0 || h.Browsers == nil {
		return false, nil
	}
	cs, _ := h.Browser.Cookies.Get(c.Request(), h.Browser.CookieName(rememberCookie)) // a tampered cookie reads as empty
	token, _ := cs.Values["r"].(string)
	if token == "" {
		return false, nil
	}
	return h.Browsers.RecogniseBrowser(c.Request().Context(), userID, token)
}

// rememberBrowser remembers this browser for the user who just proved a
// second factor in it, when they asked to.
func (h *Handler) rememberBrowser(c echo.Context, user *identity.User) error {
	if h.RememberBrowser <= 0 || h.Browsers == nil || c.FormValue("remember") == "" {
		return nil
	}
	ctx := c.Request().Context()
	token, err := h.Browsers.RememberBrowser(ctx, user.ID, c.Request().UserAgent(), h.RememberBrowser)
	if err != nil {
		return err
	}
	cs, _ := h.Browser.Cookies.New(c.Request(), h.Browser.CookieName(rememberCookie))
	cs.Values = map[interface{}]interface{}{"r": token}
	cs.Options.MaxAge = int(h.RememberBrowser / time.Second)
	if err := cs.Save(c.Request(), c.Response()); err != nil {
		return fmt.Errorf("remember cookie: %w", err)
	}
	h.audit(c, oidc.UserEvent(audit.ActionMFABrowserRemembered, user.ID, audit.Details{"days": strconv.Itoa(rememberDays(h.RememberBrowser))}))
	return nil
}

// recognised records that a remembered browser stood in for a challenge.
func (h *Handler) recognised(c echo.Context, userID string) {
	h.Logger.InfoContext(c.Request().Context(), "second factor skipped for a remembered browser", "user_id", userID)
	h.audit(c, oidc.UserEvent(audit.ActionMFABrowserRecognised, userID, nil))
}

// rememberDays is how many days a browser is remembered, a part of a day
// counting as one.
func rememberDays(d time.Duration) int {
	return int((d + 24*time.Hour - 1) / (24 * time.Hour))
}

// rememberFor says how long for the challenge page's checkbox.
func rememberFor(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	if d < 24*time.Hour {
		return strconv.Itoa(int(d/time.Hour)) + " hours"
	}
	if n := rememberDays(d); n != 1 {
		return strconv.Itoa(n) + " days"
	}
	return "1 day"
}

var errEnrolRequired = &oidc.PageError{Status: http.StatusBadRequest, Title: "Two-step verification is required",
	Message: "The time to set up two-step verification later is over. Set it up now to continue."}

// EnrolmentDecision tells the enrolment page of the flow flowID what the
// sign-in needs: the kinds of factor that would do (an app does not for
// acr_values=phr), and whether the user may put enrolment off, for how
// many more days (only within the policy's grace period when the relying
// party asked nothing more). Only the browser and the session the flow is
// bound to learn it.
func (h *Handler) EnrolmentDecision(c echo.Context, flowID string) (d mfa.Decision, daysLeft int, ok bool, err error) {
	f, bs, user, err := h.enrolFlow(c, flowID)
	if f == nil || err != nil {
		return d, 0, false, err
	}
	check, err := h.secondFactor(c, f, user, methodsOf(bs.AMR), false)
	if err != nil || check.Outcome != mfa.Enrol {
		return d, 0, false, err
	}
	if check.Deferrable {
		daysLeft = h.Policy.DaysLeft(check.GraceStart, h.Now())
	}
	return check.Decision, daysLeft, true, nil
}

// enrolFlow loads the flow an enrolment page belongs to, with the
// session and user it is bound to; a nil flow when the browser has none.
func (h *Handler) enrolFlow(c echo.Context, flowID string) (*Flow, *oidc.BrowserSession, *identity.User, error) {
	f, err := h.loadFlow(c, flowID)
	var pe *oidc.PageError
	if errors.As(err, &pe) {
		return nil, nil, nil, nil
	}
	if err != nil {
		return nil, nil, nil, err
	}
	bs, user, err := h.signedIn(c)
	if err != nil || f.ClientID == "" || !f.heldBy(bs) {
		return nil, nil, nil, err
	}
	return f, bs, user, nil
}

// later puts off the enrolment of the flow ("Set up later") and hands it
// back to the dispatcher, which lets it go on without a second factor.
func (s mfaStep) later(c echo.Context) error {
	f, bs, user, err := s.enrolFlow(c, c.FormValue("flow"))
	if err != nil {
		return err
	}
	if f == nil {
		return errFlowExpired
	}
	check, err := s.secondFactor(c, f, user, methodsOf(bs.AMR), false)
	if err != nil {
		return err
	}
	if check.Outcome == mfa.Enrol && !check.Deferrable {
		return errEnrolRequired
	}
	if check.Outcome == mfa.Enrol {
		f.EnrolLater = true
		days := s.Policy.DaysLeft(check.GraceStart, s.Now())
		s.Logger.InfoContext(c.Request().Context(), "second-factor enrolment put off", "user_id", user.ID, "days_left", days)
		s.audit(c, oidc.UserEvent(audit.ActionMFAEnrolmentPostponed, user.ID, audit.Details{"days_left": strconv.Itoa(days)}))
	}
	return s.finishStep(c, f, StepEnrol)
}
