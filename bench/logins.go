package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/pquerna/otp/totp"
)

// The login and login-mfa scenarios: closed-loop sign-ins through the
// whole authorization code flow, as a relying party and a browser make
// them. One sign-in is: GET /oauth2/authorize (a fresh cookie jar, so a
// fresh browser), the login form, POST /login; with login-mfa the
// two-step verification page and POST /login/mfa with a code computed
// from the user's authenticator-app key; then the redirect to the client
// with a code, which is exchanged at the token endpoint with PKCE. A
// sign-in counts as a success when the token endpoint returns an ID token.
//
// Setup registers -users accounts through the hosted registration page
// and, for login-mfa, turns on an authenticator app for each through the
// security pages. Gatehouse accepts an app code once and only at the time
// steps t-1, t and t+1, so one user signs in at most three times per
// 30-second step: the users are split among the workers, and a worker
// whose users have all used up their steps waits for the next step
// (outside the timed part of the sign-in).

const (
	pathLoginMFA    = "/login/mfa"
	pathTOTPStart   = "/account/security/totp"
	pathTOTPConfirm = "/account/security/totp/confirm"
	// totpPeriod is RFC 6238's time step, as Gatehouse uses it.
	totpPeriod = 30
)

var (
	totpSecretField = regexp.MustCompile(`id="totp-secret">([A-Z2-7 ]+)</code>`)
	factorField     = regexp.MustCompile(`name="factor" value="([^"]*)"`)
)

// loginUser is one account of a login scenario. Only the worker it is
// given to uses it, so its fields need no lock.
type loginUser struct {
	login string
	// key is the authenticator-app key (login-mfa), without spaces.
	key string
	// lastStep is the last time step whose code was used.
	lastStep int64
}

// logins is a prepared login or login-mfa scenario.
type logins struct {
	opts  options
	rt    http.RoundTripper
	mfa   bool
	users []*loginUser
	// now is the clock of pick; nil means time.Now.
	now func() time.Time
}

// prepareLogins registers opts.users accounts and, with mfa, turns on an
// authenticator app for each.
func prepareLogins(ctx context.Context, rt http.RoundTripper, opts options, mfa bool) (*logins, error) {
	tag := make([]byte, 4)
	rand.Read(tag)
	prefix := "signin-" + hex.EncodeToString(tag) + "-"
	l := &logins{opts: opts, rt: rt, mfa: mfa, users: make([]*loginUser, opts.users)}
	err := eachAtMost(ctx, opts.users, setupConcurrency, func(ctx context.Context, i int) error {
		u := &loginUser{login: fmt.Sprintf("%s%d", prefix, i)}
		if err := register(ctx, rt, opts.base, u.login); err != nil {
			return err
		}
		if mfa {
			if err := l.enrolTOTP(ctx, u); err != nil {
				return fmt.Errorf("bench: turn on an authenticator app for %s: %w", u.login, err)
			}
		}
		l.users[i] = u
		return nil
	})
	return l, err
}

// enrolTOTP signs u in on the sign-in page and turns on an authenticator
// app from the security pages, keeping its key.
func (l *logins) enrolTOTP(ctx context.Context, u *loginUser) error {
	c := newBrowserClient(l.rt, l.opts.base+"/nowhere", l.opts.loginTimeout)
	_, form, err := getForm(ctx, c, l.opts.base+pathLogin)
	if err != nil {
		return err
	}
	form.Set("login", u.login)
	form.Set("password", floodPassword)
	if resp, body, err := postForm(ctx, c, l.opts.base+pathLogin+"?next=%2Faccount", form); err != nil || resp.Request.URL.Path != "/account" {
		return fmt.Errorf("sign-in: %v %s", err, truncate(body))
	}
	_, form, err = getForm(ctx, c, l.opts.base+pathTOTPStart)
	if err != nil {
		return err
	}
	_, body, err := postForm(ctx, c, l.opts.base+pathTOTPStart, form)
	if err != nil {
		return err
	}
	key, factor := totpSecretField.FindSubmatch(body), factorField.FindSubmatch(body)
	if key == nil || factor == nil {
		return fmt.Errorf("no key on the set-up page: %s", truncate(body))
	}
	u.key = strings.ReplaceAll(string(key[1]), " ", "")
	step := time.Now().Unix() / totpPeriod
	code, err := u.code(step)
	if err != nil {
		return err
	}
	form.Set("factor", string(factor[1]))
	form.Set("code", code)
	resp, body, err := postForm(ctx, c, l.opts.base+pathTOTPConfirm, form)
	if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `id="recovery-codes"`) {
		return fmt.Errorf("confirm: %v %s", err, truncate(body))
	}
	u.lastStep = step
	return nil
}

