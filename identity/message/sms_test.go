package message_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"gatehouse/identity/message"
)

const testWebhookSecret = "whsec-0123456789abcdef0123456789abcdef"

// webhookReceiver is a receiver as the package documentation describes
// it: it checks the timestamp against its clock and the signature against
// its secret, and records what it accepts.
type webhookReceiver struct {
	secret string
	now    func() time.Time

	mu       sync.Mutex
	accepted []message.WebhookBody
}

func (rc *webhookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	ts := r.Header.Get("X-Gatehouse-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		http.Error(w, "no timestamp", http.StatusUnauthorized)
		return
	}
	if d := rc.now().Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		http.Error(w, "stale", http.StatusUnauthorized)
		return
	}
	mac := hmac.New(sha256.New, []byte(rc.secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(r.Header.Get("X-Gatehouse-Signature"))) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var b message.WebhookBody
	if err := json.Unmarshal(body, &b); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.accepted = append(rc.accepted, b)
	rc.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func TestWebhookSMSSender(t *testing.T) {
	clk := newClock()
	rc := &webhookReceiver{secret: testWebhookSecret, now: clk.Now}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)

	tests := []struct {
		name    string
		secret  string
		sentAt  time.Duration // sender's clock relative to the receiver's
		wantErr string
	}{
		{name: "signed", secret: testWebhookSecret},
		{name: "wrong secret", secret: strings.Repeat("x", 40), wantErr: "message: sms webhook: status 401"},
		{name: "replayed later", secret: testWebhookSecret, sentAt: -10 * time.Minute, wantErr: "message: sms webhook: status 401"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc.mu.Lock()
			rc.accepted = nil
			rc.mu.Unlock()
			s, err := message.NewWebhookSMSSender(srv.URL+"/sms?token=abc", tc.secret)
			if err != nil {
				t.Fatalf("NewWebhookSMSSender: %v", err)
			}
			s.Now = func() time.Time { return clk.Now().Add(tc.sentAt) }
			ctx := message.WithMessageID(t.Context(), "0190-msg")
			err = s.SendSMS(ctx, "+14155550100", "Your code is 493817")
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("SendSMS error = %v, want %q", err, tc.wantErr)
				}
				if len(rc.accepted) != 0 {
					t.Errorf("receiver accepted %+v", rc.accepted)
				}
				return
			}
			if err != nil {
				t.Fatalf("SendSMS: %v", err)
			}
			want := []message.WebhookBody{{To: "+14155550100", Text: "Your code is 493817", ID: "0190-msg"}}
			if diff := cmp.Diff(want, rc.accepted); diff != "" {
				t.Errorf("accepted mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWebhookErrors(t *testing.T) {
	var status int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status == http.StatusFound {
			http.Redirect(w, r, "/elsewhere", status)
			return
		}
		w.WriteHeader(status)
		io.WriteString(w, "echo: Your code is 493817")
	}))
	t.Cleanup(srv.Close)
	s, err := message.NewWebhookSMSSender(srv.URL, testWebhookSecret)
	if err != nil {
		t.Fatal(err)
	}
	for _, status = range []int{http.StatusFound, http.StatusBadRequest, http.StatusInternalServerError} {
		err := s.SendSMS(t.Context(), "+14155550100", "Your code is 493817")
		want := "message: sms webhook: status " + strconv.Itoa(status)
		if err == nil || err.Error() != want {
			t.Errorf("status %d: SendSMS error = %v, want %q", status, err, want)
		}
	}

	// A refused connection names no URL (it may carry a token).
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	s, err = message.NewWebhookSMSSender(dead.URL+"/?token=tok-secret", testWebhookSecret)
	if err != nil {
		t.Fatal(err)
	}
	err = s.SendSMS(t.Context(), "+14155550100", "hi")
	if err == nil || strings.Contains(err.Error(), "tok-secret") {
		t.Errorf("SendSMS to a closed port: error = %v, want one without the URL", err)
	}
}

const testTwilioSID = "AC0123456789abcdef0123456789abcdef"

// twilioFake is the Messages API as far as the sender uses it.
type twilioFake struct {
	mu    sync.Mutex
	forms []map[string]string
	// status and body answer every request, 201 when status is 0.
	status int
	body   string
}

