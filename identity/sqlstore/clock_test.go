package sqlstore_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/identity"
	"gatehouse/identity/sqlstore"
	"gatehouse/migrations/dbtest"
)

// TestStoresUseInjectedClock: the times the stores fill in themselves come
// from their Now, not from the wall clock.
func TestStoresUseInjectedClock(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		at := time.Date(2031, 2, 3, 4, 5, 6, 789000, time.UTC)
		now := func() time.Time { return at }
		users := sqlstore.NewUserStore(db)
		users.Now = now
		u := &identity.User{ID: uuid.NewString(), Username: "ada", Email: "ada@example.com", Status: identity.StatusActive}
		if err := users.CreateUser(t.Context(), u, ""); err != nil {
			t.Fatal(err)
		}
		got, err := users.GetUser(t.Context(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.CreatedAt.Equal(at) || !got.UpdatedAt.Equal(at) {
			t.Errorf("user times = %v, %v; want %v", got.CreatedAt, got.UpdatedAt, at)
		}

		tokens := sqlstore.NewTokenStore(db)
		tokens.Now = now
		tok := &identity.OneTimeToken{ID: uuid.NewString(), UserID: u.ID, Purpose: identity.PurposePasswordReset,
			TokenHash: "hash", ExpiresAt: at.Add(time.Hour)}
		if ok, err := tokens.PutToken(t.Context(), tok, time.Time{}); err != nil || !ok {
			t.Fatalf("PutToken = %v, %v", ok, err)
		}
		stored, err := tokens.GetToken(t.Context(), u.ID, identity.PurposePasswordReset)
		if err != nil {
			t.Fatal(err)
		}
		if !stored.CreatedAt.Equal(at) {
			t.Errorf("token CreatedAt = %v, want %v", stored.CreatedAt, at)
		}
	})
}