// code computes u's app code at time step.
func (u *loginUser) code(step int64) (string, error) {
	return totp.GenerateCode(u.key, time.Unix(step*totpPeriod, 0))
}

// pick returns the next user of worker i (of n workers) who may sign in
// now, with the time step of the code they will use (login-mfa). When
// all of the worker's users have used t+1, it waits for the next step.
func (l *logins) pick(ctx context.Context, i, n, round int) (*loginUser, int64, error) {
	mine := len(l.users) / n
	if i < len(l.users)%n {
		mine++
	}
	clock := time.Now
	if l.now != nil {
		clock = l.now
	}
	for {
		now := clock().Unix() / totpPeriod
		for k := range mine {
			u := l.users[i+n*((round+k)%mine)]
			if !l.mfa {
				return u, 0, nil
			}
			if step := max(u.lastStep+1, now-1); step <= now+1 {
				return u, step, nil
			}
		}
		wait := time.Until(time.Unix((now+1)*totpPeriod, 0))
		select {
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// signIn runs one whole sign-in of u (with the app code of step) and
// returns "" on success or what went wrong.
func (l *logins) signIn(ctx context.Context, u *loginUser, step int64) string {
	base := l.opts.base
	c := newBrowserClient(l.rt, l.opts.redirectURI, l.opts.loginTimeout)
	verifier := rand.Text() + rand.Text()
	challenge := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {l.opts.clientID}, "redirect_uri": {l.opts.redirectURI},
		"scope": {"openid"}, "state": {"bench-" + rand.Text()}, "nonce": {rand.Text()},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(challenge[:])}, "code_challenge_method": {"S256"}}
	page, form, err := getForm(ctx, c, base+pathAuthorize+"?"+q.Encode())
	if err != nil {
		return "authorize: " + err.Error()
	}
	if page.Path != pathLogin {
		return "authorize led to " + page.Path
	}
	form.Set("login", u.login)
	form.Set("password", floodPassword)
	resp, body, err := postForm(ctx, c, base+pathLogin, form)
	if err != nil {
		return "login: " + err.Error()
	}
	if l.mfa {
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != pathLoginMFA {
			return fmt.Sprintf("login: status %d at %s, not the two-step page: %s", resp.StatusCode, resp.Request.URL.Path, truncate(body))
		}
		code, err := u.code(step)
		if err != nil {
			return err.Error()
		}
		u.lastStep = step
		form := url.Values{"method": {"totp"}, "code": {code}}
		form.Set("csrf", string(firstMatch(csrfField, body)))
		form.Set("flow", string(firstMatch(flowField, body)))
		if resp, body, err = postForm(ctx, c, base+pathLoginMFA, form); err != nil {
			return "second factor: " + err.Error()
		}
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil || loc.Query().Get("code") == "" {
		return fmt.Sprintf("status %d (Location %q), not a code for the client: %s", resp.StatusCode, resp.Header.Get("Location"), truncate(body))
	}
	return l.exchange(ctx, c, loc.Query().Get("code"), verifier)
}

// exchange redeems code at the token endpoint as the client.
func (l *logins) exchange(ctx context.Context, c *http.Client, code, verifier string) string {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {l.opts.redirectURI},
		"code_verifier": {verifier}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.opts.base+pathToken, strings.NewReader(form.Encode()))
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", basicAuth(l.opts.clientID, l.opts.clientSecret))
	w := &worker{}
	status, msg := w.send(c.Transport, req, nil)
	if msg != "" {
		return "token: " + msg
	}
	var tr struct {
		IDToken string `json:"id_token"`
	}
	if json.Unmarshal(w.buf.Bytes(), &tr) != nil || tr.IDToken == "" {
		return fmt.Sprintf("token: status %d without an id_token", status)
	}
	return ""
}

// firstMatch returns the first group of re in body, or nil.
func firstMatch(re *regexp.Regexp, body []byte) []byte {
	if m := re.FindSubmatch(body); m != nil {
		return m[1]
	}
	return nil
}