func (f *twilioFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || user != testTwilioSID || pass != "auth-token" {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"code":20003,"message":"Authenticate","status":401}`)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/"+testTwilioSID+"/Messages.json" {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"code":20404,"message":"The requested resource was not found","status":404}`)
		return
	}
	if err := r.ParseForm(); err != nil || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	form := map[string]string{}
	for k := range r.PostForm {
		form[k] = r.PostForm.Get(k)
	}
	f.mu.Lock()
	f.forms = append(f.forms, form)
	status, body := f.status, f.body
	f.mu.Unlock()
	if status == 0 {
		status, body = http.StatusCreated, `{"sid":"SM0123","status":"queued"}`
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func TestTwilioSMSSender(t *testing.T) {
	tests := []struct {
		name       string
		from       string
		token      string
		status     int
		body       string
		wantForm   map[string]string
		wantErr    string
		wantUndeli bool
	}{
		{
			name: "from number", from: "+15005550006", token: "auth-token",
			wantForm: map[string]string{"To": "+14155550100", "From": "+15005550006", "Body": "Your code is 493817"},
		},
		{
			name: "messaging service", from: "MG0123456789abcdef0123456789abcdef", token: "auth-token",
			wantForm: map[string]string{"To": "+14155550100", "MessagingServiceSid": "MG0123456789abcdef0123456789abcdef", "Body": "Your code is 493817"},
		},
		{
			name: "invalid number", from: "+15005550006", token: "auth-token",
			status: http.StatusBadRequest, body: `{"code":21211,"message":"Invalid 'To' Phone Number: +1415555XXXX","status":400}`,
			wantForm:   map[string]string{"To": "+14155550100", "From": "+15005550006", "Body": "Your code is 493817"},
			wantErr:    "message: twilio: status 400, error 21211: Invalid 'To' Phone Number: +1415555XXXX: message: undeliverable",
			wantUndeli: true,
		},
		{
			name: "server error", from: "+15005550006", token: "auth-token",
			status: http.StatusServiceUnavailable, body: "<html>down</html>",
			wantForm: map[string]string{"To": "+14155550100", "From": "+15005550006", "Body": "Your code is 493817"},
			wantErr:  "message: twilio: status 503",
		},
		{
			name: "wrong token", from: "+15005550006", token: "wrong",
			wantErr: "message: twilio: status 401, error 20003: Authenticate",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &twilioFake{status: tc.status, body: tc.body}
			srv := httptest.NewServer(fake)
			t.Cleanup(srv.Close)
			s, err := message.NewTwilioSMSSender(testTwilioSID, tc.token, tc.from, srv.URL+"/")
			if err != nil {
				t.Fatalf("NewTwilioSMSSender: %v", err)
			}
			err = s.SendSMS(t.Context(), "+14155550100", "Your code is 493817")
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tc.wantErr {
				t.Errorf("SendSMS error = %q, want %q", gotErr, tc.wantErr)
			}
			if got := errors.Is(err, message.ErrUndeliverable); got != tc.wantUndeli {
				t.Errorf("errors.Is(err, ErrUndeliverable) = %v, want %v", got, tc.wantUndeli)
			}
			var want []map[string]string
			if tc.wantForm != nil {
				want = []map[string]string{tc.wantForm}
			}
			if diff := cmp.Diff(want, fake.forms); diff != "" {
				t.Errorf("forms mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewSMSSender(t *testing.T) {
	logger, _ := newTestLogger()
	tests := []struct {
		name     string
		config   message.SMSConfig
		wantType string
		wantErr  string
	}{
		{name: "default is log", config: message.SMSConfig{}, wantType: "*message.LogSMSSender"},
		{name: "log", config: message.SMSConfig{Provider: "log"}, wantType: "*message.LogSMSSender"},
		{
			name:     "webhook",
			config:   message.SMSConfig{Provider: "webhook", WebhookURL: "https://sms.example.com/hook", WebhookSecret: testWebhookSecret},
			wantType: "*message.WebhookSMSSender",
		},
		{
			name:    "webhook over http",
			config:  message.SMSConfig{Provider: "webhook", WebhookURL: "http://sms.example.com/hook", WebhookSecret: testWebhookSecret},
			wantErr: "message: sms webhook URL: must use https (http only on loopback hosts)",
		},
		{
			name:    "webhook short secret",
			config:  message.SMSConfig{Provider: "webhook", WebhookURL: "https://sms.example.com/hook", WebhookSecret: "short"},
			wantErr: "message: sms webhook secret must be at least 32 characters",
		},
		{
			name:     "twilio",
			config:   message.SMSConfig{Provider: "twilio", TwilioAccountSID: testTwilioSID, TwilioAuthToken: "t", TwilioFrom: "+15005550006"},
			wantType: "*message.TwilioSMSSender",
		},
		{
			name:    "twilio bad SID",
			config:  message.SMSConfig{Provider: "twilio", TwilioAccountSID: "SK123", TwilioAuthToken: "t", TwilioFrom: "+15005550006"},
			wantErr: "message: twilio account SID must be AC followed by 32 hex digits",
		},
		{name: "unknown", config: message.SMSConfig{Provider: "carrier-pigeon"},
			wantErr: `message: unknown SMS provider "carrier-pigeon" (want log, webhook or twilio)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := message.NewSMSSender(tc.config, logger)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tc.wantErr {
				t.Fatalf("NewSMSSender error = %q, want %q", gotErr, tc.wantErr)
			}
			if err == nil {
				if got := fmt.Sprintf("%T", s); got != tc.wantType {
					t.Errorf("NewSMSSender = %s, want %s", got, tc.wantType)
				}
			}
		})
	}
	if s, ok := mustSMS(t, message.SMSConfig{Provider: "twilio", TwilioAccountSID: testTwilioSID, TwilioAuthToken: "t", TwilioFrom: "x"}).(*message.TwilioSMSSender); !ok || s.BaseURL != message.DefaultTwilioBaseURL {
		t.Errorf("twilio sender without a base URL uses %q, want %q", s.BaseURL, message.DefaultTwilioBaseURL)
	}
}

func mustSMS(t testing.TB, c message.SMSConfig) message.SMSSender {
	t.Helper()
	logger, _ := newTestLogger()
	s, err := message.NewSMSSender(c, logger)
	if err != nil {
		t.Fatalf("NewSMSSender: %v", err)
	}
	return s
}
