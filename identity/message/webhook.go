package message

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// Headers of a webhook request (see the package documentation).
const (
	WebhookSignatureHeader = "X-Gatehouse-Signature"
	WebhookTimestampHeader = "X-Gatehouse-Timestamp"
)

// minWebhookSecret is the shortest secret NewWebhookSMSSender accepts.
const minWebhookSecret = 32

// WebhookSMSSender posts each text message as JSON {"to", "text", "id"}
// to a URL, signed with HMAC-SHA256 over the timestamp and the body. Any
// 2xx answer means accepted; anything else, redirects included, is an
// error and the message is retried. Error texts hold the status code,
// never the answer's body, which might echo the message.
type WebhookSMSSender struct {
	URL    string
	Secret string
	Client *http.Client     // nil: a client with DefaultHTTPTimeout that follows no redirects
	Now    func() time.Time // nil: time.Now
}

var _ SMSSender = (*WebhookSMSSender)(nil)

// NewWebhookSMSSender returns a sender posting to webhookURL, which must
// be https (http only on loopback), signing with secret (at least 32
// characters).
func NewWebhookSMSSender(webhookURL, secret string) (*WebhookSMSSender, error) {
	if err := checkEndpoint(webhookURL); err != nil {
		return nil, fmt.Errorf("message: sms webhook URL: %w", err)
	}
	if len(secret) < minWebhookSecret {
		return nil, fmt.Errorf("message: sms webhook secret must be at least %d characters", minWebhookSecret)
	}
	return &WebhookSMSSender{URL: webhookURL, Secret: secret, Client: newHTTPClient()}, nil
}

type webhookBody struct {
	To   string `json:"to"`
	Text string `json:"text"`
	ID   string `json:"id"`
}

// SendSMS implements SMSSender.
func (s *WebhookSMSSender) SendSMS(ctx context.Context, to, text string) error {
	id := messageIDFrom(ctx)
	if id == "" {
		id = uuid.NewString()
	}
	body, err := json.Marshal(webhookBody{To: to, Text: text, ID: id})
	if err != nil {
		return fmt.Errorf("message: sms webhook: %w", err)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	ts := strconv.FormatInt(now().Unix(), 10)

	ctx, cancel := context.WithTimeout(ctx, DefaultHTTPTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return errors.New("message: sms webhook: cannot build request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Gatehouse")
	req.Header.Set(WebhookTimestampHeader, ts)
	req.Header.Set(WebhookSignatureHeader, "sha256="+SignWebhook(s.Secret, ts, body))

	client := s.Client
	if client == nil {
		client = newHTTPClient()
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("message: sms webhook: %w", transportError(err))
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("message: sms webhook: status %d", resp.StatusCode)
	}
	return nil
}

// SignWebhook returns the hex HMAC-SHA256 under secret of timestamp, ".",
// and body: the value after "sha256=" in the signature header.
func SignWebhook(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}
