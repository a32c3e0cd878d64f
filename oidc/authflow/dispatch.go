package authflow

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"gatehouse/identity"
	"gatehouse/oidc"
)

// lifetime bounds a flow and its cookie.
const lifetime = 30 * time.Minute

// flowCookie holds the random value whose hash binds flows to the browser
// that started them. It names no flow and no user: the flows themselves
// carry all their state.
const flowCookie = "gatehouse_flow"

var errFlowExpired = &oidc.PageError{Status: http.StatusBadRequest, Title: "This sign-in has expired",
	Message: "The sign-in took too long or was already completed. Please return to the application and start again."}

// resumeParams are the parameters of a step's return to the authorization
// endpoint, and its only ones.
var resumeParams = []string{"flow", "step", "mac"}

// isResume tells a step's return to the authorization endpoint (a GET
// with flow, step and mac, see finishStep, and nothing else) from an
// authorization request, which never carries them. It names the
// parameters it expects instead of counting them, so that an
// authorization request of three parameters is never taken for a return.
func isResume(method string, q url.Values) bool {
	if method != http.MethodGet {
		return false
	}
	for k := range q {
		if !slices.Contains(resumeParams, k) {
			return false
		}
	}
	for _, p := range resumeParams {
		if len(q[p]) != 1 || q.Get(p) == "" {
			return false
		}
	}
	return true
}

// Resumed implements oidc.SignIn: it checks a step's return and gives the
// endpoint the original request of its flow.
func (h *Handler) Resumed(c echo.Context) (*oidc.ResumedFlow, error) {
	r := c.Request()
	q := r.URL.Query()
	if !isResume(r.Method, q) {
		return nil, nil
	}
	f, err := h.loadFlow(c, q.Get("flow"))
	if err != nil {
		return nil, err
	}
	if f.ClientID == "" || !hmac.Equal([]byte(q.Get("mac")), []byte(h.stepMAC(f, Step(q.Get("step"))))) {
		return nil, errFlowExpired
	}
	return &oidc.ResumedFlow{ID: f.ID, ClientID: f.ClientID, Form: f.Form}, nil
}

// Continue implements oidc.SignIn: the dispatcher. It asks next what the
// flow needs, sends the browser to that step, or hands the endpoint the
// grant to issue.
func (h *Handler) Continue(c echo.Context, req *oidc.AuthorizeRequest) (*oidc.Grant, error) {
	var f *Flow
	var err error
	if req.FlowID != "" {
		f, err = h.loadFlow(c, req.FlowID)
	} else {
		f, err = h.newFlow(c, req.Client, req.Request.GetRequestForm())
	}
	if err != nil {
		return nil, err
	}
	bs, user, err := h.signedIn(c)
	if err != nil {
		return nil, err
	}
	r := Request{
		Prompt: strings.Fields(req.Request.GetRequestForm().Get("prompt")), MaxAge: -1,
		HintGiven: req.HintGiven, HintSubject: req.HintSubject,
		Scopes: req.Request.GetRequestedScopes(), FirstParty: req.Client.FirstParty, Now: h.Now(),
	}
	if ma := req.MaxAge; ma >= 0 {
		r.MaxAge = time.Duration(ma) * time.Second
	}
	if bs != nil && f.MFA == nil {
		check, err := h.secondFactor(c, f, user, methodsOf(bs.AMR), false)
		if err != nil {
			return nil, err
		}
		r.SecondFactor, r.EnrolDeferrable = check.Outcome, check.Deferrable
		if check.Remembered && !f.Done.SignIn {
			// A sign-in within the flow recorded its own skip.
			h.recognised(c, bs.UserID)
		}
	}
	if bs != nil && !req.Client.FirstParty && !f.Done.Consent {
		if r.Remembered, err = h.Consents.GetConsent(c.Request().Context(), bs.UserID, req.Client.ID); err != nil {
			return nil, err
		}
	}
	d := next(*f, bs, r)
	if d.Restart {
		h.Logger.InfoContext(c.Request().Context(), "login flow restarted after the browser session changed", "client_id", req.Client.ID)
		f.restart()
	}
	if d.Bind {
		f.bind(bs)
	}
	if d.StepUp {
		f.stepUp(bs)
	}
	if d.Restart || d.Bind || d.StepUp {
		if err := h.saveFlow(c, f); err != nil {
			return nil, err
		}
	}
	switch d.Step {
	case StepRefuse:
		return nil, d.Refusal // the endpoint writes it as the OAuth error
	case StepDone:
		return h.grant(f, user, bs)
	case StepSignIn:
		// next never asks a prompt=none request to sign in: it answers
		// login_required, so nothing here goes upstream without a prompt.
		if conn, hint := h.preselected(c, f); conn != nil && !slices.Contains(r.Prompt, "none") {
			return nil, upstreamStep{h}.redirect(c, f, conn, hint)
		}
	}
	return nil, h.goTo(c, f, d.Step)
}

