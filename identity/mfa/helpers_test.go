package mfa_test

import (
	"bytes"
	"encoding/base32"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"gorm.io/gorm"

	"gatehouse/identity"
	"gatehouse/identity/mfa"
	"gatehouse/identity/seal"
	"gatehouse/identity/sqlstore"
	"gatehouse/migrations/dbtx"
)

// testClock is a settable clock, safe for concurrent readers.
type testClock struct{ unix atomic.Int64 }

func newTestClock(at time.Time) *testClock {
	c := &testClock{}
	c.unix.Store(at.Unix())
	return c
}

func (c *testClock) Now() time.Time      { return time.Unix(c.unix.Load(), 0).UTC() }
func (c *testClock) Add(d time.Duration) { c.unix.Add(int64(d / time.Second)) }

// start is mid-step, so that ±1 step stays clear of step boundaries.
var start = time.Date(2031, 5, 6, 7, 8, 10, 0, time.UTC)

// fixture is a Service on a real database with one user.
type fixture struct {
	svc    *mfa.Service
	store  *sqlstore.MFAStore
	clock  *testClock
	db     *gorm.DB
	userID string
}

func newFixture(t *testing.T, db *gorm.DB) *fixture {
	t.Helper()
	box, err := seal.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	clock := newTestClock(start)
	store := sqlstore.NewMFAStore(db)
	f := &fixture{
		svc: &mfa.Service{
			Factors: store, Codes: store, Browsers: store, Graces: store, Sealer: box,
			CodeKey: bytes.Repeat([]byte{9}, 32), Issuer: "Gatehouse", Now: clock.Now, Tx: dbtx.New(db),
		},
		store: store, clock: clock, db: db,
	}
	f.userID = mustCreateUser(t, db, "ada")
	return f
}

func mustCreateUser(t *testing.T, db *gorm.DB, name string) string {
	t.Helper()
	u := &identity.User{ID: uuid.NewString(), Username: name, Email: name + "@example.com", Status: identity.StatusActive}
	if err := sqlstore.NewUserStore(db).CreateUser(t.Context(), u, ""); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return u.ID
}

// codeAt computes the 6-digit code of an enrolment's secret at a time.
func codeAt(t testing.TB, e *mfa.Enrolment, at time.Time) string {
	t.Helper()
	secret := strings.ReplaceAll(e.Secret, " ", "")
	if _, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret); err != nil {
		t.Fatalf("secret %q is not base32: %v", e.Secret, err)
	}
	code, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// race runs fn n times at once and returns how many calls returned nil.
func race(n int, fn func() error) (ok int, errs []error) {
	var ready, done sync.WaitGroup
	var mu sync.Mutex
	gate := make(chan struct{})
	for range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-gate
			err := fn()
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
			} else {
				errs = append(errs, err)
			}
		}()
	}
	ready.Wait()
	close(gate)
	done.Wait()
	return ok, errs
}
