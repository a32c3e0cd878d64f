package templates

import (
	"encoding/base64"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html/atom"
)

func TestTOTPSetupKey(t *testing.T) {
	r := MustNew(t, testTheme)
	svg := `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`
	in := TOTPSetupPage{
		Action: "/account/security/totp/confirm", CSRF: csrf, FactorID: "f-1",
		Secret: "ABCD EFGH", URI: "otpauth://totp/Gatehouse:ada?secret=ABCDEFGH&issuer=Gatehouse", QRCode: svg,
		Errors: map[string]string{"code": "That code is not right."},
	}
	p := mustRender(t, func(w io.Writer) error { return r.TOTPSetup(w, in) })
	checkLayout(t, r, p, "Set up authenticator app – "+testTheme.ProductName)
	if strings.Contains(p.raw, "<script>") {
		t.Error("the SVG's markup reached the page")
	}
	src, _ := attr(p.byID(t, "totp-qrcode"), "src")
	b64, ok := strings.CutPrefix(src, "data:image/svg+xml;base64,")
	if !ok {
		t.Fatalf("QR code src = %.60q, want a base64 SVG data: URL", src)
	}
	if got, _ := base64.StdEncoding.DecodeString(b64); string(got) != svg {
		t.Errorf("QR code decodes to %q, want %q", got, svg)
	}
	if alt, _ := attr(p.byID(t, "totp-qrcode"), "alt"); alt == "" {
		t.Error("QR code has no alt text")
	}
	if href, _ := attr(p.byID(t, "totp-link"), "href"); href != in.URI {
		t.Errorf("otpauth link = %q, want %q", href, in.URI)
	}
	if got := text(p.byID(t, "totp-secret")); got != "ABCD EFGH" {
		t.Errorf("secret = %q", got)
	}
	code := p.byID(t, "totp-code")
	got := map[string]string{}
	for _, k := range []string{"name", "autocomplete", "inputmode", "aria-describedby"} {
		got[k], _ = attr(code, k)
	}
	want := map[string]string{"name": "code", "autocomplete": "one-time-code", "inputmode": "numeric", "aria-describedby": "code-error code-hint"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("code input mismatch (-want +got):\n%s", diff)
	}
	if got := text(p.byID(t, "code-error")); got != "That code is not right." {
		t.Errorf("code error = %q", got)
	}
	form := p.first(t, atom.Form)
	if diff := cmp.Diff(map[string]string{"csrf": csrf, "factor": "f-1"}, hiddenInputs(form)); diff != "" {
		t.Errorf("hidden inputs mismatch (-want +got):\n%s", diff)
	}
	if got := text(p.byID(t, "totp-submit")); got != "Turn on" {
		t.Errorf("submit button = %q", got)
	}
}

func TestTOTPSetupRecoveryCodes(t *testing.T) {
	r := MustNew(t, testTheme)
	codes := []string{"ABCDE-FGHJK", "LMNPQ-RSTUV"}
	p := mustRender(t, func(w io.Writer) error { return r.TOTPSetup(w, TOTPSetupPage{RecoveryCodes: codes}) })
	var items []string
	for _, li := range elements(p.byID(t, "recovery-codes"), atom.Li) {
		items = append(items, text(li))
	}
	if diff := cmp.Diff(codes, items); diff != "" {
		t.Errorf("recovery code items mismatch (-want +got):\n%s", diff)
	}
	dl := p.byID(t, "recovery-codes-download")
	if name, _ := attr(dl, "download"); name != "recovery-codes.txt" {
		t.Errorf("download name = %q", name)
	}
	href, _ := attr(dl, "href")
	body, ok := strings.CutPrefix(href, "data:text/plain;charset=utf-8,")
	if !ok {
		t.Fatalf("download href = %.60q, want a text data: URL", href)
	}
	file, err := url.PathUnescape(body)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range codes {
		if !strings.Contains(file, c+"\r\n") {
			t.Errorf("downloaded file lacks %s: %q", c, file)
		}
	}
	if href, _ := attr(p.byID(t, "recovery-codes-continue"), "href"); href != defaultSecurityURL {
		t.Errorf("continue = %q, want %q", href, defaultSecurityURL)
	}
	if _, ok := p.ids["totp-code"]; ok {
		t.Error("the code form is still shown after enrolment")
	}
}