// signedIn returns the browser's session and its user. A session whose
// user is gone or no longer active is ended here.
func (h *Handler) signedIn(c echo.Context) (*oidc.BrowserSession, *identity.User, error) {
	bs, err := h.Browser.SignedIn(c)
	if err != nil || bs == nil {
		return nil, nil, err
	}
	user, err := h.Users.GetUser(c.Request().Context(), bs.UserID)
	if errors.Is(err, identity.ErrNotFound) || (err == nil && user.Status != identity.StatusActive) {
		return nil, nil, h.Browser.SignOut(c, bs)
	}
	if err != nil {
		return nil, nil, err
	}
	return bs, user, nil
}

// grant is the end of a flow with a client: what the endpoint issues, and
// what is written with the code in its transaction (the consent, the end
// of the flow).
func (h *Handler) grant(f *Flow, user *identity.User, bs *oidc.BrowserSession) (*oidc.Grant, error) {
	if (f.UserID != "" || f.Done.Consent) && !f.heldBy(bs) {
		// next restarts such a flow; never issue to another session.
		return nil, errors.New("authflow: flow bound to another browser session")
	}
	consented := f.Done.Consent && f.ConsentGranted
	return &oidc.Grant{
		User: user, Session: bs, RequestedAt: f.RequestedAt, Consented: consented,
		Finish: func(ctx context.Context, granted []string) error {
			if consented {
				prev, err := h.Consents.GetConsent(ctx, user.ID, f.ClientID)
				if err != nil {
					return err
				}
				if err := h.Consents.SaveConsent(ctx, user.ID, f.ClientID, union(prev, granted), h.Now()); err != nil {
					return err
				}
			}
			return h.Flows.DeleteFlow(ctx, f.ID)
		},
	}, nil
}

// goTo sends the browser to the page of step. The verification page finds
// the flow through the browser (FlowStore.HeldFlow), so that its address
// is the same with or without an authorization request.
func (h *Handler) goTo(c echo.Context, f *Flow, step Step) error {
	path := ""
	switch step {
	case StepSignIn:
		path = oidc.PathLogin
	case StepSignUp:
		path = oidc.PathSignUp
	case StepConsent:
		path = oidc.PathConsent
	case StepMFA:
		path = PathMFA
	case StepEnrol:
		if h.EnrolURL == "" {
			return errors.New("authflow: no enrolment page (Handler.EnrolURL)")
		}
		path = h.EnrolURL
	case StepVerifyEmail:
		return c.Redirect(http.StatusSeeOther, oidc.PathVerifyEmail)
	default:
		return fmt.Errorf("authflow: no page for step %q", step)
	}
	return c.Redirect(http.StatusSeeOther, path+"?flow="+url.QueryEscape(f.ID))
}

// finishStep hands a flow a step changed back to the dispatcher. A flow
// with a client goes back through the authorization endpoint, which alone
// can rebuild its request, with a MAC bound to the flow's new version and
// the step. A flow without one is decided at once.
func (h *Handler) finishStep(c echo.Context, f *Flow, step Step) error {
	if f.ClientID == "" {
		return h.advance(c, f)
	}
	if err := h.saveFlow(c, f); err != nil {
		return err
	}
	q := url.Values{"flow": {f.ID}, "step": {string(step)}, "mac": {h.stepMAC(f, step)}}
	return c.Redirect(http.StatusSeeOther, oidc.PathAuthorize+"?"+q.Encode())
}

// advance is the dispatcher of a flow without a client. Such a flow is
// stored only while it must wait for the user (a held verification): a
// sign-in that finishes in one request leaves no row behind, and opening
// the sign-in page writes nothing.
func (h *Handler) advance(c echo.Context, f *Flow) error {
	bs, err := h.Browser.SignedIn(c)
	if err != nil {
		return err
	}
	d := next(*f, bs, Request{Now: h.Now(), MaxAge: -1})
	if d.Step == StepVerifyEmail || d.Step == StepMFA {
		if err := h.storeFlow(c, f); err != nil {
			return err
		}
		return h.goTo(c, f, d.Step)
	}
	if f.Version > 0 {
		if err := h.Flows.DeleteFlow(c.Request().Context(), f.ID); err != nil {
			return err
		}
	}
	return c.Redirect(http.StatusSeeOther, h.landing(c, f))
}

// landing is where a flow without a client ends: its ReturnTo, or, for
// the home page, where Landing sends the user the flow signed in (the
// browser's cookie carries the new session only from the next request).
// A Landing that fails keeps the home page: the sign-in itself
// succeeded.
func (h *Handler) landing(c echo.Context, f *Flow) string {
	if f.ReturnTo != "/" || h.Landing == nil || f.UserID == "" || !f.Done.SignIn {
		return f.ReturnTo
	}
	ctx := c.Request().Context()
	to, err := h.Landing(ctx, f.UserID)
	if err != nil {
		h.Logger.WarnContext(ctx, "landing page unknown: home page instead", "user_id", f.UserID, "error", err)
		return f.ReturnTo
	}
	if to = safeNext(to); to == "" {
		return f.ReturnTo
	}
	return to
}

