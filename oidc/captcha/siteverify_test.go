package captcha_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"gatehouse/oidc/captcha"
	"gatehouse/oidc/captcha/captchatest"
)

// fakeSiteverify is a siteverify API that accepts the token "good" for
// the secret "s3cret" on path, and records what it was sent.
type fakeSiteverify struct {
	path string
	got  url.Values
}

func (f *fakeSiteverify) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != f.path {
		http.NotFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.got = r.PostForm
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.PostForm.Get("secret") != "s3cret":
		w.Write([]byte(`{"success":false,"error-codes":["invalid-input-secret"]}`))
	case r.PostForm.Get("response") == "good":
		w.Write([]byte(`{"success":true,"hostname":"login.example.com","challenge_ts":"2030-01-01T00:00:00Z"}`))
	case r.PostForm.Get("response") == "broken":
		http.Error(w, "upstream down", http.StatusBadGateway)
	default:
		w.Write([]byte(`{"success":false,"error-codes":["invalid-input-response"]}`))
	}
}

func TestSiteVerifiers(t *testing.T) {
	services := []struct {
		name  string
		path  string
		field string
		new   func(secret, baseURL string) *captcha.SiteVerifier
	}{
		{"turnstile", "/turnstile/v0/siteverify", "cf-turnstile-response", captcha.NewTurnstile},
		{"hcaptcha", "/siteverify", "h-captcha-response", captcha.NewHCaptcha},
		{"recaptcha", "/recaptcha/api/siteverify", "g-recaptcha-response", captcha.NewReCAPTCHA},
	}
	cases := []struct {
		name       string
		secret     string
		field      string // "" means the service's field
		token      string
		wantFailed bool // ErrFailed
		wantErr    bool // another error
		wantCalled bool
	}{
		{name: "success", secret: "s3cret", token: "good", wantCalled: true},
		{name: "rejected token", secret: "s3cret", token: "bad", wantFailed: true, wantCalled: true},
		// Asked all the same: an unreachable service must show as such.
		{name: "missing token", secret: "s3cret", token: "", wantFailed: true, wantCalled: true},
		{name: "other service's field", secret: "s3cret", field: "altcha", token: "good", wantFailed: true, wantCalled: true},
		{name: "wrong secret", secret: "nope", token: "good", wantErr: true, wantCalled: true},
		{name: "service down", secret: "s3cret", token: "broken", wantErr: true, wantCalled: true},
	}
	for _, svc := range services {
		for _, tc := range cases {
			t.Run(svc.name+"/"+tc.name, func(t *testing.T) {
				fake := &fakeSiteverify{path: svc.path}
				srv := httptest.NewServer(fake)
				t.Cleanup(srv.Close)
				v := svc.new(tc.secret, srv.URL)
				v.RemoteIP = func(*http.Request) string { return "192.0.2.7" }
				field := tc.field
				if field == "" {
					field = svc.field
				}
				err := v.Verify(t.Context(), captchatest.FormRequest(field, tc.token))
				if got := errors.Is(err, captcha.ErrFailed); got != tc.wantFailed {
					t.Errorf("Verify() = %v, ErrFailed %v, want %v", err, got, tc.wantFailed)
				}
				if got := err != nil && !errors.Is(err, captcha.ErrFailed); got != tc.wantErr {
					t.Errorf("Verify() = %v, other error %v, want %v", err, got, tc.wantErr)
				}
				if (fake.got != nil) != tc.wantCalled {
					t.Fatalf("siteverify called = %v, want %v", fake.got != nil, tc.wantCalled)
				}
				if tc.wantCalled {
					sent := tc.token
					if field != svc.field {
						sent = ""
					}
					want := url.Values{"secret": {tc.secret}, "response": {sent}, "remoteip": {"192.0.2.7"}}
					if diff := cmp.Diff(want, fake.got); diff != "" {
						t.Errorf("siteverify form mismatch (-want +got):\n%s", diff)
					}
				}
			})
		}
	}
}

func TestSiteVerifierDefaults(t *testing.T) {
	tests := []struct {
		v       *captcha.SiteVerifier
		wantURL string
	}{
		{captcha.NewTurnstile("s", ""), "https://challenges.cloudflare.com/turnstile/v0/siteverify"},
		{captcha.NewHCaptcha("s", ""), "https://api.hcaptcha.com/siteverify"},
		{captcha.NewReCAPTCHA("s", "https://www.recaptcha.net/"), "https://www.recaptcha.net/recaptcha/api/siteverify"},
	}
	for _, tc := range tests {
		if tc.v.URL != tc.wantURL {
			t.Errorf("%s URL = %q, want %q", tc.v.Name, tc.v.URL, tc.wantURL)
		}
		if tc.v.Client == nil || tc.v.Client.Timeout <= 0 {
			t.Errorf("%s client has no timeout", tc.v.Name)
		}
	}
}

// TestSiteVerifierUnreachable: when the service cannot be asked, Verify
// says so with ErrUnavailable, never ErrFailed (the visitor did nothing
// wrong), for a token and for a form without one alike. Answers that blame
// the setup stay plain errors.
func TestSiteVerifierUnreachable(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	status := func(code int, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(code)
			w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release // never answers while the test runs
	}))
	t.Cleanup(hanging.Close)
	t.Cleanup(func() { close(release) }) // runs first

	cases := []struct {
		name            string
		url             string
		wantUnavailable bool
	}{
		{name: "connection refused", url: closed.URL, wantUnavailable: true},
		{name: "no such host", url: "http://siteverify.invalid", wantUnavailable: true},
		{name: "503", url: status(http.StatusServiceUnavailable, "down for maintenance"), wantUnavailable: true},
		{name: "500", url: status(http.StatusInternalServerError, ""), wantUnavailable: true},
		{name: "429", url: status(http.StatusTooManyRequests, ""), wantUnavailable: true},
		{name: "200 that is not JSON", url: status(http.StatusOK, "<html>proxy error</html>"), wantUnavailable: true},
		{name: "timeout", url: hanging.URL, wantUnavailable: true},
		{name: "400 blames the setup", url: status(http.StatusBadRequest, "")},
		{name: "wrong secret blames the setup", url: status(http.StatusOK, `{"success":false,"error-codes":["invalid-input-secret"]}`)},
	}
	for _, tc := range cases {
		for _, token := range []string{"a-token", ""} {
			t.Run(tc.name+"/token "+strconv.Quote(token), func(t *testing.T) {
				v := captcha.NewTurnstile("s3cret", tc.url)
				v.Timeout = 200 * time.Millisecond
				err := v.Verify(t.Context(), captchatest.FormRequest("cf-turnstile-response", token))
				if err == nil {
					t.Fatal("Verify() = nil, want an error")
				}
				if got := errors.Is(err, captcha.ErrUnavailable); got != tc.wantUnavailable {
					t.Errorf("Verify() = %v, ErrUnavailable %v, want %v", err, got, tc.wantUnavailable)
				}
				if errors.Is(err, captcha.ErrFailed) && tc.wantUnavailable {
					t.Errorf("Verify() = %v blames the visitor", err)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("Verify() = %v shows the secret", err)
				}
			})
		}
	}
}