func TestMFAChallenge(t *testing.T) {
	r := MustNew(t, testTheme)
	recoveryLink := MFAMethodOption{Method: MFAMethodRecovery, URL: "/login/mfa?flow=fl&method=recovery"}
	sendEmail := MFAMethodOption{Method: MFAMethodEmail, Send: true}
	tests := []struct {
		name       string
		in         MFAChallengePage
		wantInput  map[string]string // nil: no code field
		wantHidden map[string]string // of the first form
		wantSend   string            // text of #mfa-send; "" when absent
		wantOthers map[string]string // id -> text
	}{
		{"app code", MFAChallengePage{Flow: "fl", Others: []MFAMethodOption{recoveryLink, sendEmail}},
			map[string]string{"id": "mfa-code", "name": "code", "autocomplete": "one-time-code", "inputmode": "numeric"},
			map[string]string{"csrf": csrf, "flow": "fl", "method": "totp"}, "",
			map[string]string{"mfa-use-recovery": "Use a recovery code", "mfa-use-email": "Send a code by e-mail"}},
		{"recovery code", MFAChallengePage{Flow: "fl", Method: MFAMethodRecovery,
			Others: []MFAMethodOption{{Method: MFAMethodTOTP, URL: "/login/mfa?flow=fl&method=totp"}}},
			map[string]string{"id": "mfa-recovery-code", "name": "recovery_code", "autocomplete": "one-time-code", "inputmode": ""},
			map[string]string{"csrf": csrf, "flow": "fl", "method": "recovery"}, "",
			map[string]string{"mfa-use-totp": "Use your authenticator app"}},
		{"e-mail code not sent yet", MFAChallengePage{Flow: "fl", Method: MFAMethodEmail, Destination: "a•••@example.com",
			Others: []MFAMethodOption{{Method: MFAMethodSMS, Send: true}}},
			nil, map[string]string{"csrf": csrf, "flow": "fl", "method": "email", "send": "1"}, "Send a code by e-mail",
			map[string]string{"mfa-use-sms": "Send a code by SMS"}},
		{"SMS code sent", MFAChallengePage{Flow: "fl", Method: MFAMethodSMS, Destination: "•••••••••456", Sent: true},
			map[string]string{"id": "mfa-code", "name": "code", "autocomplete": "one-time-code", "inputmode": "numeric"},
			map[string]string{"csrf": csrf, "flow": "fl", "method": "sms"}, "Send a new code", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Action, tc.in.CSRF = "/login/mfa", csrf
			p := mustRender(t, func(w io.Writer) error { return r.MFAChallenge(w, tc.in) })
			checkLayout(t, r, p, "Two-step verification – "+testTheme.ProductName)
			if tc.wantInput == nil {
				if _, ok := p.ids["mfa-code"]; ok {
					t.Error("a code field is shown before a code was sent")
				}
			} else {
				in := p.byID(t, tc.wantInput["id"])
				got := map[string]string{}
				for k := range tc.wantInput {
					got[k], _ = attr(in, k)
				}
				if diff := cmp.Diff(tc.wantInput, got); diff != "" {
					t.Errorf("input mismatch (-want +got):\n%s", diff)
				}
				if label := p.first(t, atom.Label); text(label) == "" {
					t.Error("the code field has no visible label")
				}
			}
			if tc.in.Destination != "" && tc.wantInput != nil && !strings.Contains(text(p.doc), tc.in.Destination) {
				t.Errorf("the page does not say where the code went (%s)", tc.in.Destination)
			}
			if diff := cmp.Diff(tc.wantHidden, hiddenInputs(p.first(t, atom.Form))); diff != "" {
				t.Errorf("hidden inputs mismatch (-want +got):\n%s", diff)
			}
			gotSend := ""
			if n, ok := p.ids["mfa-send"]; ok {
				gotSend = text(n)
			}
			if gotSend != tc.wantSend {
				t.Errorf("send button = %q, want %q", gotSend, tc.wantSend)
			}
			for id, want := range tc.wantOthers {
				if got := text(p.byID(t, id)); got != want {
					t.Errorf("#%s = %q, want %q", id, got, want)
				}
			}
		})
	}
}

