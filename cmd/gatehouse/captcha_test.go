package main

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"gatehouse/identity"
)

// TestRegistrationCaptcha: creating an account needs a solved, unused
// proof-of-work challenge; no account is made without one.
func TestRegistrationCaptcha(t *testing.T) {
	srv := startServer(t, "sqlite", nil)
	b := newBrowser(t, rpCallback)
	p, _ := b.get(t, srv.URL+"/register")
	mustContain(t, p.Body, `data-altcha-challenge-url="/captcha/challenge"`, "registration form")
	mustContain(t, p.Body, `<script src="/static/altcha.js" defer></script>`, "registration form")
	mustContain(t, p.Body, "<noscript>", "registration form")
	action, values, challengeURL := findForm(t, p, "register-submit")
	values.Set("username", "otto")
	values.Set("email", "otto@example.com")
	values.Set("password", testUserPassword)
	target, _ := p.URL.Parse(action)

	// No solution: refused, with the reason next to the button.
	got, _ := b.post(t, target.String(), values)
	if got.Status != http.StatusUnprocessableEntity {
		t.Fatalf("registration without a CAPTCHA answered %d", got.Status)
	}
	mustContain(t, got.Body, `id="captcha-error"`, "captcha error")
	if _, _, err := srv.App.Users.Users.FindUserByLogin(t.Context(), "otto"); !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("an account was created without a CAPTCHA: %v", err)
	}
	// A solution works once; replaying it does not.
	solution := b.solveCaptcha(t, p, challengeURL)
	values.Set("altcha", solution)
	if got, _ := b.post(t, target.String(), values); got.URL.Path != "/" {
		t.Fatalf("registration with a solved CAPTCHA led to %s (%d)", got.URL, got.Status)
	}
	replay := url.Values{}
	for k, v := range values {
		replay[k] = v
	}
	replay.Set("username", "otto2")
	replay.Set("email", "otto2@example.com")
	b2 := newBrowser(t, rpCallback)
	p2, _ := b2.get(t, srv.URL+"/register")
	_, fresh, _ := findForm(t, p2, "register-submit")
	replay.Set("csrf", fresh.Get("csrf"))
	if got, _ := b2.post(t, target.String(), replay); got.Status != http.StatusUnprocessableEntity {
		t.Errorf("a replayed CAPTCHA solution answered %d, want 422", got.Status)
	}
}
