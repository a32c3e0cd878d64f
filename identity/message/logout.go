package message

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"gatehouse/identity/egress"
)

// LogoutSender delivers an OpenID Connect Back-Channel Logout token to a
// relying party's backchannel_logout_uri.
type LogoutSender interface {
	SendLogout(ctx context.Context, uri, logoutToken string) error
}

// HTTPLogoutSender posts logout tokens as Back-Channel Logout 1.0 §2.5
// says: a form-encoded logout_token, no redirects followed. The relying
// party chose the URI, so the post goes through the egress client: a
// destination its rules refuse (http, loopback, private networks) fails
// for good. A 2xx answer is success; 400 means the RP rejected the token
// for good (§2.8); any other answer or a network error is retried.
type HTTPLogoutSender struct {
	Client *egress.Client // nil: a client with the strict policy
}

var _ LogoutSender = (*HTTPLogoutSender)(nil)

// SendLogout implements LogoutSender.
func (s *HTTPLogoutSender) SendLogout(ctx context.Context, uri, logoutToken string) error {
	ctx, cancel := context.WithTimeout(ctx, DefaultHTTPTimeout)
	defer cancel()
	body := url.Values{"logout_token": {logoutToken}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, uri, strings.NewReader(body))
	if err != nil {
		return errors.New("message: back-channel logout: cannot build request")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Gatehouse")
	client := s.Client
	if client == nil {
		client = strictEgress
	}
	resp, err := client.Do(req)
	if errors.Is(err, egress.ErrForbiddenDestination) {
		return fmt.Errorf("message: back-channel logout: %w: %w", ErrUndeliverable, transportError(err))
	}
	if err != nil {
		return fmt.Errorf("message: back-channel logout: %w", transportError(err))
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode <= 299:
		return nil
	case resp.StatusCode == http.StatusBadRequest:
		return fmt.Errorf("message: back-channel logout: status 400: %w", ErrUndeliverable)
	}
	return fmt.Errorf("message: back-channel logout: status %d", resp.StatusCode)
}

// strictEgress serves senders built without a client.
var strictEgress = egress.New(egress.Options{})

// SendLogout queues a logout token for a relying party. The token sits in
// the queue until it is delivered (then the body is cleared); its own
// expiry bounds how long a retry can still succeed.
func (q *Queue) SendLogout(ctx context.Context, uri, logoutToken string) error {
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("message: queue logout: not an http(s) URI")
	}
	if logoutToken == "" {
		return errors.New("message: queue logout: empty token")
	}
	return q.enqueue(ctx, kindLogout, uri, "", logoutToken, "", time.Time{})
}