// TestTOTPSetupStart: within a sign-in the page first offers one button,
// which carries the flow along.
func TestTOTPSetupStart(t *testing.T) {
	r := MustNew(t, testTheme)
	p := mustRender(t, func(w io.Writer) error {
		return r.TOTPSetup(w, TOTPSetupPage{StartAction: "/account/security/totp", CSRF: csrf, Flow: "fl"})
	})
	if got := text(p.byID(t, "totp-setup")); got != "Set up authenticator app" {
		t.Errorf("button = %q", got)
	}
	if diff := cmp.Diff(map[string]string{"csrf": csrf, "flow": "fl"}, hiddenInputs(p.first(t, atom.Form))); diff != "" {
		t.Errorf("hidden inputs mismatch (-want +got):\n%s", diff)
	}
	for _, id := range []string{"totp-qrcode", "totp-code", "recovery-codes"} {
		if _, ok := p.ids[id]; ok {
			t.Errorf("#%s is shown on the start page", id)
		}
	}
}

// TestMFAChallengeRemember: with RememberFor the challenge form offers a
// labelled checkbox named "remember"; without, none.
func TestMFAChallengeRemember(t *testing.T) {
	r := MustNew(t, testTheme)
	p := mustRender(t, func(w io.Writer) error {
		return r.MFAChallenge(w, MFAChallengePage{Action: "/login/mfa", CSRF: csrf, Flow: "fl", RememberFor: "30 days", Remember: true})
	})
	checkInputs(t, p, map[string]string{"mfa-code": "one-time-code", "mfa-remember": "off"})
	box := p.byID(t, "mfa-remember")
	if name, _ := attr(box, "name"); name != "remember" {
		t.Errorf("checkbox name = %q, want remember", name)
	}
	if _, checked := attr(box, "checked"); !checked {
		t.Error("the checkbox is not ticked with Remember")
	}
	var label string
	for _, l := range elements(p.doc, atom.Label) {
		if f, _ := attr(l, "for"); f == "mfa-remember" {
			label = text(l)
		}
	}
	if want := "Don't ask for a second factor on this browser for 30 days"; label != want {
		t.Errorf("checkbox label = %q, want %q", label, want)
	}

	p = mustRender(t, func(w io.Writer) error {
		return r.MFAChallenge(w, MFAChallengePage{Action: "/login/mfa", CSRF: csrf, Flow: "fl"})
	})
	if _, ok := p.ids["mfa-remember"]; ok {
		t.Error("the checkbox is offered without RememberFor")
	}
}

// TestTOTPSetupLater: within the policy's grace period the start page
// offers "Set up later" with the days left, posting the flow.
func TestTOTPSetupLater(t *testing.T) {
	r := MustNew(t, testTheme)
	p := mustRender(t, func(w io.Writer) error {
		return r.TOTPSetup(w, TOTPSetupPage{StartAction: "/account/security/totp", CSRF: csrf, Flow: "fl",
			LaterAction: "/login/mfa/later", LaterDays: 3})
	})
	if got := text(p.byID(t, "totp-later")); got != "Set up later" {
		t.Errorf("later button = %q", got)
	}
	if got := text(p.byID(t, "totp-later-days")); !strings.Contains(got, "3 more days") {
		t.Errorf("days left = %q, want it to say 3 more days", got)
	}
	forms := elements(p.doc, atom.Form)
	if len(forms) != 2 {
		t.Fatalf("%d forms, want the set-up and the later one", len(forms))
	}
	if action, _ := attr(forms[1], "action"); action != "/login/mfa/later" {
		t.Errorf("later form action = %q", action)
	}
	if diff := cmp.Diff(map[string]string{"csrf": csrf, "flow": "fl"}, hiddenInputs(forms[1])); diff != "" {
		t.Errorf("later form hidden inputs mismatch (-want +got):\n%s", diff)
	}

	p = mustRender(t, func(w io.Writer) error {
		return r.TOTPSetup(w, TOTPSetupPage{StartAction: "/account/security/totp", CSRF: csrf, Flow: "fl"})
	})
	if _, ok := p.ids["totp-later"]; ok {
		t.Error("Set up later is offered without LaterAction")
	}
}
