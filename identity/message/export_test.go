package message

import "time"

// Internals the external tests reach.

var (
	WithMessageID = withMessageID
	MessageIDFrom = messageIDFrom
	ShortError    = shortError
)

type WebhookBody = webhookBody

const LeaseMargin = leaseMargin

// Backoff is w's delay after the given failed attempt.
func (w *Worker) Backoff(attempt int) time.Duration { return w.backoff(attempt) }

// SMTPSettings returns what NewSMTPSender parsed.
func (s *SMTPSender) SMTPSettings() (host string, port int, implicitTLS bool, username, password, from string) {
	return s.host, s.port, s.implicitTLS, s.username, s.password, s.from.String()
}
