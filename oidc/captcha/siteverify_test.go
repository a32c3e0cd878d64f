package captcha_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

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
		{name: "missing token", secret: "s3cret", token: "", wantFailed: true},
		{name: "other service's field", secret: "s3cret", field: "altcha", token: "good", wantFailed: true},
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
					want := url.Values{"secret": {tc.secret}, "response": {tc.token}, "remoteip": {"192.0.2.7"}}
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
