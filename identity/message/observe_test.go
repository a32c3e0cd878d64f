package message

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
		q, w, email, _ := newTestQueue(db, clk)
		var got []string
		w.Observe = func(kind, outcome string) { got = append(got, kind+" "+outcome) }
		w.MaxAttempts, w.BaseBackoff, w.MaxBackoff = 2, time.Minute, time.Minute
		email.err = func(to string) error {
			if to == "down@example.com" {
				return errors.New("connection refused")
			}
			return nil
		}
		for _, to := range []string{"ok@example.com", "down@example.com"} {
			if err := q.SendMail(ctx, identity.Mail{Kind: identity.MailVerifyEmail, To: to, Code: "123456"}); err != nil {
				t.Fatal(err)
			}
		}
		if err := q.SendSMS(ctx, identity.SMS{To: "+12025550143", Text: "code 123456"}); err != nil {
			t.Fatal(err)
		}
		mustDeliver(t, w, 2, 1)
		clk.Advance(2 * time.Minute)
		mustDeliver(t, w, 0, 1)
		want := []string{"email sent", "email retry", "sms sent", "email failed"}
		if diff := cmp.Diff(sorted(want[:3]), sorted(got[:3])); diff != "" || len(got) != 4 || got[3] != want[3] {
			t.Errorf("observed outcomes %v, want %v (first three in any order)\n%s", got, want, diff)
		}
	})
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
