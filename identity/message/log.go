package message

import (
	"context"
	"log/slog"
)

// devDelivery marks every log record of development delivery, so that
// nobody mistakes one for a sent message and log pipelines can drop them.
const devDelivery = "development"

// LogEmailSender is development delivery for e-mail: it writes the
// message, its plain-text body with links and codes included, to the log
// and sends nothing. It is the only place where codes may appear in logs;
// never use it in production.
type LogEmailSender struct {
	Logger *slog.Logger
}

var _ EmailSender = (*LogEmailSender)(nil)

// SendEmail implements EmailSender.
func (s *LogEmailSender) SendEmail(ctx context.Context, to, subject, text, html string) error {
	s.Logger.WarnContext(ctx, "DEVELOPMENT DELIVERY: e-mail written to the log, not sent",
		"delivery", devDelivery, "message_id", messageIDFrom(ctx),
		"to", to, "subject", subject, "text", text, "html_bytes", len(html))
	return nil
}

// LogSMSSender is development delivery for text messages: it writes the
// message, codes included, to the log and sends nothing. Never use it in
// production.
type LogSMSSender struct {
	Logger *slog.Logger
}

var _ SMSSender = (*LogSMSSender)(nil)

// SendSMS implements SMSSender.
func (s *LogSMSSender) SendSMS(ctx context.Context, to, text string) error {
	s.Logger.WarnContext(ctx, "DEVELOPMENT DELIVERY: text message written to the log, not sent",
		"delivery", devDelivery, "message_id", messageIDFrom(ctx), "to", to, "text", text)
	return nil
}
