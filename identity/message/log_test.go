package message_test

import (
	"encoding/json"
	"strings"
	"testing"

	"gatehouse/identity/message"
)

func TestDevelopmentDelivery(t *testing.T) {
	logger, logs := newTestLogger()
	email, err := message.NewEmailSender("", "", logger)
	if err != nil {
		t.Fatalf("NewEmailSender: %v", err)
	}
	sms, err := message.NewSMSSender(message.SMSConfig{}, logger)
	if err != nil {
		t.Fatalf("NewSMSSender: %v", err)
	}
	ctx := message.WithMessageID(t.Context(), "0190-dev")
	if err := email.SendEmail(ctx, "ada@example.com", "Verify", "code 493817 https://x.example/v?t=tok", "<p>html</p>"); err != nil {
		t.Fatalf("SendEmail: %v", err)
	}
	if err := sms.SendSMS(ctx, "+14155550100", "code 271828"); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}

	var records []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(logs.String()), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		records = append(records, r)
	}
	// Two warnings at construction, then the two messages.
	if len(records) != 4 {
		t.Fatalf("got %d log records, want 4:\n%s", len(records), logs)
	}
	for _, r := range records {
		if !strings.Contains(r["msg"].(string), "development delivery") && !strings.Contains(r["msg"].(string), "DEVELOPMENT DELIVERY") {
			t.Errorf("record not marked as development delivery: %v", r)
		}
	}
	mail, text := records[2], records[3]
	if mail["delivery"] != "development" || mail["message_id"] != "0190-dev" || mail["to"] != "ada@example.com" ||
		mail["text"] != "code 493817 https://x.example/v?t=tok" {
		t.Errorf("e-mail record = %v, want it marked, with id, recipient and content", mail)
	}
	if text["delivery"] != "development" || text["text"] != "code 271828" || text["to"] != "+14155550100" {
		t.Errorf("SMS record = %v, want it marked, with recipient and content", text)
	}
}

func TestNewEmailSender(t *testing.T) {
	logger, _ := newTestLogger()
	s, err := message.NewEmailSender("smtps://u:pw@mail.example.com", "a@example.com", logger)
	if err != nil {
		t.Fatalf("NewEmailSender: %v", err)
	}
	if _, ok := s.(*message.SMTPSender); !ok {
		t.Errorf("NewEmailSender with a URL = %T, want *SMTPSender", s)
	}
	if _, err := message.NewEmailSender("smtp://mail.example.com", "", logger); err == nil {
		t.Error("NewEmailSender without a from address: error = nil, want one")
	}
	if _, err := message.NewEmailSender("", "", nil); err == nil {
		t.Error("NewEmailSender for development without a logger: error = nil, want one")
	}
}