// directFlow is the flow of a sign-in begun on the sign-in or sign-up page
// itself, ending at returnTo. It is not stored yet (Version 0).
func (h *Handler) directFlow(returnTo string) *Flow {
	now := h.Now().UTC().Truncate(time.Second)
	return &Flow{ID: oidc.NewSecret(), ReturnTo: returnTo, RequestedAt: now, ExpiresAt: now.Add(lifetime)}
}

// storeFlow saves f, creating it (bound to this browser) when it is a
// direct flow not stored yet.
func (h *Handler) storeFlow(c echo.Context, f *Flow) error {
	if f.Version > 0 {
		return h.saveFlow(c, f)
	}
	binding, err := h.binding(c, true)
	if err != nil {
		return err
	}
	f.Binding, f.Version = binding, 1
	return h.Flows.CreateFlow(c.Request().Context(), f)
}

func (h *Handler) newFlow(c echo.Context, client *oidc.Client, form url.Values) (*Flow, error) {
	binding, err := h.binding(c, true)
	if err != nil {
		return nil, err
	}
	now := h.Now().UTC().Truncate(time.Second)
	f := &Flow{
		ID: oidc.NewSecret(), ClientID: client.ID, Binding: binding, Form: form,
		RequestedAt: now, Version: 1, ExpiresAt: now.Add(lifetime),
	}
	if err := h.Flows.CreateFlow(c.Request().Context(), f); err != nil {
		return nil, err
	}
	return f, nil
}

// loadFlow returns the flow named by id when it belongs to this browser.
func (h *Handler) loadFlow(c echo.Context, id string) (*Flow, error) {
	f, err := h.Flows.GetFlow(c.Request().Context(), id, h.Now())
	if errors.Is(err, ErrFlowNotFound) {
		return nil, errFlowExpired
	}
	if err != nil {
		return nil, err
	}
	if !h.boundHere(c, f) {
		return nil, errFlowExpired
	}
	return f, nil
}

// boundHere reports whether f was started in this browser.
func (h *Handler) boundHere(c echo.Context, f *Flow) bool {
	binding, err := h.binding(c, false)
	return err == nil && binding != "" && hmac.Equal([]byte(binding), []byte(f.Binding))
}

// heldFlow returns this browser's flow held for e-mail verification last,
// or nil.
func (h *Handler) heldFlow(c echo.Context) (*Flow, error) {
	binding, err := h.binding(c, false)
	if err != nil || binding == "" {
		return nil, err
	}
	f, err := h.Flows.HeldFlow(c.Request().Context(), binding, h.Now())
	if errors.Is(err, ErrFlowNotFound) {
		return nil, nil
	}
	return f, err
}

// pageFlow loads the flow named by a page's "flow" parameter, if any, and
// the client it belongs to.
func (h *Handler) pageFlow(c echo.Context) (*Flow, *oidc.Client, error) {
	id := c.FormValue("flow")
	if id == "" {
		return nil, nil, nil
	}
	f, err := h.loadFlow(c, id)
	if err != nil {
		return nil, nil, err
	}
	if f.ClientID == "" {
		return nil, nil, errFlowExpired // direct flows have no page of their own but verification's
	}
	client, err := h.Clients.Get(c.Request().Context(), f.ClientID)
	if oidc.Unavailable(c.Request().Context(), err) {
		return nil, nil, err // 503: the flow may well be alive
	}
	if err != nil {
		return nil, nil, errFlowExpired
	}
	return f, client, nil
}

func (h *Handler) stepMAC(f *Flow, step Step) string {
	m := hmac.New(sha256.New, h.Key)
	fmt.Fprintf(m, "%s|%d|%s", f.ID, f.Version, step)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// saveFlow stores a changed flow under its next version, which also voids
// every step MAC issued for the previous one.
func (h *Handler) saveFlow(c echo.Context, f *Flow) error {
	f.Version++
	if err := h.Flows.UpdateFlow(c.Request().Context(), f); err != nil {
		if errors.Is(err, ErrFlowConflict) {
			return errFlowExpired
		}
		return err
	}
	return nil
}

// binding returns the hash of this browser's flow cookie, setting a new
// cookie when create is true and none is present.
func (h *Handler) binding(c echo.Context, create bool) (string, error) {
	cs, _ := h.Browser.Cookies.Get(c.Request(), h.Browser.CookieName(flowCookie))
	v, _ := cs.Values["b"].(string)
	if v == "" {
		if !create {
			return "", nil
		}
		v = oidc.NewSecret()
		cs.Values = map[interface{}]interface{}{"b": v}
	}
	if create {
		cs.Options.MaxAge = int(lifetime / time.Second)
		if err := cs.Save(c.Request(), c.Response()); err != nil {
			return "", fmt.Errorf("flow cookie: %w", err)
		}
	}
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// union is a followed by the elements of b it lacks, without repeats.
func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string{}, a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
