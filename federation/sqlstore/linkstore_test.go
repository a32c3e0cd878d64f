package sqlstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/federation"
	"gatehouse/federation/sqlstore"
	"gatehouse/identity"
	idstore "gatehouse/identity/sqlstore"
	"gatehouse/migrations/dbtest"
)

// TestLinkStore: a (connector, subject) pair is linked once; links come
// back by pair and by user, oldest first; touching moves the last login.
func TestLinkStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := sqlstore.NewLinkStore(db)
		at := time.Date(2031, 1, 2, 3, 4, 5, 123456000, time.UTC)
		id := uuid.Must(uuid.NewV7()).String()
		u := &identity.User{ID: id, Username: "alice", Status: identity.StatusActive, CreatedAt: at, UpdatedAt: at}
		if err := idstore.NewUserStore(db).CreateUser(ctx, u, ""); err != nil {
			t.Fatal(err)
		}
		corp := federation.Link{ConnectorID: "corp", Subject: "uuid-1", UserID: id, CreatedAt: at, LastLoginAt: at}
		lab := federation.Link{ConnectorID: "lab", Subject: "uid=alice", UserID: id, CreatedAt: at.Add(time.Second), LastLoginAt: at}
		for _, l := range []federation.Link{lab, corp} {
			if err := s.CreateLink(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.CreateLink(ctx, corp); !errors.Is(err, federation.ErrLinkExists) {
			t.Errorf("CreateLink again = %v, want ErrLinkExists", err)
		}
		if _, err := s.GetLink(ctx, "corp", "uuid-2"); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("GetLink(unknown) = %v, want ErrNotFound", err)
		}
		if err := s.TouchLink(ctx, "corp", "uuid-1", at.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.TouchLink(ctx, "corp", "nope", at); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("TouchLink(unknown) = %v, want ErrNotFound", err)
		}
		corp.LastLoginAt = at.Add(time.Hour)
		got, err := s.GetLink(ctx, "corp", "uuid-1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(corp, *got); diff != "" {
			t.Errorf("GetLink mismatch (-want +got):\n%s", diff)
		}
		all, err := s.UserLinks(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]federation.Link{corp, lab}, all); diff != "" {
			t.Errorf("UserLinks mismatch (-want +got):\n%s", diff)
		}
	})
}
