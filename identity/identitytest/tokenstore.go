package identitytest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"gatehouse/identity"
)

// RunTokenStoreTests runs the identity.TokenStore conformance cases, each
// as a subtest with stores from newStores: the token store and a user
// store on the same data, since tokens belong to existing users. Stores
// may share their data with other cases; every case makes its own users.
func RunTokenStoreTests(t *testing.T, newStores func(t *testing.T) (identity.UserStore, identity.TokenStore)) {
	cases := []struct {
		name string
		run  func(t *testing.T, users identity.UserStore, s identity.TokenStore)
	}{
		{"PutGetFind", testTokenPutGetFind},
		{"Replace", testTokenReplace},
		{"Cooldown", testTokenCooldown},
		{"UnknownUser", testTokenUnknownUser},
		{"CountAttempt", testTokenCountAttempt},
		{"UseOnce", testTokenUseOnce},
		{"ConcurrentUse", testTokenConcurrentUse},
		{"ConcurrentAttempts", testTokenConcurrentAttempts},
		{"Delete", testTokenDelete},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			users, tokens := newStores(t)
			tc.run(t, users, tokens)
		})
	}
}

// randomHash returns a unique hex string shaped like a stored hash.
func randomHash() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newToken returns a token of a new stored user, created at base and
// expiring ten minutes later.
func newToken(t testing.TB, users identity.UserStore, p identity.Purpose) *identity.OneTimeToken {
	t.Helper()
	u := newUser(t, "tok")
	mustCreate(t, users, u, "")
	return &identity.OneTimeToken{
		ID:        uuid.Must(uuid.NewV7()).String(),
		UserID:    u.ID,
		Purpose:   p,
		Target:    u.Email,
		CodeHash:  randomHash(),
		TokenHash: randomHash(),
		ExpiresAt: base.Add(10 * time.Minute),
		CreatedAt: base,
	}
}

// next returns a fresh token replacing t, created at the given time.
func next(t *identity.OneTimeToken, created time.Time) *identity.OneTimeToken {
	n := *t
	n.ID = uuid.Must(uuid.NewV7()).String()
	n.CodeHash, n.TokenHash = randomHash(), randomHash()
	n.Attempts, n.UsedAt = 0, nil
	n.CreatedAt, n.ExpiresAt = created, created.Add(10*time.Minute)
	return &n
}

func mustPut(t testing.TB, s identity.TokenStore, tok *identity.OneTimeToken, notBefore time.Time) {
	t.Helper()
	ok, err := s.PutToken(t.Context(), tok, notBefore)
	if err != nil || !ok {
		t.Fatalf("PutToken(%s) = %v, %v; want true, nil", tok.Purpose, ok, err)
	}
}

func mustGetToken(t testing.TB, s identity.TokenStore, userID string, p identity.Purpose) *identity.OneTimeToken {
	t.Helper()
	got, err := s.GetToken(t.Context(), userID, p)
	if err != nil {
		t.Fatalf("GetToken(%s): %v", p, err)
	}
	return got
}

func testTokenPutGetFind(t *testing.T, users identity.UserStore, s identity.TokenStore) {
	ctx := t.Context()
	tok := newToken(t, users, identity.PurposeVerifyEmail)
	tok.CreatedAt = base.In(time.FixedZone("CET", 3600)) // comes back in UTC
	mustPut(t, s, tok, base.Add(-time.Minute))
	want := *tok
	want.CreatedAt = base

	if diff := cmp.Diff(&want, mustGetToken(t, s, tok.UserID, identity.PurposeVerifyEmail)); diff != "" {
		t.Errorf("GetToken mismatch (-want +got):\n%s", diff)
	}
	got, err := s.FindToken(ctx, tok.TokenHash)
	if err != nil {
		t.Fatalf("FindToken: %v", err)
	}
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("FindToken mismatch (-want +got):\n%s", diff)
	}

	// A code-only token (phone) has no link hash, and two of them do not
	// collide on the empty hash.
	for range 2 {
		phone := newToken(t, users, identity.PurposeVerifyPhone)
		phone.TokenHash = ""
		mustPut(t, s, phone, base.Add(-time.Minute))
	}
	if _, err := s.FindToken(ctx, ""); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("FindToken(\"\"): err = %v, want ErrNotFound", err)
	}
	if _, err := s.FindToken(ctx, randomHash()); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("FindToken(unknown): err = %v, want ErrNotFound", err)
	}
	for _, tc := range []struct {
		user string
		p    identity.Purpose
	}{
		{tok.UserID, identity.PurposePasswordReset},
		{uuid.Must(uuid.NewV7()).String(), identity.PurposeVerifyEmail},
		{"not-a-uuid", identity.PurposeVerifyEmail},
	} {
		if _, err := s.GetToken(ctx, tc.user, tc.p); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("GetToken(%q, %s): err = %v, want ErrNotFound", tc.user, tc.p, err)
		}
	}
}

