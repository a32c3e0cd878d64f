package authflow

import (
	"context"
	"crypto/hmac"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"gatehouse/federation"
	"gatehouse/identity"
	"gatehouse/identity/audit"
	"gatehouse/identity/mfa"
	"gatehouse/identity/usage"
	"gatehouse/oidc"
	"gatehouse/templates"
)

// Paths of the sign-in at an upstream provider; the connector's ID ends
// each.
const (
	PathUpstreamStart    = "/federation/start/"
	PathUpstreamCallback = "/federation/callback/"
)

// amrFederated is the amr of a sign-in an upstream provider vouched for.
const amrFederated = "fed"

// UpstreamSignIn is a sign-in waiting at an upstream provider: what the
// callback must match (State) and prove (Nonce, PKCE Verifier). It is
// cleared before the callback's answer is used, so a callback counts once.
type UpstreamSignIn struct {
	Connector string
	State     string
	Nonce     string
	Verifier  string
}

// Resolver maps an upstream person onto a local user (federation.Broker).
type Resolver interface {
	Resolve(ctx context.Context, conn federation.Connector, id federation.Identity) (*identity.User, error)
}

var (
	errUnknownConnector = &oidc.PageError{Status: http.StatusNotFound, Title: "Unknown sign-in option",
		Message: "This way of signing in is not offered here. Please return to the application and start again."}
	errBadCallback = &oidc.PageError{Status: http.StatusBadRequest, Title: "This sign-in could not be completed",
		Message: "The answer from the other sign-in service does not belong to a sign-in started in this browser, or was already used. Please return to the application and start again."}
	errUpstreamUnavailable = &oidc.PageError{Status: http.StatusServiceUnavailable, Title: "Sign-in unavailable",
		Message: msgUnavailable}
)

// upstreamStep signs people in at an upstream provider (a
// federation.RedirectConnector) and carries its answer back into the flow.
type upstreamStep struct{ *Handler }

func (h *Handler) redirectConnector(id string) federation.RedirectConnector {
	for _, c := range h.Upstreams {
		if c.ID() == id {
			return c
		}
	}
	return nil
}

// upstreamButtons are the login page's "Sign in with ..." buttons.
func (h *Handler) upstreamButtons() []templates.UpstreamButton {
	out := make([]templates.UpstreamButton, 0, len(h.Upstreams))
	for _, c := range h.Upstreams {
		out = append(out, templates.UpstreamButton{ID: c.ID(), Name: c.Name(), Action: PathUpstreamStart + c.ID()})
	}
	return out
}

// start records state, nonce and PKCE verifier on the browser's flow (a
// new direct one without a flow) and sends the browser upstream.
func (s upstreamStep) start(c echo.Context) error {
	conn := s.redirectConnector(c.Param("connector"))
	if conn == nil {
		return errUnknownConnector
	}
	f, _, err := s.pageFlow(c)
	if err != nil {
		return err
	}
	if f == nil {
		f = s.directFlow(nextOrHome(c.QueryParam("next")))
	}
	return s.redirect(c, f, conn, "")
}

