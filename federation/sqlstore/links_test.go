package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/federation"
	"gatehouse/federation/sqlstore"
	"gatehouse/identity"
	idstore "gatehouse/identity/sqlstore"
	"gatehouse/migrations/dbtest"
)

// passkeyCount stands in for the passkey store: how many each user has.
type passkeyCount map[string]int

func (p passkeyCount) PasskeyCount(_ context.Context, userID string) (int, error) {
	return p[userID], nil
}

// linkedUser creates a user with the hash (empty: no password) and links
// to the connectors.
func linkedUser(t *testing.T, db *gorm.DB, name, hash string, connectors ...string) string {
	t.Helper()
	ctx := t.Context()
	at := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	id := uuid.Must(uuid.NewV7()).String()
	u := &identity.User{ID: id, Username: name, Status: identity.StatusActive, CreatedAt: at, UpdatedAt: at}
	if err := idstore.NewUserStore(db).CreateUser(ctx, u, hash); err != nil {
		t.Fatal(err)
	}
	for i, c := range connectors {
		l := federation.Link{ConnectorID: c, Subject: name + "-" + c, UserID: id, CreatedAt: at.Add(time.Duration(i) * time.Second), LastLoginAt: at}
		if err := sqlstore.NewLinkStore(db).CreateLink(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

func connectorIDs(t *testing.T, s *federation.Links, userID string) []string {
	t.Helper()
	got, err := s.List(t.Context(), userID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, l := range got {
		ids = append(ids, l.ConnectorID)
	}
	return ids
}

// TestLinksUnlink: a link goes when another way to sign in stays (a
// password, another link, a passkey); the last way is refused and kept;
// naming another user's connector removes nothing of theirs.
func TestLinksUnlink(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		keys := passkeyCount{}
		s := &federation.Links{Store: sqlstore.NewLinkStore(db), Passwords: idstore.NewUserStore(db), Passkeys: keys,
			Names: map[string]string{"corp": "Corporate directory"}}

		withPassword := linkedUser(t, db, "pat", "$argon2id$stand-in", "corp")
		two := linkedUser(t, db, "tom", "", "corp", "lab")
		only := linkedUser(t, db, "olga", "", "corp")
		keyed := linkedUser(t, db, "kim", "", "corp")
		keys[keyed] = 1

		got, err := s.List(ctx, two)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Name != "Corporate directory" || got[1].Name != "lab" || got[0].LinkedAt.IsZero() {
			t.Errorf("List = %+v, want corp (named) then lab (its ID)", got)
		}

		for _, id := range []string{withPassword, keyed} {
			if err := s.Unlink(ctx, id, "corp"); err != nil {
				t.Fatalf("Unlink with another way left: %v", err)
			}
			if ids := connectorIDs(t, s, id); len(ids) != 0 {
				t.Errorf("links after Unlink = %v, want none", ids)
			}
		}
		if err := s.Unlink(ctx, two, "corp"); err != nil {
			t.Fatal(err)
		}
		if err := s.Unlink(ctx, two, "lab"); !errors.Is(err, federation.ErrLastSignInMethod) {
			t.Errorf("Unlink of the last link = %v, want ErrLastSignInMethod", err)
		}
		if ids := connectorIDs(t, s, two); len(ids) != 1 || ids[0] != "lab" {
			t.Errorf("links after refusal = %v, want [lab]", ids)
		}
		if err := s.Unlink(ctx, only, "corp"); !errors.Is(err, federation.ErrLastSignInMethod) {
			t.Errorf("Unlink of the only way = %v, want ErrLastSignInMethod", err)
		}
		if ids := connectorIDs(t, s, only); len(ids) != 1 {
			t.Errorf("links after refusal = %v, want [corp]", ids)
		}

		// An attacker with a password and no link names the victim's
		// connector: nothing of the victim's goes.
		attacker := linkedUser(t, db, "mallory", "$argon2id$stand-in")
		victim := linkedUser(t, db, "vic", "$argon2id$stand-in", "corp", "lab")
		if err := s.Unlink(ctx, attacker, "corp"); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("Unlink of a connector the user has no link to = %v, want ErrNotFound", err)
		}
		if ids := connectorIDs(t, s, victim); len(ids) != 2 {
			t.Errorf("victim's links = %v, want both kept", ids)
		}
		if n, err := sqlstore.NewLinkStore(db).DeleteUserLinks(ctx, attacker, "lab"); err != nil || n != 0 {
			t.Errorf("DeleteUserLinks(attacker, lab) = %d, %v; want 0", n, err)
		}
		if ids := connectorIDs(t, s, victim); len(ids) != 2 {
			t.Errorf("victim's links = %v, want both kept", ids)
		}
	})
}