func testTokenReplace(t *testing.T, users identity.UserStore, s identity.TokenStore) {
	ctx := t.Context()
	first := newToken(t, users, identity.PurposeChangeEmail)
	mustPut(t, s, first, base.Add(-time.Minute))
	if _, err := s.CountAttempt(ctx, first.ID, base, identity.MaxCodeAttempts); err != nil {
		t.Fatalf("CountAttempt: %v", err)
	}
	// Another purpose of the same user is a separate token.
	reset := newToken(t, users, identity.PurposePasswordReset)
	reset.UserID = first.UserID
	mustPut(t, s, reset, base.Add(-time.Minute))

	later := base.Add(2 * time.Minute)
	second := next(first, later)
	second.Target = "new." + first.Target
	mustPut(t, s, second, later.Add(-time.Minute))

	if diff := cmp.Diff(second, mustGetToken(t, s, first.UserID, identity.PurposeChangeEmail)); diff != "" {
		t.Errorf("GetToken after replacing mismatch (-want +got):\n%s", diff)
	}
	if _, err := s.FindToken(ctx, first.TokenHash); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("FindToken(replaced link): err = %v, want ErrNotFound", err)
	}
	if err := s.UseToken(ctx, first.ID, later); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("UseToken(replaced id): err = %v, want ErrNotFound", err)
	}
	if got := mustGetToken(t, s, first.UserID, identity.PurposePasswordReset); got.ID != reset.ID {
		t.Errorf("GetToken(password_reset) = %s, want the untouched %s", got.ID, reset.ID)
	}
}

func testTokenCooldown(t *testing.T, users identity.UserStore, s identity.TokenStore) {
	ctx := t.Context()
	first := newToken(t, users, identity.PurposeVerifyPhone)
	mustPut(t, s, first, base.Add(-time.Minute))

	// 30 s later with a one-minute cooldown: refused, first kept.
	at := base.Add(30 * time.Second)
	ok, err := s.PutToken(ctx, next(first, at), at.Add(-time.Minute))
	if err != nil || ok {
		t.Errorf("PutToken within the cooldown = %v, %v; want false, nil", ok, err)
	}
	if got := mustGetToken(t, s, first.UserID, identity.PurposeVerifyPhone); got.ID != first.ID {
		t.Errorf("GetToken after a refused PutToken = %s, want %s", got.ID, first.ID)
	}
	// Exactly at the end of the cooldown: accepted.
	at = base.Add(time.Minute)
	second := next(first, at)
	mustPut(t, s, second, at.Add(-time.Minute))

	// A used token does not hold back the next one.
	if err := s.UseToken(ctx, second.ID, at); err != nil {
		t.Fatalf("UseToken: %v", err)
	}
	third := next(second, at.Add(time.Second))
	mustPut(t, s, third, at.Add(time.Second-time.Minute))
	if got := mustGetToken(t, s, first.UserID, identity.PurposeVerifyPhone); got.ID != third.ID {
		t.Errorf("GetToken after replacing a used token = %s, want %s", got.ID, third.ID)
	}
}

func testTokenUnknownUser(t *testing.T, users identity.UserStore, s identity.TokenStore) {
	tok := newToken(t, users, identity.PurposeVerifyEmail)
	tok.UserID = uuid.Must(uuid.NewV7()).String()
	if _, err := s.PutToken(t.Context(), tok, base); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("PutToken(unknown user): err = %v, want ErrNotFound", err)
	}
}

func testTokenCountAttempt(t *testing.T, users identity.UserStore, s identity.TokenStore) {
	ctx := t.Context()
	tok := newToken(t, users, identity.PurposeVerifyEmail)
	mustPut(t, s, tok, base.Add(-time.Minute))
	for want := 1; want <= identity.MaxCodeAttempts; want++ {
		got, err := s.CountAttempt(ctx, tok.ID, base.Add(time.Minute), identity.MaxCodeAttempts)
		if err != nil || got != want {
			t.Fatalf("CountAttempt #%d = %d, %v; want %d, nil", want, got, err, want)
		}
	}
	if n, err := s.CountAttempt(ctx, tok.ID, base.Add(time.Minute), identity.MaxCodeAttempts); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("CountAttempt past the limit = %d, %v; want ErrNotFound", n, err)
	}
	if got := mustGetToken(t, s, tok.UserID, identity.PurposeVerifyEmail); got.Attempts != identity.MaxCodeAttempts {
		t.Errorf("Attempts = %d, want %d", got.Attempts, identity.MaxCodeAttempts)
	}

	expired := newToken(t, users, identity.PurposeVerifyEmail)
	mustPut(t, s, expired, base.Add(-time.Minute))
	if _, err := s.CountAttempt(ctx, expired.ID, expired.ExpiresAt, identity.MaxCodeAttempts); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("CountAttempt at expiry: err = %v, want ErrNotFound", err)
	}
	used := newToken(t, users, identity.PurposeVerifyEmail)
	mustPut(t, s, used, base.Add(-time.Minute))
	if err := s.UseToken(ctx, used.ID, base); err != nil {
		t.Fatalf("UseToken: %v", err)
	}
	if _, err := s.CountAttempt(ctx, used.ID, base, identity.MaxCodeAttempts); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("CountAttempt(used): err = %v, want ErrNotFound", err)
	}
	if _, err := s.CountAttempt(ctx, "not-a-uuid", base, identity.MaxCodeAttempts); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("CountAttempt(bad id): err = %v, want ErrNotFound", err)
	}
}