// redirect sends the browser of flow f to sign in at conn, with
// loginHint (an address typed here, or "") passed on.
func (s upstreamStep) redirect(c echo.Context, f *Flow, conn federation.RedirectConnector, loginHint string) error {
	up := &UpstreamSignIn{Connector: conn.ID(), State: f.ID + "." + oidc.NewSecret(), Nonce: oidc.NewSecret(),
		Verifier: oauth2.GenerateVerifier()}
	to, err := conn.AuthURL(up.State, up.Nonce, oauth2.S256ChallengeFromVerifier(up.Verifier), loginHint)
	if errors.Is(err, federation.ErrUnavailable) {
		s.Logger.WarnContext(c.Request().Context(), "upstream provider unavailable", "connector_id", conn.ID(), "error", err)
		return errUpstreamUnavailable
	}
	if err != nil {
		return err
	}
	f.Upstream = up
	if err := s.storeFlow(c, f); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// callback takes the upstream's answer. The state names the flow, which
// must be this browser's and wait at this connector with this very
// state; the flow forgets it before anything else, so a replayed callback
// finds nothing.
func (s upstreamStep) callback(c echo.Context) error {
	ctx := c.Request().Context()
	conn := s.redirectConnector(c.Param("connector"))
	if conn == nil {
		return errUnknownConnector
	}
	state := c.QueryParam("state")
	flowID, _, ok := strings.Cut(state, ".")
	if !ok {
		return s.refuseCallback(c, conn, "bad_state", nil)
	}
	f, err := s.loadFlow(c, flowID)
	if errors.Is(err, errFlowExpired) {
		return s.refuseCallback(c, conn, "bad_state", nil)
	}
	if err != nil {
		return err
	}
	up := f.Upstream
	if up == nil || up.Connector != conn.ID() || !hmac.Equal([]byte(up.State), []byte(state)) {
		return s.refuseCallback(c, conn, "bad_state", nil)
	}
	f.Upstream = nil
	if err := s.saveFlow(c, f); err != nil {
		return err
	}
	id, err := conn.HandleCallback(ctx, c.QueryParams(), up.Verifier, up.Nonce)
	if errors.Is(err, federation.ErrUnavailable) {
		s.Logger.WarnContext(ctx, "upstream provider unavailable", "connector_id", conn.ID(), "error", err)
		return errUpstreamUnavailable
	}
	if err != nil {
		return s.refuseCallback(c, conn, "upstream_refused", err)
	}
	user, err := s.Resolver.Resolve(ctx, conn, id)
	if errors.Is(err, federation.ErrEmailInUse) || errors.Is(err, federation.ErrUsernameInUse) {
		s.refusalAudit(c, conn, "account_exists", err)
		return &oidc.PageError{Status: http.StatusConflict, Title: "Account already exists",
			Message: "An account with your e-mail address or username already exists here, so your " + conn.Name() +
				" account cannot be used to sign in to it. Sign in with that account, or ask your administrator."}
	}
	if err != nil {
		return err
	}
	if user.Status != identity.StatusActive {
		s.refusalAudit(c, conn, "account_disabled", nil)
		return &oidc.PageError{Status: http.StatusForbidden, Title: "Account deactivated", Message: msgDisabled}
	}
	return s.signIn(c, f, conn, user)
}

// signIn finishes the sign-in of user as the password step does: a held
// verification or a second factor first when needed, then the browser
// session, then back to the dispatcher.
func (s upstreamStep) signIn(c echo.Context, f *Flow, conn federation.Connector, user *identity.User) error {
	ctx := c.Request().Context()
	amr := []string{amrFederated}
	f.Connector = conn.ID()
	if s.RequireVerifiedEmail && !user.EmailVerified {
		return verifyStep(s).hold(c, f, &Verification{UserID: user.ID, Email: user.Email, AMR: amr}, StepSignIn, true)
	}
	before, err := s.Browser.SignedIn(c)
	if err != nil {
		return err
	}
	switch check, err := s.secondFactor(c, f, user, nil, before != nil && before.UserID == user.ID); {
	case err != nil:
		return err
	case check.Outcome == mfa.Challenge:
		s.Logger.InfoContext(ctx, "login waits for a second factor", "user_id", user.ID)
		f.challenge(&Challenge{UserID: user.ID})
		return s.finishStep(c, f, StepSignIn)
	case check.Remembered:
		s.recognised(c, user.ID)
	}
	bs, err := s.Browser.SignIn(c, user, amr)
	if err != nil {
		return err
	}
	s.Logger.InfoContext(ctx, "login succeeded", "user_id", user.ID, "amr", amrFederated, "connector_id", conn.ID())
	details := signedInDetails(f, usage.MethodSocial, amr, bs.ID)
	details["connector_id"] = conn.ID()
	s.audit(c, oidc.UserEvent(audit.ActionLoginSucceeded, user.ID, details))
	f.signedIn(bs)
	return s.finishStep(c, f, StepSignIn)
}

// refuseCallback answers a callback that signs nobody in.
func (s upstreamStep) refuseCallback(c echo.Context, conn federation.Connector, reason string, err error) error {
	s.refusalAudit(c, conn, reason, err)
	if reason == "bad_state" {
		return errBadCallback
	}
	return &oidc.PageError{Status: http.StatusBadRequest, Title: "Sign-in failed",
		Message: "Signing in with " + conn.Name() + " did not succeed. Please return to the application and try again."}
}

func (s upstreamStep) refusalAudit(c echo.Context, conn federation.Connector, reason string, err error) {
	s.Logger.WarnContext(c.Request().Context(), "login failed", "reason", reason, "connector_id", conn.ID(), "error", err)
	s.audit(c, audit.Entry{ActorType: audit.ActorUser, Action: audit.ActionLoginFailed, Outcome: audit.OutcomeFailure,
		Details: audit.Details{"reason": reason, "connector_id": conn.ID()}})
}
