package captcha

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// Default siteverify base URLs; the path is appended.
const (
	TurnstileBaseURL = "https://challenges.cloudflare.com"
	HCaptchaBaseURL  = "https://api.hcaptcha.com"
	ReCAPTCHABaseURL = "https://www.google.com"
)

// DefaultTimeout bounds one siteverify call.
const DefaultTimeout = 10 * time.Second

// SiteVerifier is a Verifier for a hosted CAPTCHA service: it posts the
// widget's token with the secret to the service's siteverify endpoint.
// Turnstile, hCaptcha and reCAPTCHA share this protocol.
type SiteVerifier struct {
	// Name appears in errors: "turnstile", "hcaptcha", "recaptcha".
	Name string
	// URL is the full siteverify endpoint.
	URL string
	// Secret is the site's secret key.
	Secret string
	// Field is the form field the widget fills in.
	Field string
	// Client makes the call; its Timeout and Timeout below both apply.
	Client *http.Client
	// Timeout bounds one call through the context.
	Timeout time.Duration
	// RemoteIP, when set (echo's IPExtractor behind the configured
	// proxies), supplies the visitor address sent as remoteip. Left nil,
	// no address is sent: a proxy's address would be wrong.
	RemoteIP echo.IPExtractor
}

var _ Verifier = (*SiteVerifier)(nil)

// NewTurnstile returns a Verifier for Cloudflare Turnstile. An empty
// baseURL means TurnstileBaseURL.
func NewTurnstile(secret, baseURL string) *SiteVerifier {
	return newSiteVerifier("turnstile", secret, baseURL, TurnstileBaseURL, "/turnstile/v0/siteverify", "cf-turnstile-response")
}

// NewHCaptcha returns a Verifier for hCaptcha. An empty baseURL means
// HCaptchaBaseURL.
func NewHCaptcha(secret, baseURL string) *SiteVerifier {
	return newSiteVerifier("hcaptcha", secret, baseURL, HCaptchaBaseURL, "/siteverify", "h-captcha-response")
}

// NewReCAPTCHA returns a Verifier for Google reCAPTCHA (v2; a v3 token
// passes on success alone, its score is not checked). An empty baseURL
// means ReCAPTCHABaseURL.
func NewReCAPTCHA(secret, baseURL string) *SiteVerifier {
	return newSiteVerifier("recaptcha", secret, baseURL, ReCAPTCHABaseURL, "/recaptcha/api/siteverify", "g-recaptcha-response")
}

func newSiteVerifier(name, secret, baseURL, defaultBase, path, field string) *SiteVerifier {
	if baseURL == "" {
		baseURL = defaultBase
	}
	return &SiteVerifier{
		Name:    name,
		URL:     strings.TrimSuffix(baseURL, "/") + path,
		Secret:  secret,
		Field:   field,
		Client:  &http.Client{Timeout: DefaultTimeout},
		Timeout: DefaultTimeout,
	}
}

// siteverifyResponse is the common part of the three services' answers.
type siteverifyResponse struct {
	Success    bool     `json:"success"`
	ErrorCodes []string `json:"error-codes"`
}

// configErrors are answers that blame the operator's setup, not the
// visitor: they are server faults, not ErrFailed.
var configErrors = []string{"missing-input-secret", "invalid-input-secret", "sitekey-secret-mismatch", "invalid-keys"}

// Verify posts the token in r.Form[v.Field] to the siteverify endpoint.
// A form without a token is checked too: when the service is down its
// widget cannot hand the browser one, and the caller must learn that the
// service is unavailable (ErrUnavailable), not that the visitor failed.
func (v *SiteVerifier) Verify(ctx context.Context, r *http.Request) error {
	token, err := formValue(r, v.Field)
	if err != nil {
		return err
	}
	if len(token) > 4096 {
		return fmt.Errorf("captcha: %s: token too long: %w", v.Name, ErrFailed)
	}
	form := url.Values{"secret": {v.Secret}, "response": {token}}
	if v.RemoteIP != nil {
		if ip := v.RemoteIP(r); ip != "" {
			form.Set("remoteip", ip)
		}
	}
	res, err := v.post(ctx, form)
	if err != nil {
		return err
	}
	if token == "" {
		return fmt.Errorf("captcha: %s: no token: %w", v.Name, ErrFailed)
	}
	if res.Success {
		return nil
	}
	for _, code := range res.ErrorCodes {
		if slices.Contains(configErrors, code) {
			return fmt.Errorf("captcha: %s: misconfigured: %s", v.Name, code)
		}
	}
	return fmt.Errorf("captcha: %s: rejected %v: %w", v.Name, res.ErrorCodes, ErrFailed)
}

func (v *SiteVerifier) post(ctx context.Context, form url.Values) (*siteverifyResponse, error) {
	timeout := v.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("captcha: %s: %w", v.Name, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	client := v.Client
	if client == nil {
		client = &http.Client{Timeout: timeout}
	}
	resp, err := client.Do(req)
	if err != nil {
		// Refused, reset, unresolvable or timed out. The URL holds no
		// secret (it goes in the body), so the error may be logged.
		return nil, fmt.Errorf("%w: %s: siteverify: %w", ErrUnavailable, v.Name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: read siteverify: %w", ErrUnavailable, v.Name, err)
	}
	switch {
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusTooManyRequests:
		return nil, fmt.Errorf("%w: %s: siteverify status %d", ErrUnavailable, v.Name, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		// 4xx: the request itself is wrong, which is the setup's fault.
		return nil, fmt.Errorf("captcha: %s: siteverify status %d", v.Name, resp.StatusCode)
	}
	var res siteverifyResponse
	if err := json.Unmarshal(body, &res); err != nil {
		// A 200 that is not the API's JSON: an error page of something in
		// between, not an answer about the visitor.
		return nil, fmt.Errorf("%w: %s: decode siteverify: %w", ErrUnavailable, v.Name, err)
	}
	return &res, nil
}