func testTokenUseOnce(t *testing.T, users identity.UserStore, s identity.TokenStore) {
	ctx := t.Context()
	tok := newToken(t, users, identity.PurposePasswordReset)
	mustPut(t, s, tok, base.Add(-time.Minute))
	at := base.Add(9 * time.Minute)
	if err := s.UseToken(ctx, tok.ID, at); err != nil {
		t.Fatalf("UseToken: %v", err)
	}
	if err := s.UseToken(ctx, tok.ID, at); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("second UseToken: err = %v, want ErrNotFound", err)
	}
	got := mustGetToken(t, s, tok.UserID, identity.PurposePasswordReset)
	if got.UsedAt == nil || !got.UsedAt.Equal(at) {
		t.Errorf("UsedAt = %v, want %v", got.UsedAt, at)
	}

	expired := newToken(t, users, identity.PurposePasswordReset)
	mustPut(t, s, expired, base.Add(-time.Minute))
	if err := s.UseToken(ctx, expired.ID, expired.ExpiresAt); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("UseToken at expiry: err = %v, want ErrNotFound", err)
	}
}

// testTokenConcurrentUse: of 8 simultaneous uses of one token exactly one
// succeeds.
func testTokenConcurrentUse(t *testing.T, users identity.UserStore, s identity.TokenStore) {
	tok := newToken(t, users, identity.PurposePasswordReset)
	mustPut(t, s, tok, base.Add(-time.Minute))
	errs := runConcurrently(8, func() error { return s.UseToken(t.Context(), tok.ID, base) })
	var ok int
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, identity.ErrNotFound):
			t.Errorf("concurrent UseToken: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of 8 concurrent UseToken calls succeeded, want exactly 1", ok)
	}
}

// testTokenConcurrentAttempts: simultaneous attempts never pass the limit.
func testTokenConcurrentAttempts(t *testing.T, users identity.UserStore, s identity.TokenStore) {
	tok := newToken(t, users, identity.PurposeVerifyEmail)
	mustPut(t, s, tok, base.Add(-time.Minute))
	errs := runConcurrently(12, func() error {
		_, err := s.CountAttempt(t.Context(), tok.ID, base, identity.MaxCodeAttempts)
		return err
	})
	var ok int
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, identity.ErrNotFound):
			t.Errorf("concurrent CountAttempt: %v", err)
		}
	}
	if ok != identity.MaxCodeAttempts {
		t.Errorf("%d of 12 concurrent CountAttempt calls counted, want %d", ok, identity.MaxCodeAttempts)
	}
	if got := mustGetToken(t, s, tok.UserID, identity.PurposeVerifyEmail); got.Attempts != identity.MaxCodeAttempts {
		t.Errorf("Attempts = %d, want %d", got.Attempts, identity.MaxCodeAttempts)
	}
}

// runConcurrently calls fn n times at once and returns the errors.
func runConcurrently(n int, fn func() error) []error {
	errs := make([]error, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			errs[i] = fn()
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return errs
}

func testTokenDelete(t *testing.T, users identity.UserStore, s identity.TokenStore) {
	ctx := t.Context()
	tok := newToken(t, users, identity.PurposeVerifyEmail)
	mustPut(t, s, tok, base.Add(-time.Minute))
	if err := s.DeleteToken(ctx, tok.ID); err != nil {
		t.Fatalf("DeleteToken: %v", err)
	}
	if _, err := s.GetToken(ctx, tok.UserID, identity.PurposeVerifyEmail); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("GetToken after DeleteToken: err = %v, want ErrNotFound", err)
	}
	for _, id := range []string{tok.ID, "not-a-uuid"} {
		if err := s.DeleteToken(ctx, id); err != nil {
			t.Errorf("DeleteToken(%q) of a missing token: %v", id, err)
		}
	}

	// Expiry far before every other case's tokens, which may share the
	// store.
	old := base.AddDate(-20, 0, 0)
	var live *identity.OneTimeToken
	for i, exp := range []time.Duration{-time.Hour, -time.Second, time.Second} {
		tok := newToken(t, users, identity.PurposeVerifyPhone)
		tok.CreatedAt, tok.ExpiresAt = old.Add(-2*time.Hour), old.Add(exp)
		mustPut(t, s, tok, old.Add(-3*time.Hour))
		if i == 2 {
			live = tok
		}
	}
	n, err := s.DeleteExpiredTokens(ctx, old)
	if err != nil || n != 2 {
		t.Errorf("DeleteExpiredTokens = %d, %v; want 2, nil", n, err)
	}
	if got := mustGetToken(t, s, live.UserID, identity.PurposeVerifyPhone); got.ID != live.ID {
		t.Errorf("GetToken(unexpired) = %s, want %s", got.ID, live.ID)
	}
}
