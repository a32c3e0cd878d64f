package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"gatehouse/config"
	"gatehouse/identity/mfa"
	"gatehouse/migrations/dbtest"
	"gatehouse/oidc"
	"gatehouse/oidc/mfapages"
)

// TestBrowserPasskey drives static/passkey.js in headless Chromium with a
// virtual authenticator (CTAP2, built in, resident keys, user
// verification): a signed-in user adds a passkey from the security
// section, signs out, and signs in again with "Sign in with a passkey"
// alone, for a relying party that asked for acr_values=phr. The server
// runs on localhost: browsers refuse WebAuthn on an IP address.
func TestBrowserPasskey(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			testBrowserPasskey(t, dialect)
		})
	}
}

func testBrowserPasskey(t *testing.T, dialect string) {
	srv := startServer(t, dialect, func(cfg *config.Config) { onLocalhost(t, cfg) })
	cb := startCallback(t)
	clientID, secret := srv.createClient(t, "--name", "Passkey App", "--redirect-uri", cb.URL, "--first-party")
	rp := newRelyingParty(t, srv.URL, clientID, secret)
	rp.OAuth.RedirectURL = cb.URL
	pia := srv.createUser(t, "pia", testUserPassword)

	tb := newTab(t)
	tb.virtualAuthenticator(t)

	tb.navigate(t, srv.URL+oidc.PathLogin+"?next=%2Faccount")
	tb.arrive(t, oidc.PathLogin)
	tb.fill(t, map[string]string{"login-username": "pia", "login-password": testUserPassword})
	tb.click(t, "login-submit")
	tb.arrive(t, "/account")

	tb.navigate(t, srv.URL+"/account?section=security")
	tb.arrive(t, "/account")
	tb.visible(t, "passkey-add")
	tb.checkAccessible(t)
	tb.fill(t, map[string]string{"passkey-name": "Chromium"})
	tb.click(t, "passkey-add")
	tb.arrive(t, mfapages.PathPasskeys)
	tb.visible(t, "recovery-codes")
	factors, err := srv.App.MFA.ListFactors(t.Context(), pia.ID)
	if err != nil || len(factors) != 1 || factors[0].Kind != mfa.KindWebAuthn || factors[0].Name != "Chromium" {
		t.Fatalf("factors after adding a passkey in the browser: %+v, %v", factors, err)
	}

	want := mfa.AMR([]mfa.Method{{Kind: mfa.MethodPasskey, UserVerified: true}})
	signOut := func() {
		tb.navigate(t, srv.URL+oidc.PathEndSession)
		tb.arrive(t, oidc.PathEndSession)
		tb.click(t, "logout-submit")
		tb.arrive(t, "/logout")
	}

	// The button. The virtual authenticator answers a conditional request
	// at once, as if the user picked the passkey from the autofill; a
	// browser without conditional mediation shows only the button.
	signOut()
	noAutofill := tb.onNewDocument(t, `PublicKeyCredential.isConditionalMediationAvailable = function () { return Promise.resolve(false); };`)
	req := newAuthRequest(rp, oauth2.SetAuthURLParam("acr_values", mfa.ACRPhishingResistant))
	tb.navigate(t, req.URL)
	tb.arrive(t, oidc.PathLogin)
	tb.visible(t, "login-passkey")
	tb.checkAccessible(t)
	tb.click(t, "login-passkey")
	claims := req.finish(t, rp, cb, srv.URL)
	if claims.Subject != pia.ID || !slices.Equal(claims.AMR, want) {
		t.Errorf("button: ID token sub %q amr %v, want %q %v", claims.Subject, claims.AMR, pia.ID, want)
	}

	// The autofill: the page's conditional request signs in by itself.
	signOut()
	tb.removeOnNewDocument(t, noAutofill)
	req = newAuthRequest(rp, oauth2.SetAuthURLParam("acr_values", mfa.ACRPhishingResistant))
	tb.navigate(t, req.URL)
	claims = req.finish(t, rp, cb, srv.URL)
	if claims.Subject != pia.ID || !slices.Equal(claims.AMR, want) {
		t.Errorf("autofill: ID token sub %q amr %v, want %q %v", claims.Subject, claims.AMR, pia.ID, want)
	}
	tb.noProblems(t)
}

// onNewDocument runs source in every page the tab opens from now on,
// before the page's own scripts.
func (tb *tab) onNewDocument(t testing.TB, source string) cdppage.ScriptIdentifier {
	t.Helper()
	var id cdppage.ScriptIdentifier
	tb.do(t, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		res, err := cdp.Call(ctx, tg, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: source})
		id = res.Identifier
		return err
	}))
	return id
}

func (tb *tab) removeOnNewDocument(t testing.TB, id cdppage.ScriptIdentifier) {
	t.Helper()
	tb.do(t, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cdppage.RemoveScriptToEvaluateOnNewDocument, cdppage.RemoveScriptToEvaluateOnNewDocumentParams{Identifier: id})
		return err
	}))
}

// virtualAuthenticator gives the tab a platform authenticator that keeps
// discoverable credentials and verifies its user.
func (tb *tab) virtualAuthenticator(t testing.TB) {
	t.Helper()
	tb.do(t, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
				Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true,
				HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
			},
		})
		return err
	}))
}

// visible waits until the element with id is shown: passkey.js un-hides
// the passkey forms once it found WebAuthn.
func (tb *tab) visible(t testing.TB, id string) {
	t.Helper()
	tb.do(t, chromedp.Poll[chromedp.Void](`(function () { var e = document.getElementById(`+"'"+id+"'"+`); return !!e && e.offsetParent !== null; })()`,
		chromedp.WithPollingInterval(20*time.Millisecond)))
}
