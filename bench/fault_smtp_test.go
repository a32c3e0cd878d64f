package main

import (
	"bufio"
	"net"
	"net/smtp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sendTestMail delivers one message to the sink the way a mail client
// does and returns the error the client saw.
func sendTestMail(t *testing.T, s *smtpSink, to, subject string) error {
	t.Helper()
	body := "From: a@bench.example.com\r\nTo: " + to + "\r\nSubject: " + subject + "\r\n\r\nhello\r\n"
	return smtp.SendMail(s.addr, nil, "a@bench.example.com", []string{to}, []byte(body))
}

// greeting returns the first line a fresh connection gets, or "" when the
// connection is closed without one.
func greeting(t *testing.T, s *smtpSink) string {
	t.Helper()
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	line, _ := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line)
}

// TestSMTPSinkModes: the sink takes messages while accepting, refuses
// them while closing or busy (counting each refusal) and takes them again
// once switched back, keeping only what it took.
func TestSMTPSinkModes(t *testing.T) {
	s, err := startSMTPSink(sinkAccept)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)

	if got := greeting(t, s); !strings.HasPrefix(got, "220 ") {
		t.Errorf("greeting while accepting: %q, want 220", got)
	}
	if err := sendTestMail(t, s, "ann@bench.example.com", "Gatehouse: reset your password"); err != nil {
		t.Fatalf("send while accepting: %v", err)
	}

	s.set(sinkClose)
	if got := greeting(t, s); got != "" {
		t.Errorf("greeting while closing: %q, want none", got)
	}
	if err := sendTestMail(t, s, "bob@bench.example.com", "Gatehouse: reset your password"); err == nil {
		t.Error("send while closing succeeded")
	}

	s.set(sinkBusy)
	if got := greeting(t, s); !strings.HasPrefix(got, "421 ") {
		t.Errorf("greeting while busy: %q, want 421", got)
	}
	if err := sendTestMail(t, s, "bob@bench.example.com", "Gatehouse: reset your password"); err == nil {
		t.Error("send while busy succeeded")
	}
	if got, want := s.refusals(), 4; got != want {
		t.Errorf("refusals: %d, want %d", got, want)
	}

	s.set(sinkAccept)
	if err := sendTestMail(t, s, "bob@bench.example.com", "Gatehouse: reset your password"); err != nil {
		t.Fatalf("send once accepting again: %v", err)
	}
	if err := sendTestMail(t, s, "cy@bench.example.com", "Gatehouse: verify your e-mail address"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range s.received("reset your password") {
		got = append(got, m.to)
	}
	if diff := cmp.Diff([]string{"ann@bench.example.com", "bob@bench.example.com"}, got); diff != "" {
		t.Errorf("reset mails received (-want +got):\n%s", diff)
	}
}

// TestSMTPSinkBusyMidSession: a session opened while the sink accepted
// gets 421 at MAIL once it has switched to refusing.
func TestSMTPSinkBusyMidSession(t *testing.T) {
	s, err := startSMTPSink(sinkAccept)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	c, err := smtp.Dial(s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s.set(sinkBusy)
	err = c.Mail("a@bench.example.com")
	if err == nil || !strings.HasPrefix(err.Error(), "421") {
		t.Errorf("MAIL after the switch: %v, want 421", err)
	}
	if got := len(s.received("")); got != 0 {
		t.Errorf("%d messages received, want none", got)
	}
}

func TestParseRefusal(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    sinkMode
		wantErr bool
	}{
		{in: "close", want: sinkClose},
		{in: "busy", want: sinkBusy},
		{in: "accept", wantErr: true},
		{in: "421", wantErr: true},
	} {
		got, err := parseRefusal(tc.in)
		if (err != nil) != tc.wantErr || (err == nil && got != tc.want) {
			t.Errorf("parseRefusal(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}
