package message_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gorm.io/gorm"

	"gatehouse/identity"
	"gatehouse/migrations/dbtest"
)

// TestWorkerObserve: every recorded outcome reaches Observe, so failures
// show in the metrics and not only in the log.
func TestWorkerObserve(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		clk := newClock()
		q, w, email, _ := newTestQueue(t, db, clk)
		var got []string
		w.Observe = func(kind, outcome string) { got = append(got, kind+" "+outcome) }
		w.MaxAge, w.BaseBackoff, w.MaxBackoff = 2*time.Minute, time.Minute, time.Minute
		for _, to := range []string{"ok@example.com", "down@example.com"} {
			if err := q.SendMail(ctx, identity.Mail{Kind: identity.MailVerifyEmail, To: to, Code: "123456"}); err != nil {
				t.Fatal(err)
			}
		}
		if err := q.SendSMS(ctx, identity.SMS{To: "+12025550143", Text: "code 123456"}); err != nil {
			t.Fatal(err)
		}
		if err := q.SendMail(ctx, identity.Mail{Kind: identity.MailVerifyEmail, To: "late@example.com", Code: "123456", ExpiresAt: clk.Now().Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		email.err = func(to string) error {
			if to != "ok@example.com" {
				return errors.New("connection refused")
			}
			return nil
		}
		mustDeliver(t, w, 2, 2)
		clk.Advance(2 * time.Minute) // past MaxAge and the code's expiry
		mustDeliver(t, w, 0, 2)
		want := []string{"email sent", "email retry", "email retry", "sms sent", "email expired", "email failed"}
		if diff := cmp.Diff(sorted(want[:4]), sorted(got[:4])); diff != "" || len(got) != 6 || !slices.Equal(sorted(got[4:]), want[4:]) {
			t.Errorf("observed outcomes %v, want %v (in any order within each pass)\n%s", got, want, diff)
		}
	})
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
