package identity_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/identity"
	"gatehouse/identity/audit"
	"gatehouse/migrations/dbtest"
)

func ptr[T any](v T) *T { return &v }

// TestUserAdminUpdate: a patch changes only the fields it sets, an empty
// string clears, a new address is unverified unless said otherwise, the
// problems come back under the claims' names, and the ETag moves with
// every change, even on a frozen clock.
func TestUserAdminUpdate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newAdminFixture(t, db)
		u, err := f.admin.Create(ctx, identity.OperatorActor, identity.AdminCreateInput{Username: "dora", Email: "dora@example.com",
			EmailVerified: true, Phone: "+442079460018", PhoneVerified: true, GivenName: "Dora", FamilyName: "Explorer", Password: "a long password 1"})
		if err != nil {
			t.Fatal(err)
		}
		f.mustUser(t, "other")
		tag := identity.ETag(u)
		if identity.ETag(f.get(t, u.ID)) != tag {
			t.Fatalf("ETag of the created user differs from the stored one's")
		}

		got, err := f.admin.Update(ctx, identity.OperatorActor, u.ID, identity.UserPatch{
			Email: ptr("dora@new.example.com"), FamilyName: ptr(""), Nickname: ptr("D"), Address: &identity.Address{Locality: "Paris"},
		}, tag)
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		if got.Email != "dora@new.example.com" || got.EmailVerified || got.FamilyName != "" || got.GivenName != "Dora" ||
			got.Nickname != "D" || got.Address.Locality != "Paris" || !got.PhoneVerified || got.Username != "dora" {
			t.Errorf("after Update = %+v", got)
		}
		if identity.ETag(got) == tag || identity.ETag(f.get(t, u.ID)) != identity.ETag(got) {
			t.Errorf("ETag did not move with the change, or differs from the stored user's")
		}
		entries, _ := f.audit.List(ctx, audit.Filter{UserID: u.ID, Action: audit.ActionUsersUpdated})
		if len(entries) != 1 || entries[0].Details["fields"] != "email,email_verified,family_name,nickname,address" {
			t.Errorf("audit = %+v, want the fields changed", entries)
		}
		if _, err := f.admin.Update(ctx, identity.OperatorActor, u.ID, identity.UserPatch{Nickname: ptr("E")}, tag); !errors.Is(err, identity.ErrPreconditionFailed) {
			t.Errorf("Update with a stale ETag = %v, want ErrPreconditionFailed", err)
		}
		if f.get(t, u.ID).Nickname != "D" {
			t.Errorf("the stale update was written")
		}
		// Verified on the patch's word; a patch that changes nothing writes nothing.
		got, err = f.admin.Update(ctx, identity.OperatorActor, u.ID, identity.UserPatch{EmailVerified: ptr(true), Phone: ptr("")}, `W/"x", `+identity.ETag(got))
		if err != nil || !got.EmailVerified || got.Phone != "" || got.PhoneVerified {
			t.Errorf("Update(verify, clear phone) = %+v, %v", got, err)
		}
		same, err := f.admin.Update(ctx, identity.OperatorActor, u.ID, identity.UserPatch{GivenName: ptr("Dora")}, "*")
		if err != nil || identity.ETag(same) != identity.ETag(got) {
			t.Errorf("no-op Update = %v, ETag moved %v", err, identity.ETag(same) != identity.ETag(got))
		}
		if entries, _ := f.audit.List(ctx, audit.Filter{UserID: u.ID, Action: audit.ActionUsersUpdated}); len(entries) != 2 {
			t.Errorf("%d update entries, want 2", len(entries))
		}

		_, err = f.admin.Update(ctx, identity.OperatorActor, u.ID, identity.UserPatch{
			Username: ptr("OTHER"), Email: ptr("other@example.com"), Phone: ptr("x"), GivenName: ptr("a\tb"),
			Zoneinfo: ptr("Mars/Olympus"), PhoneVerified: ptr(true),
		}, "")
		var ve *identity.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("Update(bad) = %v, want a ValidationError", err)
		}
		for _, k := range []string{"username", "email", "phone_number", "given_name", "zoneinfo"} {
			if ve.Fields[k] == "" {
				t.Errorf("no problem for %q in %v", k, ve.Fields)
			}
		}
		if _, err := f.admin.Update(ctx, identity.OperatorActor, uuid.NewString(), identity.UserPatch{}, ""); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("Update(unknown) = %v, want ErrNotFound", err)
		}
	})
}

// TestUserAdminUpdateConcurrent: two updates made on the same ETag at
// once: one wins, the other gets ErrPreconditionFailed, whatever the
// order.
func TestUserAdminUpdateConcurrent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newAdminFixture(t, db)
		u := f.mustUser(t, "race")
		for round := range 5 {
			tag := identity.ETag(f.get(t, u.ID))
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i := range errs {
				wg.Go(func() {
					_, errs[i] = f.admin.Update(ctx, identity.OperatorActor, u.ID,
						identity.UserPatch{Nickname: ptr("n" + string(rune('a'+round)))}, tag)
				})
			}
			wg.Wait()
			won, lost := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case errors.Is(err, identity.ErrPreconditionFailed):
					lost++
				default:
					t.Errorf("round %d: Update = %v", round, err)
				}
			}
			if won != 1 || lost != 1 {
				t.Errorf("round %d: %d won, %d lost; want one each", round, won, lost)
			}
		}
	})
}
